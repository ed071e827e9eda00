// Delivery Status Notifications (RFC 3464 multipart/report, RFC 3461 rules):
// a pure function from an envelope, per-recipient outcomes and the original
// message to the bounce/delay/success report, or to nothing when none is due.
// Not here: queueing or sending the DSN, nor reading the spool (the relay
// adapts queue records to the small structs below).
#ifndef RINGMTA_MTA_RELAY_DSN_H_
#define RINGMTA_MTA_RELAY_DSN_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/types/span.h"
#include "mta/relay/dsn_limits.h"

namespace ringmta::relay {

// RFC 3464 §2.3.3. kRelayed and kExpanded are success-class actions.
enum class DsnAction { kFailed, kDelayed, kDelivered, kRelayed, kExpanded };

// RET= (RFC 3461 §4.3), mirroring queue::DsnRet.
enum class DsnRet { kNotGiven, kFull, kHeaders };

// NOTIFY= bits (RFC 3461 §4.1), the same values as queue/records.h, so the
// relay copies Recipient::notify unchanged; 0 means the parameter was absent.
inline constexpr uint8_t kDsnNotifyNever = 1;
inline constexpr uint8_t kDsnNotifySuccess = 2;
inline constexpr uint8_t kDsnNotifyFailure = 4;
inline constexpr uint8_t kDsnNotifyDelay = 8;

// RFC 3463 class.subject.detail, mirroring queue::EnhancedStatus. A zero
// class means "unknown": the report then uses X.0.0 for the action's class.
struct DsnStatusCode {
  uint8_t code_class = 0;
  uint16_t subject = 0;
  uint16_t detail = 0;
};

// What the queue knows about the message (queue::MessageBegin).
struct DsnEnvelope {
  std::string sender;  // reverse-path without <>; empty is <> and gets no DSN
  std::string envid;   // ENVID= as received (xtext), or empty
  DsnRet ret = DsnRet::kNotGiven;
  bool smtputf8 = false;
  int64_t received_ms = 0;     // Arrival-Date; 0 omits it
  std::string client_helo;     // Received-From-MTA; empty omits it
  std::string client_address;  // shown beside the HELO name
};

// One recipient's outcome (queue::Recipient plus a RecipientOutcome).
struct DsnRecipientReport {
  std::string final_recipient;  // forward-path without <>
  std::string orcpt;            // ORCPT= as received ("type;xtext"), or empty
  uint8_t notify = 0;           // kDsnNotify* bits
  DsnAction action = DsnAction::kFailed;
  DsnStatusCode status;
  std::string remote_mta;        // host that answered, or empty
  std::string diagnostic;        // the remote reply text, e.g. "550 5.1.1 no"
  int64_t last_attempt_ms = 0;   // 0 omits Last-Attempt-Date
  int64_t retry_until_ms = 0;    // delayed only; 0 omits Will-Retry-Until
};

// The original message as stored: header section, blank line, body. The
// caller may pass only a prefix (see DsnMessageBytesWanted); `size_bytes`
// is always the whole message's size, so the cap is decided without it.
struct DsnOriginalMessage {
  absl::Span<const std::string_view> pieces;
  uint64_t size_bytes = 0;
};

struct DsnRequest {
  DsnEnvelope envelope;
  std::vector<DsnRecipientReport> recipients;
  DsnOriginalMessage original;
  std::string reporting_mta;   // our host name: From:, Reporting-MTA:
  std::string dsn_message_id;  // unique token for the DSN's Message-ID:
  int64_t now_ms = 0;          // the DSN's Date:
};

struct DsnOptions {
  // Delay reports for recipients that gave no NOTIFY (RFC 3461 §4.1 leaves
  // it to us). Off: such senders are mostly programs that cannot act on a
  // warning, and each warning is one more message to a maybe-forged sender.
  bool delay_reports_without_notify = false;
  // What a failure report returns when RET was not given (RFC 3461 §4.3
  // leaves it to us). Headers: enough to identify the message, never
  // echoes content to a possibly forged sender, and keeps bounces small.
  DsnRet ret_default = DsnRet::kHeaders;
  // RET=FULL returns the whole message only up to this size; past it the
  // report returns headers and says so. Clamped to kDsnFullReturnBytesMax.
  uint64_t full_return_bytes_max = kDsnFullReturnBytesDefault;
};

// Octets: a part is labelled 7bit only when it is pure ASCII, else 8bit,
// and the whole DSN then requires 8BITMIME. Addresses with UTF-8 use the
// RFC 6533 global form (message/global-delivery-status, raw UTF-8) when the
// original came with SMTPUTF8 or the sender itself is non-ASCII; otherwise
// they are escaped as RFC 6533 utf-8-addr-xtext, so no raw 8-bit octet ever
// sits in a 7-bit part. Remote diagnostic text is made printable ASCII
// (UTF-8 kept only in the global form), with CR and LF turned into spaces.
struct GeneratedDsn {
  std::string envelope_sender;     // always empty: <> (RFC 5321 §4.5.5)
  std::string envelope_recipient;  // the original sender
  std::string message;             // RFC 5322 message, CRLF line endings
  // Indices into DsnRequest::recipients of the recipients reported.
  std::vector<size_t> reported;
  bool full_message_returned = false;
  // Send with BODY=8BITMIME: a returned part holds 8-bit octets.
  bool requires_8bitmime = false;
  // Send with SMTPUTF8: the report is the RFC 6533 "global" form.
  bool requires_smtputf8 = false;
};

// True if a recipient's NOTIFY asks for a report of `action` (RFC 3461
// §4.1): NEVER never; FAILURE, DELAY, SUCCESS select; absent means
// failures, plus delays when the options say so.
bool NotifyWants(uint8_t notify, DsnAction action, const DsnOptions& options);

// How many leading bytes of the original message GenerateDsn may use, so
// the relay reads no more of the spool than that: the whole message when a
// full return is due and fits the cap, else kDsnReturnedHeaderBytesMax.
uint64_t DsnMessageBytesWanted(const DsnRequest& request, const DsnOptions& options);

// The report for the recipients whose NOTIFY asks for it, or nullopt when
// none does or the sender is <> (a bounce is never bounced, RFC 3461 §6.2,
// RFC 5321 §4.5.5). CHECKs our own inputs: reporting_mta, dsn_message_id.
std::optional<GeneratedDsn> GenerateDsn(const DsnRequest& request, const DsnOptions& options);

}  // namespace ringmta::relay

#endif  // RINGMTA_MTA_RELAY_DSN_H_
