// Building blocks of GenerateDsn shared by the dsn_*.cc files and their
// tests: text sanitising and folding, the machine-readable report, the
// returned content and the boundary. Not a public API: use dsn.h.
#ifndef RINGMTA_MTA_RELAY_DSN_INTERNAL_H_
#define RINGMTA_MTA_RELAY_DSN_INTERNAL_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/types/span.h"
#include "mta/relay/dsn.h"

namespace ringmta::relay::dsn_internal {

// ---- Text (dsn_text.cc) ----

// Peer or stored text made safe for one header field or text line: CR, LF,
// TAB and runs of spaces become one space; other controls and DEL become
// '?'; bytes >= 0x80 become '?' unless `keep_utf8` and they form valid
// UTF-8. Trimmed, and cut at `bytes_max` without splitting a character.
std::string SafeText(std::string_view text, size_t bytes_max, bool keep_utf8);

// xtext (RFC 3461 §4): "+HH" is the octet HH; a malformed "+" stays as is.
std::string XtextDecode(std::string_view text);

// RFC 6533 §3 utf-8-addr-xtext: printable ASCII except '+', '=' and '\'
// stays; everything else is "\x{HEX}" of its code point (U+FFFD for a
// byte that is not valid UTF-8), so a UTF-8 address fits a 7-bit part.
std::string Utf8AddrXtext(std::string_view address);

bool HasNonAscii(std::string_view text);
bool IsValidUtf8(std::string_view text);

// RFC 5322 §3.3 date-time in UTC, e.g. "Tue, 03 Mar 2026 14:05:09 +0000".
std::string Rfc5322Date(int64_t wall_ms);

// Appends "Name: value\r\n", folded at spaces to stay within 78 octets a
// line where it can and always within 998 (RFC 5322 §2.1.1, §2.2.3). A run
// without spaces longer than a line is broken with a fold, which adds a
// space to the unfolded value: only diagnostics are ever that long.
// `value` must already be SafeText (no CR or LF: CHECKed).
void AppendField(std::string_view name, std::string_view value, std::string* out);

// Appends `text` (SafeText: no CR or LF) as lines of at most 76 octets
// after `indent`, breaking at spaces and, inside a longer run, anywhere
// but within a UTF-8 sequence. Each line ends in CRLF.
void AppendWrapped(std::string_view text, std::string_view indent, std::string* out);

// ---- The machine-readable report (dsn_fields.cc) ----

// "rfc822;addr" for an ASCII address; RFC 6533 §3 "utf-8;addr" otherwise,
// as raw UTF-8 when `global` and as utf-8-addr-xtext when not.
std::string AddressWithType(std::string_view address, bool global);

// The Original-Recipient value from ORCPT= "type;xtext" (decoded, RFC 3461
// §4.2), or empty when ORCPT was absent or malformed (the field is omitted).
std::string OriginalRecipient(std::string_view orcpt, bool global);

// "5.1.1"; a missing code becomes X.0.0 for the action's class.
std::string StatusText(const DsnStatusCode& status, DsnAction action);
std::string_view ActionName(DsnAction action);

// The message/(global-)delivery-status body (RFC 3464 §2.2, §2.3): the
// per-message fields, then one block per reported recipient, blank-line
// separated, ending in CRLF.
std::string DeliveryStatusBody(const DsnRequest& request, absl::Span<const size_t> reported,
                               bool global);

// ---- The human-readable part (dsn_explanation.cc) ----

// Our own words for part 1 (RFC 3464 §2.1): what happened to whom, the
// remote reply quoted and indented so no line begins with "--". `note` is
// appended as a paragraph when not empty.
std::string Explanation(const DsnRequest& request, absl::Span<const size_t> reported,
                        bool global, std::string_view note);

// ---- The returned message (dsn_returned.cc) ----

struct ReturnedContent {
  std::string body;        // CRLF lines, each within 998 octets, ends CRLF
  bool full = false;       // the whole message, not only its headers
  bool eight_bit = false;  // holds octets >= 0x80
  std::string note;        // why less than asked for is returned, or empty
};

// The header section (RFC 6522 text/rfc822-headers) or, when `want_full`
// and the message fits `full_bytes_max` and can travel as a message/rfc822
// part (no NUL, no line over 998 octets), the whole message. Bare CR and
// LF become CRLF (RFC 5322 §2.3); a header line over 998 octets is folded.
ReturnedContent BuildReturnedContent(const DsnOriginalMessage& original, bool want_full,
                                     uint64_t full_bytes_max);

// ---- Assembly (dsn_message.cc) ----

// A multipart boundary (RFC 2046 §5.1.1) that occurs in none of `parts`:
// "=_rm_<hash of seed>_<n>=" with the smallest n not present. An occurrence
// of the fixed prefix blocks at most one n, so one linear pass suffices.
std::string ChooseBoundary(std::string_view seed, absl::Span<const std::string_view> parts);

}  // namespace ringmta::relay::dsn_internal

#endif  // RINGMTA_MTA_RELAY_DSN_INTERNAL_H_
