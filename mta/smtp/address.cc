// The RFC 5321 §4.1.2 path grammar as a small recursive-descent parser over a
// string_view cursor. Bytes >= 0x80 are allowed where RFC 6531 §3.3 extends
// atext, qtextSMTP and sub-domain with UTF-8, after a whole-path UTF-8 check.
#include "mta/smtp/address.h"

#include <arpa/inet.h>

#include "absl/strings/ascii.h"
#include "mta/smtp/command.h"
#include "mta/smtp/smtp_limits.h"
#include "mta/smtp/utf8.h"

namespace ringmta::smtp {
namespace {

absl::Status Syntax(std::string_view what) {
  return absl::InvalidArgumentError(std::string(what));
}

bool IsNonAscii(char c) { return static_cast<unsigned char>(c) >= 0x80; }
bool IsAlnum(char c) { return absl::ascii_isalnum(static_cast<unsigned char>(c)); }

// atext (RFC 5322 §3.2.3) plus UTF8-non-ascii (RFC 6532 §3.2).
bool IsAtext(char c) {
  if (IsAlnum(c) || IsNonAscii(c)) return true;
  return std::string_view("!#$%&'*+-/=?^_`{|}~").find(c) != std::string_view::npos;
}

// qtextSMTP = %d32-33 / %d35-91 / %d93-126 (§4.1.2), plus UTF8-non-ascii.
bool IsQtext(char ch) {
  const unsigned char c = static_cast<unsigned char>(ch);
  return (c >= 32 && c <= 126 && c != '"' && c != '\\') || c >= 0x80;
}

// Dot-string = Atom *("." Atom). Returns its length, 0 if none.
size_t DotStringLength(std::string_view text) {
  size_t i = 0;
  while (true) {
    const size_t atom_start = i;
    while (i < text.size() && IsAtext(text[i])) ++i;
    if (i == atom_start) return 0;  // empty atom: leading, trailing or double dot
    if (i == text.size() || text[i] != '.') return i;
    ++i;
  }
}

// Quoted-string = DQUOTE *QcontentSMTP DQUOTE. Returns its length, 0 if bad.
size_t QuotedStringLength(std::string_view text) {
  if (text.empty() || text[0] != '"') return 0;
  for (size_t i = 1; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '"') return i + 1;
    if (c == '\\') {  // quoted-pairSMTP = %d92 %d32-126
      if (i + 1 == text.size()) return 0;
      const unsigned char next = static_cast<unsigned char>(text[i + 1]);
      if (next < 32 || next > 126) return 0;
      ++i;
    } else if (!IsQtext(c)) {
      return 0;
    }
  }
  return 0;
}

// sub-domain = Let-dig [Ldh-str], or a U-label (RFC 6531 §3.3).
bool IsSubDomain(std::string_view label) {
  if (label.empty() || label.size() > limits::kDomainLabelBytesMax) return false;
  if (label.front() == '-' || label.back() == '-') return false;
  for (char c : label) {
    if (!IsAlnum(c) && c != '-' && !IsNonAscii(c)) return false;
  }
  return true;
}

bool IsDottedDomain(std::string_view domain) {
  while (true) {
    const size_t dot = domain.find('.');
    if (!IsSubDomain(domain.substr(0, dot))) return false;
    if (dot == std::string_view::npos) return true;
    domain.remove_prefix(dot + 1);
  }
}

// IPv4-address-literal = Snum 3("." Snum), Snum = 1*3DIGIT 0..255.
bool IsIpv4Literal(std::string_view text) {
  int parts = 0;
  while (true) {
    size_t digits = 0;
    int value = 0;
    while (digits < text.size() && absl::ascii_isdigit(static_cast<unsigned char>(text[digits]))) {
      value = value * 10 + (text[digits] - '0');
      if (++digits > 3) return false;
    }
    if (digits == 0 || value > 255) return false;
    ++parts;
    text.remove_prefix(digits);
    if (text.empty()) return parts == 4;
    if (text[0] != '.' || parts == 4) return false;
    text.remove_prefix(1);
  }
}

// address-literal = "[" ( IPv4 / "IPv6:" IPv6-addr ) "]" (§4.1.3). General
// address literals need an IANA-registered tag; none exists, so none pass.
bool IsAddressLiteral(std::string_view text) {
  if (text.size() < 3 || text.front() != '[' || text.back() != ']') return false;
  const std::string_view inner = text.substr(1, text.size() - 2);
  constexpr std::string_view kIpv6Tag = "IPv6:";
  if (inner.size() > kIpv6Tag.size() && EqualsIgnoreCase(inner.substr(0, 5), kIpv6Tag)) {
    const std::string address(inner.substr(kIpv6Tag.size()));
    // IPv6-addr is hex, ":" and "." only (§4.1.3). Checked before inet_pton,
    // which would stop at an embedded NUL and accept what precedes it.
    if (address.find_first_not_of("0123456789abcdefABCDEF:.") != std::string::npos) return false;
    in6_addr parsed;
    return address.size() <= INET6_ADDRSTRLEN && inet_pton(AF_INET6, address.c_str(), &parsed) == 1;
  }
  return IsIpv4Literal(inner);
}

bool IsDomain(std::string_view domain) {
  if (domain.empty() || domain.size() > limits::kDomainBytesMax) return false;
  return domain.front() == '[' ? IsAddressLiteral(domain) : IsDottedDomain(domain);
}

// A-d-l = At-domain *( "," At-domain ) ":" (§4.1.2): a source route, which
// §C and §3.6.1 tell us to accept and ignore. Returns the bytes to skip.
absl::StatusOr<size_t> SourceRouteLength(std::string_view text) {
  if (text.empty() || text[0] != '@') return 0;
  const size_t colon = text.find(':');
  if (colon == std::string_view::npos) return Syntax("unterminated source route");
  std::string_view route = text.substr(0, colon);
  while (!route.empty()) {
    const size_t comma = route.find(',');
    const std::string_view hop = route.substr(0, comma);
    if (hop.size() < 2 || hop[0] != '@' || !IsDomain(hop.substr(1))) {
      return Syntax("bad source route");
    }
    if (comma == std::string_view::npos) break;
    route.remove_prefix(comma + 1);
    if (route.empty()) return Syntax("bad source route");
  }
  return colon + 1;
}

absl::StatusOr<Path> ParseMailbox(std::string_view inner) {
  auto route = SourceRouteLength(inner);
  if (!route.ok()) return route.status();
  inner.remove_prefix(*route);
  size_t local_length =
      !inner.empty() && inner[0] == '"' ? QuotedStringLength(inner) : DotStringLength(inner);
  if (local_length == 0) return Syntax("bad local part");
  if (local_length > limits::kLocalPartBytesMax) return Syntax("local part too long");
  Path path;
  path.local_part = std::string(inner.substr(0, local_length));
  inner.remove_prefix(local_length);
  if (inner.empty()) {
    // Only the domain-less "<Postmaster>" (§4.1.1.3); the caller decides.
    if (!EqualsIgnoreCase(path.local_part, "Postmaster") || *route != 0) {
      return Syntax("missing domain");
    }
    return path;
  }
  if (inner[0] != '@' || !IsDomain(inner.substr(1))) return Syntax("bad domain");
  path.domain = std::string(inner.substr(1));
  return path;
}

absl::StatusOr<Path> ParsePath(std::string_view text, bool reverse) {
  if (text.size() > limits::kPathBytesMax) return Syntax("path too long");
  if (text.size() < 2 || text.front() != '<' || text.back() != '>') {
    return Syntax("path not in angle brackets");
  }
  const bool non_ascii = HasNonAscii(text);
  if (non_ascii && !IsValidUtf8(text)) return Syntax("malformed UTF-8");
  const std::string_view inner = text.substr(1, text.size() - 2);
  if (inner.empty()) {
    if (!reverse) return Syntax("null forward-path");
    Path path;
    path.is_null = true;
    return path;
  }
  auto path = ParseMailbox(inner);
  if (!path.ok()) return path.status();
  if (reverse && path->domain.empty()) return Syntax("missing domain");
  path->has_non_ascii = HasNonAscii(path->local_part) || HasNonAscii(path->domain);
  return path;
}

}  // namespace

std::string Path::Mailbox() const {
  if (is_null) return std::string();
  if (domain.empty()) return local_part;
  return local_part + "@" + domain;
}

absl::StatusOr<Path> ParseReversePath(std::string_view text) { return ParsePath(text, true); }

absl::StatusOr<Path> ParseForwardPath(std::string_view text) { return ParsePath(text, false); }

}  // namespace ringmta::smtp
