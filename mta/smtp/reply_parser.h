// Parsing SMTP replies received from a server (RFC 5321 §4.2): strict and
// bounded, one reply at a time over arbitrarily chunked input, with enhanced
// status codes (RFC 2034, RFC 3463) split off. Not here: what a reply means
// (client_protocol decides) or formatting our own replies (reply.h).
#ifndef RINGMTA_MTA_SMTP_REPLY_PARSER_H_
#define RINGMTA_MTA_SMTP_REPLY_PARSER_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "mta/smtp/client_limits.h"
#include "mta/smtp/line_splitter.h"

namespace ringmta::smtp {

// A reply as a server sent it, or one we made up in its place (`local`).
// The text is PEER BYTES: pass it through Summary() (or SanitizePeerText)
// before it reaches a log line or a bounce.
struct ServerReply {
  int code = 0;                    // 200..599; 0 means "no reply"
  std::string enhanced;            // "class.subject.detail" of the first line, or empty
  std::vector<std::string> lines;  // text per line, code and enhanced code removed
  bool local = false;              // synthesised by us, never sent by the server

  bool empty() const { return code == 0; }
  bool IsPositive() const { return code >= 200 && code < 300; }
  bool IsIntermediate() const { return code >= 300 && code < 400; }
  bool IsTransient() const { return code >= 400 && code < 500; }
  bool IsPermanent() const { return code >= 500 && code < 600; }
  // "550 5.1.1 text / more text", printable ASCII only and cut to
  // `bytes_max`, for logs and DSN Diagnostic-Code fields.
  std::string Summary(size_t bytes_max = 512) const;
};

// A reply made up locally (e.g. "server lacks SMTPUTF8"); `text` is ours.
ServerReply LocalReply(int code, std::string_view enhanced, std::string_view text);

// Why the input is not a reply. Any of these ends the connection.
enum class ReplyError {
  kNone,
  kLineTooLong,   // over kClientReplyLineBytesMax
  kBareLf,        // a line ended in LF without CR (see ReplyParser)
  kBadCode,       // not three digits, first 2..5
  kBadSeparator,  // the code is followed by something other than SP, "-" or CRLF
  kCodeMismatch,  // lines of one reply carry different codes (§4.2.1)
  kBadText,       // NUL, CR or another control character other than HT
  kTooManyLines,  // over kClientReplyLinesMax
  kTooManyBytes,  // over kClientReplyBytesMax
};

std::string_view ReplyErrorName(ReplyError error);

// Config may only narrow the limits of client_limits.h.
struct ReplyParserOptions {
  size_t line_bytes_max = limits::kClientReplyLineBytesMax;
  size_t lines_max = limits::kClientReplyLinesMax;
  size_t reply_bytes_max = limits::kClientReplyBytesMax;
  // RFC 5321 §2.3.8 allows only CRLF. Off by default: every MTA we relay to
  // sends CRLF, and a server that does not is broken enough to defer to. Bare
  // LF in replies is no smuggling risk (replies are never passed on), so an
  // operator may turn this on for one odd smarthost.
  bool accept_bare_lf = false;
};

class ReplyParser {
 public:
  explicit ReplyParser(const ReplyParserOptions& options = {});

  struct Step {
    enum class Kind {
      kNeedMore,  // all `consumed` bytes taken, no complete reply yet
      kReply,     // a reply is complete: TakeReply()
      kError,     // `error` says why; the parser stays in error from now on
    };
    Kind kind = Kind::kNeedMore;
    size_t consumed = 0;  // bytes of the input taken by this call
    ReplyError error = ReplyError::kNone;
  };

  // Takes bytes up to the end of at most one reply; call again with the rest.
  Step Feed(std::string_view input);
  // The reply completed by the last kReply step.
  ServerReply TakeReply();
  // Drops a partial reply (after STARTTLS, RFC 3207 §6: nothing received
  // before the handshake may be acted upon). Clears an error too.
  void Reset();
  bool has_partial() const { return splitter_.has_partial() || !partial_.lines.empty(); }

 private:
  ReplyError AddLine(std::string_view line, bool* complete);

  const ReplyParserOptions options_;
  LineSplitter splitter_;
  ServerReply partial_;     // lines so far of the reply being read
  size_t partial_bytes_ = 0;
  ReplyError error_ = ReplyError::kNone;
  bool complete_ = false;   // partial_ holds a whole reply not yet taken
};

// Length of an enhanced status code ("2.1.5", RFC 3463 §2: class 2, 4 or 5,
// then 1-3 digit subject and detail) at the start of `text`, followed by SP
// or the end; 0 if there is none or its class is not `code_class`.
size_t EnhancedCodeLength(std::string_view text, char code_class);

}  // namespace ringmta::smtp

#endif  // RINGMTA_MTA_SMTP_REPLY_PARSER_H_
