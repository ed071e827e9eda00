// UTF-8 well-formedness (RFC 3629 §4) for SMTPUTF8 addresses and parameters
// (RFC 6531 §3.3). Not here: normalisation or IDNA; we relay what we receive.
#ifndef RINGMTA_MTA_SMTP_UTF8_H_
#define RINGMTA_MTA_SMTP_UTF8_H_

#include <string_view>

namespace ringmta::smtp {

// True if `text` is well-formed UTF-8: no overlong forms, no surrogates, no
// code points above U+10FFFF, no truncated sequences.
bool IsValidUtf8(std::string_view text);

// True if any byte is outside US-ASCII.
bool HasNonAscii(std::string_view text);

}  // namespace ringmta::smtp

#endif  // RINGMTA_MTA_SMTP_UTF8_H_
