// The message body on the wire: a streaming decoder for DATA (dot-unstuffing,
// end only at <CRLF>.<CRLF>, RFC 5321 §4.1.1.4 and §4.5.2) and BDAT chunks
// (RFC 3030, no stuffing), which detects bare CR/LF (SMTP smuggling), NUL and
// over-long lines; and the encoder the outbound client uses. Not here: size
// limits or where the body goes (the server protocol and its sink decide).
#ifndef RINGMTA_MTA_SMTP_DATA_CODEC_H_
#define RINGMTA_MTA_SMTP_DATA_CODEC_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/functional/function_ref.h"
#include "mta/base/limits.h"

namespace ringmta::smtp {

// What to do with a CR or LF that is not part of a CRLF pair.
enum class BareLinePolicy {
  kReject,     // the message is refused after its end; nothing is passed on
  kNormalize,  // each bare CR or LF becomes CRLF
};

// Why a body was refused; the first defect found wins.
enum class BodyDefect { kNone, kBareCr, kBareLf, kNul, kLineTooLong };

class DataDecoder {
 public:
  enum class Framing {
    kDotStuffed,  // DATA: unstuff, end at <CRLF>.<CRLF>
    kRaw,         // BDAT: bytes as they are; the chunk sizes frame them
  };
  using Sink = absl::FunctionRef<void(std::string_view)>;

  // `line_bytes_max` counts a line with its CRLF (RFC 5321 §4.5.3.1.6).
  DataDecoder(Framing framing, BareLinePolicy policy,
              size_t line_bytes_max = ringmta::limits::kSmtpTextLineBytesMax);

  // Decodes body bytes, handing the decoded body to `sink` in pieces (views
  // valid only during the call). Returns the bytes consumed: all of `input`,
  // or (DATA) up to and including the end marker, after which done() is true.
  // After a defect the decoder keeps framing but calls `sink` no more.
  size_t Decode(std::string_view input, Sink sink);

  // BDAT LAST: the body ends here; a CR left pending is a bare CR.
  void Finish(Sink sink);

  bool done() const { return state_ == State::kDone; }
  BodyDefect defect() const { return defect_; }
  // Decoded bytes handed to the sink so far.
  uint64_t bytes_out() const { return bytes_out_; }

 private:
  enum class State {
    kLineStart,  // after CRLF: a "." here is stuffing or the end marker
    kDot,        // "." at line start
    kDotCr,      // ".\r" at line start: the end marker if LF follows
    kText,       // inside a line (or after a bare CR/LF: dots are literal)
    kCr,         // CR inside a line, withheld until we see what follows
    kDone,
  };

  // Where one Decode call is: input[run, i) is literal body not yet emitted,
  // so whole runs reach the sink as one view.
  struct Cursor {
    std::string_view input;
    size_t i;
    size_t run;
  };
  void Flush(Cursor& at, size_t end, Sink sink);
  void StepLineStart(Cursor& at, Sink sink);
  void StepDot(Cursor& at);
  void StepDotCr(Cursor& at, Sink sink);
  void StepText(Cursor& at, Sink sink);
  void StepCr(Cursor& at, Sink sink);

  void Emit(std::string_view bytes, Sink sink);
  void BareLineEnding(BodyDefect defect, Sink sink);
  void SetDefect(BodyDefect defect);
  void CountLineBytes(size_t bytes);

  const Framing framing_;
  const BareLinePolicy policy_;
  const size_t line_bytes_max_;
  State state_;
  BodyDefect defect_ = BodyDefect::kNone;
  size_t line_bytes_ = 0;  // decoded bytes in the current line, without CRLF
  uint64_t bytes_out_ = 0;
};

// Message body -> DATA wire form: every line ending made CRLF, a "." at a
// line start doubled (RFC 5321 §4.5.2), and the end marker appended by
// Finish. Streaming: a CR split from its LF across calls is handled.
class DataEncoder {
 public:
  void Encode(std::string_view body, std::string* out);
  // Terminates the last line if needed, then appends ".\r\n".
  void Finish(std::string* out);

 private:
  bool at_line_start_ = true;
  bool pending_cr_ = false;
};

}  // namespace ringmta::smtp

#endif  // RINGMTA_MTA_SMTP_DATA_CODEC_H_
