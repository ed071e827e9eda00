// SMTP replies: formatting single- and multi-line replies (RFC 5321 §4.2)
// with enhanced status codes (RFC 2034, RFC 3463), and the ONE mapping from
// absl::Status to the reply a client sees. Not here: which event gets which
// reply (server_protocol decides), or parsing replies (the client's job).
#ifndef RINGMTA_MTA_SMTP_REPLY_H_
#define RINGMTA_MTA_SMTP_REPLY_H_

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/types/span.h"

namespace ringmta::smtp {

struct Reply {
  int code = 0;          // 200..599 (RFC 5321 §4.2.1)
  std::string enhanced;  // "class.subject.detail" (RFC 3463 §2), or empty
  std::string text;      // our own text: never peer bytes, never CR or LF

  bool IsPositive() const { return code >= 200 && code < 400; }
  bool IsTransient() const { return code >= 400 && code < 500; }
  bool IsPermanent() const { return code >= 500; }
};

// Appends "code enhanced text\r\n". The text is ours, so a CR, LF or a line
// over RFC 5321 §4.5.3.1.5's 512 octets is a bug in the caller (CHECK).
void AppendReply(const Reply& reply, std::string* out);

// Appends a multi-line reply: "code-enhanced line\r\n" for all but the last
// line, "code enhanced line\r\n" for the last (RFC 5321 §4.2.1). `enhanced`
// may be empty (EHLO's reply carries none, RFC 2034 §3). `lines` non-empty.
void AppendMultilineReply(int code, std::string_view enhanced,
                          absl::Span<const std::string> lines, std::string* out);

// The one place an absl::Status becomes an SMTP reply (STYLE practice 4):
// what to retry is 4xx, what never will succeed is 5xx. Internal errors are
// 4xx: a bug of ours must never bounce a client's mail permanently. The
// status message is not shown to the peer (it may hold paths or peer data).
Reply ReplyForStatus(const absl::Status& status);

}  // namespace ringmta::smtp

#endif  // RINGMTA_MTA_SMTP_REPLY_H_
