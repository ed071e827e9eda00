// The third part of a DSN: the original message's header section, or the
// whole message when RET=FULL asks for it and it fits the cap (RFC 3461
// §4.3, RFC 3464 §2). Not here: choosing RET or the part's media type.
#include <string>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "mta/base/check.h"
#include "mta/relay/dsn_internal.h"
#include "mta/relay/dsn_limits.h"

namespace ringmta::relay::dsn_internal {
namespace {

// Copies message octets as CRLF lines. The spool keeps what the client
// sent; a MIME part must not hold bare CR or LF (RFC 5322 §2.3) nor, when
// labelled 7bit or 8bit, NUL or lines over 998 octets (RFC 2045 §2.7-2.8).
class LineNormalizer {
 public:
  // Takes at most `input_bytes_max` octets; with `headers_only` stops at the
  // blank line ending the header section and folds over-long lines.
  LineNormalizer(uint64_t input_bytes_max, bool headers_only)
      : input_bytes_max_(input_bytes_max), headers_only_(headers_only) {}

  void Feed(std::string_view piece) {
    for (char c : piece) {
      if (done()) return;
      ++taken_;
      if (cr_pending_) {
        cr_pending_ = false;
        EndLine();
        if (c == '\n' || done()) continue;
      }
      if (c == '\r') {
        cr_pending_ = true;
      } else if (c == '\n') {
        EndLine();
      } else {
        PutChar(c);
      }
    }
  }

  // Ends a last line that had no terminator, so the text ends in CRLF.
  void Finish() {
    if (cr_pending_ || line_bytes_ > 0) EndLine();
    cr_pending_ = false;
  }

  bool done() const { return taken_ >= input_bytes_max_ || blank_line_seen_; }
  bool blank_line_seen() const { return blank_line_seen_; }
  bool saw_nul() const { return saw_nul_; }
  bool saw_long_line() const { return saw_long_line_; }
  std::string& text() { return text_; }

 private:
  void EndLine() {
    if (line_bytes_ == 0 && headers_only_) {
      // The blank line is the separator, not part of the header section.
      blank_line_seen_ = true;
      return;
    }
    text_ += "\r\n";
    line_bytes_ = 0;
  }

  void PutChar(char c) {
    if (c == '\0') {
      saw_nul_ = true;
      c = '?';
    }
    if (line_bytes_ == kDsnLineBytesMax) {
      saw_long_line_ = true;
      // A fold keeps a returned header readable (RFC 5322 §2.2.3); a full
      // message with such a line is not returned at all (see below).
      text_ += "\r\n ";
      line_bytes_ = 1;
    }
    text_ += c;
    ++line_bytes_;
  }

  const uint64_t input_bytes_max_;
  const bool headers_only_;
  uint64_t taken_ = 0;
  size_t line_bytes_ = 0;
  bool cr_pending_ = false;
  bool blank_line_seen_ = false;
  bool saw_nul_ = false;
  bool saw_long_line_ = false;
  std::string text_;
};

uint64_t AvailableBytes(const DsnOriginalMessage& original) {
  uint64_t bytes = 0;
  for (std::string_view piece : original.pieces) bytes += piece.size();
  return bytes;
}

ReturnedContent HeaderSection(const DsnOriginalMessage& original, std::string note) {
  LineNormalizer normalizer(kDsnReturnedHeaderBytesMax, /*headers_only=*/true);
  for (std::string_view piece : original.pieces) {
    if (normalizer.done()) break;
    normalizer.Feed(piece);
  }
  const bool whole = AvailableBytes(original) <= kDsnReturnedHeaderBytesMax;
  std::string& text = normalizer.text();
  if (!normalizer.blank_line_seen() && !whole) {
    // Cut at the last complete line: half a field would be worse than none.
    const size_t last_line_end = text.rfind("\r\n");
    text.resize(last_line_end == std::string::npos ? 0 : last_line_end + 2);
    if (!note.empty()) note += " ";
    note += absl::StrCat("The original header section is longer than ",
                         kDsnReturnedHeaderBytesMax, " bytes, so only its beginning is attached.");
  } else {
    normalizer.Finish();
  }
  ReturnedContent content;
  content.body = std::move(text);
  content.eight_bit = HasNonAscii(content.body);
  content.note = std::move(note);
  return content;
}

}  // namespace

ReturnedContent BuildReturnedContent(const DsnOriginalMessage& original, bool want_full,
                                     uint64_t full_bytes_max) {
  if (!want_full) return HeaderSection(original, "");
  if (original.size_bytes > full_bytes_max) {
    return HeaderSection(
        original, absl::StrCat("The original message is ", original.size_bytes,
                               " bytes, more than the ", full_bytes_max,
                               " bytes this server returns whole, so only its headers follow."));
  }
  if (AvailableBytes(original) < original.size_bytes) {
    return HeaderSection(original,
                         "Only the header section of the original message could be attached.");
  }
  LineNormalizer normalizer(original.size_bytes, /*headers_only=*/false);
  for (std::string_view piece : original.pieces) normalizer.Feed(piece);
  normalizer.Finish();
  if (normalizer.saw_nul() || normalizer.saw_long_line()) {
    return HeaderSection(original,
                         "The original message holds NUL octets or lines longer than 998 "
                         "octets, which cannot travel inside a report; only its headers "
                         "follow.");
  }
  ReturnedContent content;
  content.body = std::move(normalizer.text());
  content.full = true;
  content.eight_bit = HasNonAscii(content.body);
  return content;
}

}  // namespace ringmta::relay::dsn_internal
