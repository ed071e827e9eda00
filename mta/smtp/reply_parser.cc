// Reply parsing: lines come from the bounded LineSplitter, so nothing here
// buffers more than one line plus the reply's already-checked lines.
#include "mta/smtp/reply_parser.h"

#include <algorithm>
#include <utility>

#include "mta/base/check.h"
#include "mta/base/log.h"

namespace ringmta::smtp {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// textstring (RFC 5321 §4.2) is HT, SP and printable ASCII. We also take
// 8-bit bytes (UTF-8 under SMTPUTF8, RFC 6531 §3.7.4.2, and Latin-1 from old
// servers), but no control character: NUL and CR break logs and bounces.
bool IsTextByte(char c) {
  const unsigned char u = static_cast<unsigned char>(c);
  return u == '\t' || (u >= 0x20 && u != 0x7f);
}

// Digits "1*3DIGIT" at text[*at]; advances *at past them.
bool SkipDigits(std::string_view text, size_t* at) {
  const size_t start = *at;
  while (*at < text.size() && IsDigit(text[*at]) && *at - start < 3) ++*at;
  return *at > start;
}

}  // namespace

std::string ServerReply::Summary(size_t bytes_max) const {
  std::string text = std::to_string(code);
  if (!enhanced.empty()) text += " " + enhanced;
  for (size_t i = 0; i < lines.size(); ++i) {
    text += i == 0 ? " " : " / ";
    text += lines[i];
  }
  return SanitizePeerText(text, bytes_max);
}

ServerReply LocalReply(int code, std::string_view enhanced, std::string_view text) {
  CHECK(code >= 200 && code <= 599);
  ServerReply reply;
  reply.code = code;
  reply.enhanced = std::string(enhanced);
  reply.lines.emplace_back(text);
  reply.local = true;
  return reply;
}

std::string_view ReplyErrorName(ReplyError error) {
  switch (error) {
    case ReplyError::kNone: return "none";
    case ReplyError::kLineTooLong: return "reply line too long";
    case ReplyError::kBareLf: return "bare LF in reply";
    case ReplyError::kBadCode: return "malformed reply code";
    case ReplyError::kBadSeparator: return "malformed reply separator";
    case ReplyError::kCodeMismatch: return "reply code changes within a reply";
    case ReplyError::kBadText: return "control character in reply";
    case ReplyError::kTooManyLines: return "too many reply lines";
    case ReplyError::kTooManyBytes: return "reply too long";
  }
  return "unknown";
}

size_t EnhancedCodeLength(std::string_view text, char code_class) {
  if (code_class != '2' && code_class != '4' && code_class != '5') return 0;
  if (text.size() < 5 || text[0] != code_class || text[1] != '.') return 0;
  size_t at = 2;
  if (!SkipDigits(text, &at) || at >= text.size() || text[at] != '.') return 0;
  ++at;
  if (!SkipDigits(text, &at)) return 0;
  if (at < text.size() && text[at] != ' ') return 0;
  return at;
}

ReplyParser::ReplyParser(const ReplyParserOptions& options)
    : options_(options), splitter_(options.line_bytes_max) {
  CHECK(options_.line_bytes_max <= limits::kClientReplyLineBytesMax);
  CHECK(options_.lines_max >= 1 && options_.lines_max <= limits::kClientReplyLinesMax);
  CHECK(options_.reply_bytes_max <= limits::kClientReplyBytesMax);
}

void ReplyParser::Reset() {
  splitter_.Reset();
  partial_ = ServerReply();
  partial_bytes_ = 0;
  error_ = ReplyError::kNone;
  complete_ = false;
}

ServerReply ReplyParser::TakeReply() {
  CHECK(complete_);
  ServerReply reply = std::move(partial_);
  partial_ = ServerReply();
  partial_bytes_ = 0;
  complete_ = false;
  return reply;
}

ReplyParser::Step ReplyParser::Feed(std::string_view input) {
  CHECK(!complete_);  // the caller takes each reply before feeding more
  Step step;
  while (error_ == ReplyError::kNone && step.consumed < input.size()) {
    const LineSplitter::Event event = splitter_.Next(input.substr(step.consumed));
    step.consumed += event.consumed;
    if (event.kind == LineSplitter::Event::Kind::kNone) continue;
    if (event.kind == LineSplitter::Event::Kind::kTooLong) {
      error_ = ReplyError::kLineTooLong;
    } else if (event.bare_lf && !options_.accept_bare_lf) {
      error_ = ReplyError::kBareLf;
    } else {
      error_ = AddLine(event.line, &complete_);
      if (complete_) {
        step.kind = Step::Kind::kReply;
        return step;
      }
    }
  }
  if (error_ != ReplyError::kNone) {
    // Sticky: after garbage nothing that follows can be trusted.
    step.kind = Step::Kind::kError;
    step.error = error_;
    step.consumed = input.size();
  }
  return step;
}

// Reply-line = *( Reply-code "-" [ textstring ] CRLF )
//              Reply-code [ SP textstring ] CRLF          (RFC 5321 §4.2)
ReplyError ReplyParser::AddLine(std::string_view line, bool* complete) {
  // §4.2: the first digit is 2..5 in SMTP ("1yz" is never used).
  if (line.size() < 3 || line[0] < '2' || line[0] > '5' || !IsDigit(line[1]) ||
      !IsDigit(line[2])) {
    return ReplyError::kBadCode;
  }
  if (line.size() > 3 && line[3] != ' ' && line[3] != '-') return ReplyError::kBadSeparator;
  const int code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
  const bool last = line.size() == 3 || line[3] == ' ';
  std::string_view text = line.size() > 4 ? line.substr(4) : std::string_view();
  for (const char c : text) {
    if (!IsTextByte(c)) return ReplyError::kBadText;
  }
  const bool first = partial_.lines.empty();
  if (!first && code != partial_.code) return ReplyError::kCodeMismatch;  // §4.2.1
  if (partial_.lines.size() >= options_.lines_max) return ReplyError::kTooManyLines;
  partial_bytes_ += line.size() + 2;
  if (partial_bytes_ > options_.reply_bytes_max) return ReplyError::kTooManyBytes;

  if (first) {
    partial_.code = code;
    // RFC 2034 §4: the enhanced code leads the text of each line.
    const size_t length = EnhancedCodeLength(text, line[0]);
    if (length > 0) partial_.enhanced = std::string(text.substr(0, length));
  }
  const std::string_view enhanced = partial_.enhanced;
  if (!enhanced.empty() && text.substr(0, enhanced.size()) == enhanced &&
      (text.size() == enhanced.size() || text[enhanced.size()] == ' ')) {
    text.remove_prefix(std::min(text.size(), enhanced.size() + 1));
  }
  partial_.lines.emplace_back(text);
  *complete = last;
  return ReplyError::kNone;
}

}  // namespace ringmta::smtp
