// Text helpers for DSNs: making stored and peer text safe for one header
// line, xtext and RFC 6533 escapes, dates and folding. Not here: what goes
// into which field (dsn_fields.cc) or part (dsn_message.cc).
#include <time.h>

#include <cstdio>
#include <string>
#include <string_view>

#include "mta/base/check.h"
#include "mta/relay/dsn_internal.h"
#include "mta/relay/dsn_limits.h"

namespace ringmta::relay::dsn_internal {
namespace {

// Length of the well-formed UTF-8 sequence at text[i] (RFC 3629 §4: no
// overlong forms, surrogates or code points past U+10FFFF), or 0.
size_t DecodeUtf8(std::string_view text, size_t i, uint32_t* code_point) {
  const auto lead = static_cast<unsigned char>(text[i]);
  size_t length = 0;
  uint32_t value = 0;
  uint32_t smallest = 0;
  if (lead < 0x80) {
    *code_point = lead;
    return 1;
  } else if ((lead & 0xE0) == 0xC0) {
    length = 2, value = lead & 0x1F, smallest = 0x80;
  } else if ((lead & 0xF0) == 0xE0) {
    length = 3, value = lead & 0x0F, smallest = 0x800;
  } else if ((lead & 0xF8) == 0xF0) {
    length = 4, value = lead & 0x07, smallest = 0x10000;
  } else {
    return 0;
  }
  if (text.size() - i < length) return 0;
  for (size_t k = 1; k < length; ++k) {
    const auto next = static_cast<unsigned char>(text[i + k]);
    if ((next & 0xC0) != 0x80) return 0;
    value = (value << 6) | (next & 0x3F);
  }
  if (value < smallest || value > 0x10FFFF || (value >= 0xD800 && value <= 0xDFFF)) return 0;
  *code_point = value;
  return length;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// Where to cut a run of `text` so the piece is at most `bytes_max` octets
// and does not end inside a UTF-8 sequence.
size_t CutPoint(std::string_view text, size_t bytes_max) {
  if (text.size() <= bytes_max) return text.size();
  size_t cut = bytes_max;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  return cut == 0 ? bytes_max : cut;
}

}  // namespace

bool HasNonAscii(std::string_view text) {
  for (unsigned char c : text) {
    if (c >= 0x80) return true;
  }
  return false;
}

bool IsValidUtf8(std::string_view text) {
  uint32_t code_point = 0;
  for (size_t i = 0; i < text.size();) {
    const size_t length = DecodeUtf8(text, i, &code_point);
    if (length == 0) return false;
    i += length;
  }
  return true;
}

std::string SafeText(std::string_view text, size_t bytes_max, bool keep_utf8) {
  std::string out;
  bool space_pending = false;
  for (size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      // Line breaks from a multi-line reply become spaces: a peer's CR LF
      // must never start a header or MIME line of ours.
      space_pending = !out.empty();
      ++i;
      continue;
    }
    uint32_t code_point = 0;
    size_t length = 1;
    std::string_view piece = "?";
    if (c >= 0x21 && c < 0x7F) {
      piece = text.substr(i, 1);
    } else if (c >= 0x80 && keep_utf8 && (length = DecodeUtf8(text, i, &code_point)) > 0) {
      piece = text.substr(i, length);
    } else {
      length = 1;
    }
    if (out.size() + (space_pending ? 1 : 0) + piece.size() > bytes_max) break;
    if (space_pending) out += ' ';
    space_pending = false;
    out += piece;
    i += length;
  }
  return out;
}

std::string XtextDecode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '+' && i + 2 < text.size() && HexValue(text[i + 1]) >= 0 &&
        HexValue(text[i + 2]) >= 0) {
      out += static_cast<char>(HexValue(text[i + 1]) * 16 + HexValue(text[i + 2]));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

std::string Utf8AddrXtext(std::string_view address) {
  std::string out;
  for (size_t i = 0; i < address.size();) {
    const auto c = static_cast<unsigned char>(address[i]);
    if (c >= 0x21 && c <= 0x7E && c != '+' && c != '=' && c != '\\') {
      out += static_cast<char>(c);
      ++i;
      continue;
    }
    uint32_t code_point = 0;
    size_t length = DecodeUtf8(address, i, &code_point);
    if (length == 0) code_point = 0xFFFD, length = 1;
    char escape[16];
    std::snprintf(escape, sizeof escape, "\\x{%02X}", static_cast<unsigned>(code_point));
    out += escape;
    i += length;
  }
  return out;
}

std::string Rfc5322Date(int64_t wall_ms) {
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const time_t seconds = static_cast<time_t>(wall_ms / 1000);
  tm utc{};
  gmtime_r(&seconds, &utc);
  // Names from our own tables, not strftime: the locale must not leak in.
  char text[64];
  std::snprintf(text, sizeof text, "%s, %02d %s %04d %02d:%02d:%02d +0000",
                kDays[utc.tm_wday % 7], utc.tm_mday, kMonths[utc.tm_mon % 12],
                utc.tm_year + 1900, utc.tm_hour, utc.tm_min, utc.tm_sec);
  return text;
}

void AppendField(std::string_view name, std::string_view value, std::string* out) {
  CHECK(!name.empty() && name.size() < 64);
  CHECK(value.find_first_of("\r\n") == std::string_view::npos);
  // Pieces of an unbroken run: short enough that name, colon and space fit
  // before one on the first line, and one space before it on a fold.
  constexpr size_t kPieceBytesMax = kDsnLineBytesMax - 80;
  *out += name;
  *out += ':';
  size_t line_bytes = name.size() + 1;
  bool line_has_token = false;
  for (size_t pos = 0; pos < value.size();) {
    size_t end = value.find(' ', pos);
    if (end == std::string_view::npos) end = value.size();
    std::string_view token = value.substr(pos, end - pos);
    pos = end + 1;
    while (!token.empty()) {
      const size_t cut = CutPoint(token, kPieceBytesMax);
      const std::string_view piece = token.substr(0, cut);
      token.remove_prefix(cut);
      // RFC 5322 §2.2.3: folding is CRLF before whitespace; the space we
      // write next becomes the continuation line's leading WSP.
      if (line_has_token && line_bytes + 1 + piece.size() > kDsnLineBytesSoft) {
        *out += "\r\n";
        line_bytes = 0;
      }
      *out += ' ';
      *out += piece;
      line_bytes += 1 + piece.size();
      line_has_token = true;
      // Invariant: no line we write reaches RFC 5322's hard limit.
      CHECK(line_bytes <= kDsnLineBytesMax);
    }
  }
  *out += "\r\n";
}

void AppendWrapped(std::string_view text, std::string_view indent, std::string* out) {
  CHECK(text.find_first_of("\r\n") == std::string_view::npos);
  constexpr size_t kWidth = 76;
  CHECK(indent.size() < kWidth / 2);
  const size_t room = kWidth - indent.size();
  std::string line;
  auto flush = [&] {
    if (line.empty()) return;
    *out += indent;
    *out += line;
    *out += "\r\n";
    line.clear();
  };
  for (size_t pos = 0; pos < text.size();) {
    size_t end = text.find(' ', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view word = text.substr(pos, end - pos);
    pos = end + 1;
    while (!word.empty()) {
      const size_t cut = CutPoint(word, room);
      if (!line.empty() && line.size() + 1 + cut > room) flush();
      if (!line.empty()) line += ' ';
      line += word.substr(0, cut);
      word.remove_prefix(cut);
      if (!word.empty()) flush();
    }
  }
  flush();
}

}  // namespace ringmta::relay::dsn_internal
