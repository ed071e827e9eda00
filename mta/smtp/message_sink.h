// The two seams between the SMTP server core and the rest of ringmta: where
// an accepted message goes (MessageSink, implemented by the queue) and who
// may receive mail (RecipientPolicy, the relay/AUTH policy). Not here: any
// implementation; tests use fakes.
#ifndef RINGMTA_MTA_SMTP_MESSAGE_SINK_H_
#define RINGMTA_MTA_SMTP_MESSAGE_SINK_H_

#include <string_view>

#include "absl/status/status.h"
#include "mta/smtp/envelope.h"

namespace ringmta::smtp {

// Receives one message at a time. Statuses become replies through
// ReplyForStatus (reply.h): kResourceExhausted -> 452, kUnavailable -> 451.
class MessageSink {
 public:
  virtual ~MessageSink() = default;
  // A message is starting (DATA accepted, or the first BDAT). May refuse,
  // e.g. kResourceExhausted above the queue's high-water mark.
  virtual absl::Status Begin(const Envelope& envelope) = 0;
  // The decoded (unstuffed, CRLF-only) body, streamed in pieces. An error
  // abandons the message: the server calls Abort and refuses it at its end.
  virtual absl::Status Append(std::string_view body_bytes) = 0;
  // The message begun last will not be committed; drop what was appended.
  virtual void Abort() = 0;
  // Commit is asynchronous (group commit + fdatasync): the server emits
  // Action::kCommit and waits for ServerProtocol::OnCommitted. The I/O layer
  // drives it, so no Commit method appears here.
};

// Decides whether a recipient is accepted (relay policy, later AUTH state).
class RecipientPolicy {
 public:
  virtual ~RecipientPolicy() = default;
  // OK accepts; kPermissionDenied refuses with 554 5.7.1 (relay denied);
  // other codes map through ReplyForStatus.
  virtual absl::Status CheckRecipient(const Envelope& envelope,
                                      const Recipient& recipient) = 0;
};

}  // namespace ringmta::smtp

#endif  // RINGMTA_MTA_SMTP_MESSAGE_SINK_H_
