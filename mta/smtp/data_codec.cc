// The DATA/BDAT body state machine. Literal input runs are handed to the sink
// as views (no copy); only withheld bytes (a stuffed dot, a CR whose LF is in
// the next chunk, a normalised line ending) break a run.
#include "mta/smtp/data_codec.h"

#include <cstring>

#include "mta/base/check.h"

namespace ringmta::smtp {
namespace {

constexpr std::string_view kCrlf = "\r\n";

// Bytes that end a literal run inside a line.
bool IsSpecial(unsigned char c) { return c == '\r' || c == '\n' || c == '\0'; }

// Position of the first `c` at or after `from`, or text.size().
size_t FindByte(std::string_view text, char c, size_t from) {
  const void* found = std::memchr(text.data() + from, c, text.size() - from);
  return found == nullptr ? text.size()
                          : static_cast<size_t>(static_cast<const char*>(found) - text.data());
}

}  // namespace

DataDecoder::DataDecoder(Framing framing, BareLinePolicy policy, size_t line_bytes_max)
    : framing_(framing),
      policy_(policy),
      line_bytes_max_(line_bytes_max),
      // DATA's own CRLF precedes the body, so the body starts at a line start
      // and ".\r\n" at once is an empty message (§4.1.1.4).
      state_(framing == Framing::kDotStuffed ? State::kLineStart : State::kText) {
  CHECK(line_bytes_max_ >= 3);
}

void DataDecoder::SetDefect(BodyDefect defect) {
  if (defect_ == BodyDefect::kNone) defect_ = defect;
}

void DataDecoder::Emit(std::string_view bytes, Sink sink) {
  if (defect_ != BodyDefect::kNone || bytes.empty()) return;  // never pass on a refused body
  bytes_out_ += bytes.size();
  sink(bytes);
}

void DataDecoder::CountLineBytes(size_t bytes) {
  line_bytes_ += bytes;
  if (line_bytes_ + kCrlf.size() > line_bytes_max_) SetDefect(BodyDefect::kLineTooLong);
}

// A lone CR or LF. Under kNormalize it becomes CRLF, but the next byte is NOT
// treated as a line start: "\n.\r\n" must never end the message, or a peer
// could smuggle a second message past a hop that reads it differently.
void DataDecoder::BareLineEnding(BodyDefect defect, Sink sink) {
  if (policy_ == BareLinePolicy::kNormalize) {
    Emit(kCrlf, sink);
  } else {
    SetDefect(defect);
  }
  line_bytes_ = 0;
  state_ = State::kText;
}

void DataDecoder::Flush(Cursor& at, size_t end, Sink sink) {
  if (end > at.run) Emit(at.input.substr(at.run, end - at.run), sink);
  at.run = end;
}

void DataDecoder::StepLineStart(Cursor& at, Sink sink) {
  line_bytes_ = 0;
  if (at.input[at.i] == '.' && framing_ == Framing::kDotStuffed) {
    Flush(at, at.i, sink);
    at.run = ++at.i;  // withhold the dot: stuffing or the end marker
    state_ = State::kDot;
  } else {
    state_ = State::kText;
  }
}

void DataDecoder::StepDot(Cursor& at) {
  if (at.input[at.i] == '\r') {
    at.run = ++at.i;  // withhold the CR too
    state_ = State::kDotCr;
  } else {
    state_ = State::kText;  // §4.5.2: the leading dot is deleted
  }
}

void DataDecoder::StepDotCr(Cursor& at, Sink sink) {
  if (at.input[at.i] == '\n') {
    at.run = ++at.i;
    state_ = State::kDone;  // <CRLF>.<CRLF>, and only that, ends DATA
  } else {
    BareLineEnding(BodyDefect::kBareCr, sink);  // the dot is dropped
  }
}

void DataDecoder::StepText(Cursor& at, Sink sink) {
  const std::string_view input = at.input;
  size_t end = at.i;
  while (end < input.size() && !IsSpecial(static_cast<unsigned char>(input[end]))) ++end;
  CountLineBytes(end - at.i);
  at.i = end;
  if (at.i == input.size()) return;
  if (input[at.i] == '\r') {
    ++at.i;  // kept in the run; withheld only if the chunk ends here
    state_ = State::kCr;
  } else if (input[at.i] == '\n') {
    // A refused line is not passed on, not even its start.
    if (policy_ == BareLinePolicy::kReject) SetDefect(BodyDefect::kBareLf);
    Flush(at, at.i, sink);
    at.run = ++at.i;
    BareLineEnding(BodyDefect::kBareLf, sink);
  } else {
    SetDefect(BodyDefect::kNul);  // never valid in text; breaks too much downstream
    Flush(at, at.i, sink);
    at.run = ++at.i;
  }
}

void DataDecoder::StepCr(Cursor& at, Sink sink) {
  const bool lf = at.input[at.i] == '\n';
  if (at.i == 0) {
    // The CR ended the previous chunk and was withheld.
    if (lf) {
      Emit(kCrlf, sink);
      at.run = ++at.i;
      state_ = State::kLineStart;
    } else {
      BareLineEnding(BodyDefect::kBareCr, sink);
    }
  } else if (lf) {
    ++at.i;  // CRLF is literal: the run goes on
    state_ = State::kLineStart;
  } else {
    if (policy_ == BareLinePolicy::kReject) SetDefect(BodyDefect::kBareCr);
    Flush(at, at.i - 1, sink);  // exclude the bare CR
    at.run = at.i;
    BareLineEnding(BodyDefect::kBareCr, sink);
  }
}

size_t DataDecoder::Decode(std::string_view input, Sink sink) {
  Cursor at{input, 0, 0};
  while (at.i < input.size() && state_ != State::kDone) {
    switch (state_) {
      case State::kLineStart: StepLineStart(at, sink); break;
      case State::kDot: StepDot(at); break;
      case State::kDotCr: StepDotCr(at, sink); break;
      case State::kText: StepText(at, sink); break;
      case State::kCr: StepCr(at, sink); break;
      case State::kDone: break;
    }
  }
  // A CR ending this chunk is withheld until its successor arrives.
  Flush(at, state_ == State::kCr && at.i > 0 ? at.i - 1 : at.i, sink);
  return at.i;
}

void DataDecoder::Finish(Sink sink) {
  CHECK(framing_ == Framing::kRaw);
  if (state_ == State::kCr) BareLineEnding(BodyDefect::kBareCr, sink);
  state_ = State::kDone;
}

// Queued bodies are CRLF already: runs of text and proper CRLF pairs are
// appended whole (found with memchr); a stuffed dot, a bare CR or a bare LF
// breaks a run, instead of one append per byte.
void DataEncoder::Encode(std::string_view body, std::string* out) {
  if (body.empty()) return;
  out->reserve(out->size() + body.size() + body.size() / 64 + 4);
  size_t at = 0;
  if (pending_cr_) {
    pending_cr_ = false;
    out->append(kCrlf);
    at_line_start_ = true;
    if (body[0] == '\n') at = 1;  // that CR was half of a CRLF
  }
  size_t run = at;  // start of the bytes copied as they are
  size_t next_cr = FindByte(body, '\r', at);
  size_t next_lf = FindByte(body, '\n', at);
  while (at < body.size()) {
    if (at_line_start_ && body[at] == '.') {  // §4.5.2 transparency
      out->append(body.data() + run, at - run);
      out->push_back('.');
      run = at;  // the line's own dot follows in the run
    }
    if (next_cr < at) next_cr = FindByte(body, '\r', at);
    if (next_lf < at) next_lf = FindByte(body, '\n', at);
    if (next_cr == body.size() && next_lf == body.size()) {
      at_line_start_ = false;  // text to the end of the piece
      break;
    }
    if (next_lf < next_cr) {  // a bare LF
      out->append(body.data() + run, next_lf - run);
      out->append(kCrlf);
      at = run = next_lf + 1;
      at_line_start_ = true;
      continue;
    }
    if (next_cr + 1 == body.size()) {  // its LF, if any, is in the next piece
      out->append(body.data() + run, next_cr - run);
      run = body.size();
      pending_cr_ = true;
      at_line_start_ = false;  // the pending CR decides the next line start
      break;
    }
    if (body[next_cr + 1] == '\n') {  // a proper CRLF stays in the run
      at = next_cr + 2;
      at_line_start_ = true;
      continue;
    }
    out->append(body.data() + run, next_cr - run);  // a bare CR
    out->append(kCrlf);
    at = run = next_cr + 1;
    at_line_start_ = true;
  }
  out->append(body.data() + run, body.size() - run);
}

void DataEncoder::Finish(std::string* out) {
  if (pending_cr_ || !at_line_start_) out->append(kCrlf);
  pending_cr_ = false;
  at_line_start_ = true;
  out->append(".\r\n");
}

}  // namespace ringmta::smtp
