// One message as the SMTP client hands it to a server, and what came of it:
// the envelope in (sender, recipients, ESMTP parameters from the queue) and
// the per-recipient outcome out. Not here: the body (streamed separately)
// or what to do with an outcome (retry and bounce belong to mta/relay).
#ifndef RINGMTA_MTA_SMTP_CLIENT_MESSAGE_H_
#define RINGMTA_MTA_SMTP_CLIENT_MESSAGE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "mta/smtp/envelope.h"
#include "mta/smtp/reply_parser.h"

namespace ringmta::smtp {

struct OutboundMessage {
  std::string mail_from;               // "local@domain"; empty: the null path "<>"
  std::vector<Recipient> recipients;   // mailbox, NOTIFY, ORCPT (RFC 3461)
  uint64_t size_bytes = 0;             // body size for SIZE= (RFC 1870); 0: unknown
  BodyType body = BodyType::kUnspecified;  // k8BitMime needs the server's 8BITMIME
  bool smtputf8 = false;               // needs the server's SMTPUTF8 (RFC 6531)
  DsnRet ret = DsnRet::kUnspecified;   // RET= when the server offers DSN
  std::string envid;                   // ENVID= xtext when the server offers DSN
};

struct RecipientResult {
  int index = 0;  // into OutboundMessage::recipients
  // The reply to this RCPT. When MAIL was refused, the message was refused
  // locally or the connection failed before this RCPT was answered, it is the
  // reply that decided its fate instead (MAIL's, ours, or the 421).
  ServerReply rcpt_reply;
  bool accepted() const { return rcpt_reply.IsPositive(); }
};

struct MessageResult {
  std::vector<RecipientResult> recipients;  // one per recipient, in order
  // The reply that decides every accepted recipient: the server's answer to
  // the end of the body, or the refusal of DATA or a BDAT chunk, or the 421
  // or local reply that ended the connection. Empty when nobody was accepted.
  ServerReply final_reply;
  // The end of the body was sent and no reply came (timeout, lost
  // connection, garbage): the server may have taken the message for every
  // recipient whose Outcome is `local`. Log those as "delivery uncertain"
  // and do not blindly retry them (DESIGN §3).
  bool uncertain = false;

  // What happened to recipient `i`: its RCPT refusal, else the final reply.
  const ServerReply& Outcome(size_t i) const {
    const RecipientResult& r = recipients[i];
    return r.accepted() ? final_reply : r.rcpt_reply;
  }
};

}  // namespace ringmta::smtp

#endif  // RINGMTA_MTA_SMTP_CLIENT_MESSAGE_H_
