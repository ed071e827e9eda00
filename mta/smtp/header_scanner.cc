// A byte-at-a-time state machine over the header section (RFC 5322 §2.2):
// a field is a name of printable characters other than ":" and its colon;
// a line starting with space or tab continues the field before it (folding,
// §2.2.3); an empty line ends the section; anything else is not a header.
#include "mta/smtp/header_scanner.h"

#include "mta/smtp/command.h"

namespace ringmta::smtp {
namespace {

// RFC 5322 §3.6.1 ftext: printable US-ASCII except ":".
bool IsFieldNameChar(char c) { return c >= 33 && c <= 126 && c != ':'; }

}  // namespace

size_t HeaderScanner::Feed(std::string_view piece) {
  size_t used = 0;
  while (used < piece.size() && !done()) {
    Step(piece[used]);
    ++used;
    ++offset_;
  }
  return used;
}

void HeaderScanner::Finish() {
  if (done()) return;
  // Complete fields, or a last field without its CRLF: all header.
  if (state_ == State::kLineStart || state_ == State::kRestOfLine) {
    end_ = End::kEndOfBody;
    header_bytes_ = offset_;
    return;
  }
  EndSection(End::kNonHeaderLine);  // a last line with no colon
}

void HeaderScanner::EndSection(End end) {
  end_ = end;
  header_bytes_ = line_start_;
}

void HeaderScanner::NameComplete() {
  if (name_bytes_ <= sizeof name_) {
    // Obsolete syntax allows space before the colon (§4.5.3); it is trimmed.
    const std::string_view name(name_, name_bytes_);
    if (EqualsIgnoreCase(name, "Message-ID")) has_message_id_ = true;
    if (EqualsIgnoreCase(name, "Date")) has_date_ = true;
  }
  seen_field_ = true;
  state_ = State::kRestOfLine;
}

void HeaderScanner::Step(char c) {
  switch (state_) {
    case State::kLineStart:
      line_start_ = offset_;
      if (c == '\r') {
        state_ = State::kBlankCr;
      } else if (c == '\n') {
        EndSection(End::kBlankLine);
      } else if ((c == ' ' || c == '\t') && seen_field_) {
        state_ = State::kRestOfLine;  // folded continuation of the last field
      } else if (IsFieldNameChar(c)) {
        name_bytes_ = 0;
        name_[name_bytes_++] = c;
        state_ = State::kName;
      } else {
        EndSection(End::kNonHeaderLine);
      }
      return;
    case State::kName:
      if (c == ':') return NameComplete();
      if (c == ' ' || c == '\t') {
        state_ = State::kNameSpace;
      } else if (!IsFieldNameChar(c)) {
        EndSection(End::kNonHeaderLine);
      } else if (name_bytes_ < sizeof name_) {
        name_[name_bytes_++] = c;
      } else {
        name_bytes_ = sizeof name_ + 1;  // longer than any name we look for
      }
      return;
    case State::kNameSpace:
      if (c == ':') return NameComplete();
      if (c != ' ' && c != '\t') EndSection(End::kNonHeaderLine);
      return;
    case State::kBlankCr:
      if (c == '\n') return EndSection(End::kBlankLine);
      return EndSection(End::kNonHeaderLine);  // a bare CR: not a header
    case State::kRestOfLine:
      if (c == '\n') state_ = State::kLineStart;
      return;
  }
}

}  // namespace ringmta::smtp
