// Line framing: zero-copy when a whole line sits in one chunk, otherwise the
// partial line is kept in a buffer that never exceeds the line bound.
#include "mta/smtp/line_splitter.h"

#include "mta/base/check.h"

namespace ringmta::smtp {

LineSplitter::LineSplitter(size_t line_bytes_max) : line_bytes_max_(line_bytes_max) {
  CHECK(line_bytes_max_ >= 3);
}

void LineSplitter::Reset() {
  partial_.clear();
  skipping_ = false;
  release_partial_ = false;
}

LineSplitter::Event LineSplitter::Next(std::string_view input) {
  if (release_partial_) {
    partial_.clear();
    release_partial_ = false;
  }
  Event event;
  const size_t lf = input.find('\n');
  if (skipping_) {
    if (lf == std::string_view::npos) {
      event.consumed = input.size();
      return event;
    }
    skipping_ = false;
    event.consumed = lf + 1;
    return event;
  }
  if (lf == std::string_view::npos) {
    event.consumed = input.size();
    // The LF is still to come, so the line will be at least one byte longer.
    if (partial_.size() + input.size() + 1 > line_bytes_max_) {
      partial_.clear();
      skipping_ = true;
      event.kind = Event::Kind::kTooLong;
      return event;
    }
    partial_.append(input.data(), input.size());
    return event;
  }
  event.consumed = lf + 1;
  std::string_view line = input.substr(0, lf);
  if (partial_.size() + lf + 1 > line_bytes_max_) {  // checked before copying
    partial_.clear();
    event.kind = Event::Kind::kTooLong;
    return event;
  }
  if (!partial_.empty()) {
    partial_.append(line.data(), line.size());
    line = partial_;
    release_partial_ = true;
  }
  event.bare_lf = line.empty() || line.back() != '\r';
  if (!event.bare_lf) line.remove_suffix(1);
  // Measured as if terminated by CRLF, so a bare-LF line gets no extra byte.
  if (line.size() + 2 > line_bytes_max_) {
    event.kind = Event::Kind::kTooLong;
    return event;
  }
  event.kind = Event::Kind::kLine;
  event.line = line;
  return event;
}

}  // namespace ringmta::smtp
