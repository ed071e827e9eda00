// Parsing one SMTP command line (RFC 5321 §4.1): the verb, its argument, and
// for MAIL/RCPT the path text and ESMTP parameters (§4.1.2). Not here: the
// address grammar (address.h), what parameters mean (mail_params.h), or state.
#ifndef RINGMTA_MTA_SMTP_COMMAND_H_
#define RINGMTA_MTA_SMTP_COMMAND_H_

#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "mta/base/limits.h"

namespace ringmta::smtp {

enum class Verb {
  kUnknown,
  kHelo,
  kEhlo,
  kMail,
  kRcpt,
  kData,
  kBdat,
  kRset,
  kNoop,
  kQuit,
  kVrfy,
  kExpn,
  kHelp,
  kStartTls,
  kAuth,
};

// Views into the line passed to ParseCommand; valid as long as it is.
struct Command {
  Verb verb = Verb::kUnknown;
  std::string_view argument;  // text after the verb, surrounding spaces trimmed
};

// Parses one command line, with or without its CRLF (or bare LF). Verbs are
// case-insensitive (§2.4); an unknown verb is kUnknown, not an error. Errors
// (kInvalidArgument): the line is longer than `line_bytes_max` counting a
// CRLF (§4.5.3.1.4), or holds NUL, CR, LF or another control character other
// than HT, which could smuggle a second command into logs or a later hop.
absl::StatusOr<Command> ParseCommand(
    std::string_view line, size_t line_bytes_max = ringmta::limits::kSmtpCommandLineBytesMax);

// "esmtp-keyword [= esmtp-value]" (§4.1.2). The keyword keeps its case;
// compare it case-insensitively. `value` is empty when there is no "=".
struct EsmtpParam {
  std::string_view keyword;
  std::string_view value;
  bool has_value = false;
};

// The argument of MAIL ("FROM:") or RCPT ("TO:"): the path text including its
// angle brackets, and the parameters after it.
struct PathArgument {
  std::string_view path;
  std::vector<EsmtpParam> params;
};

// Splits a MAIL/RCPT argument. `prefix` is "FROM:" or "TO:" (case-insensitive,
// §4.1.1.2/§4.1.1.3). Spaces between the colon and "<" are tolerated (widely
// sent, harmless); the path must be in angle brackets. A ">" inside a quoted
// local part does not end the path.
absl::StatusOr<PathArgument> ParsePathArgument(std::string_view argument,
                                               std::string_view prefix);

// Parses "Mail-parameters" / "Rcpt-parameters" (§4.1.2): esmtp-param
// *(SP esmtp-param). esmtp-value is %d33-60 / %d62-126, extended by RFC 6531
// §3.3 with UTF-8 non-ASCII; at most limits::kEsmtpParamsMax parameters.
absl::StatusOr<std::vector<EsmtpParam>> ParseEsmtpParams(std::string_view text);

// True when `line` is plainly not SMTP but an HTTP request ("GET / HTTP/1.1",
// "CONNECT host:25 HTTP/1.0"): a browser, proxy or cross-protocol probe aimed
// at the SMTP port. No such verb exists in SMTP, and such a peer will never
// speak it, so the server ends the session instead of counting errors.
bool LooksLikeHttpRequest(std::string_view line);

// Case-insensitive ASCII comparison, for verbs, keywords and values.
bool EqualsIgnoreCase(std::string_view a, std::string_view b);

}  // namespace ringmta::smtp

#endif  // RINGMTA_MTA_SMTP_COMMAND_H_
