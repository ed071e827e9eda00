// Bounded CRLF line framing for SMTP commands over arbitrarily chunked input.
// A line longer than the bound is reported once and the rest of it skipped up
// to its LF, never buffered (RFC 5321 §4.5.3.1.4). Not here: DATA bodies
// (data_codec.h frames those) or what a bare LF means (the caller's policy).
#ifndef RINGMTA_MTA_SMTP_LINE_SPLITTER_H_
#define RINGMTA_MTA_SMTP_LINE_SPLITTER_H_

#include <string>
#include <string_view>

namespace ringmta::smtp {

class LineSplitter {
 public:
  // `line_bytes_max` counts the line with a two-byte CRLF.
  explicit LineSplitter(size_t line_bytes_max);

  struct Event {
    enum class Kind {
      kNone,     // no complete line yet; `consumed` bytes were taken
      kLine,     // `line` (without its terminator) is complete
      kTooLong,  // a line exceeded the bound; its remainder will be skipped
    };
    Kind kind = Kind::kNone;
    std::string_view line;  // valid until the next call to Next or Reset
    bool bare_lf = false;   // the line ended in LF without CR (RFC 5321 §2.3.8)
    size_t consumed = 0;    // bytes of the input taken by this call
  };

  // Takes bytes from `input` up to and including the next LF, or all of it.
  // Call again with the rest while `consumed` < input.size().
  Event Next(std::string_view input);

  // Drops any partial line (STARTTLS discards buffered plaintext, RFC 3207 §6).
  void Reset();

  // True if a partial line is buffered or being skipped.
  bool has_partial() const { return (!partial_.empty() && !release_partial_) || skipping_; }

 private:
  const size_t line_bytes_max_;
  std::string partial_;    // start of a line whose LF has not arrived; bounded
  bool skipping_ = false;  // inside an over-long line, discarding up to LF
  bool release_partial_ = false;  // the last kLine viewed partial_
};

}  // namespace ringmta::smtp

#endif  // RINGMTA_MTA_SMTP_LINE_SPLITTER_H_
