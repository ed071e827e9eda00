// RFC 5321 §4.1.2 paths: reverse-path ("<>" or a mailbox) and forward-path,
// with quoted local parts, address literals (§4.1.3), source routes tolerated
// and dropped (§C), SMTPUTF8 mailboxes (RFC 6531 §3.3) and the §4.5.3.1
// length bounds. Not here: whether UTF-8 is allowed (the caller checks
// `has_non_ascii` against SMTPUTF8) or routing by domain.
#ifndef RINGMTA_MTA_SMTP_ADDRESS_H_
#define RINGMTA_MTA_SMTP_ADDRESS_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace ringmta::smtp {

struct Path {
  bool is_null = false;     // "<>": the null reverse-path (bounces)
  std::string local_part;   // exactly as sent, quotes and escapes kept
  std::string domain;       // as sent; "[...]" for an address literal;
                            // empty for "<>" and the bare "<Postmaster>"
  bool has_non_ascii = false;  // needs SMTPUTF8 (RFC 6531 §3.4)

  // "local@domain", "Postmaster" for the bare form, "" for the null path.
  std::string Mailbox() const;
};

// Parses a reverse-path (MAIL FROM): "<>" or "<mailbox>". `text` is exactly
// the bracketed path (command.h's PathArgument::path). kInvalidArgument on
// bad syntax, bad UTF-8, or a length over the §4.5.3.1 bounds.
absl::StatusOr<Path> ParseReversePath(std::string_view text);

// Parses a forward-path (RCPT TO): "<mailbox>" or the domain-less
// "<Postmaster>" every server must accept (§4.1.1.3). No null path.
absl::StatusOr<Path> ParseForwardPath(std::string_view text);

}  // namespace ringmta::smtp

#endif  // RINGMTA_MTA_SMTP_ADDRESS_H_
