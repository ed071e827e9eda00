#include "tools/loadgen/message_builder.h"

#include <cctype>
#include <cinttypes>
#include <cstdio>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace ringmta::loadgen {
namespace {

// RFC 5322 §2.1.1 recommends 78 characters a line; mail clients wrap near 72.
constexpr size_t kBodyLineChars = 72;

constexpr const char* kWords[] = {
    "the",     "quarterly", "report",  "is",      "attached", "please",  "review",
    "before",  "Friday",    "meeting", "notes",   "from",     "our",     "team",
    "shipping", "invoice",  "order",   "status",  "update",   "thanks",  "regards",
    "customer", "account",  "service", "delivery", "schedule", "project", "budget",
};

// Deterministic filler text: the same size always gives the same bytes.
std::string BodyText(size_t bytes) {
  std::string body;
  body.reserve(bytes);
  uint64_t state = 0x9e3779b97f4a7c15u;
  std::string line;
  while (body.size() < bytes) {
    const size_t remaining = bytes - body.size();
    line.clear();
    // The last line takes exactly what is left (at least its CRLF); one byte
    // left over is folded into the previous line instead.
    const size_t target = remaining <= kBodyLineChars + 2 + 2 ? remaining - 2 : kBodyLineChars;
    while (line.size() < target) {
      state = state * 6364136223846793005u + 1442695040888963407u;
      std::string_view word = kWords[(state >> 33) % std::size(kWords)];
      if (!line.empty()) line += ' ';
      line += word;
    }
    line.resize(target);
    // A line must not start with "." (no dot-stuffing needed) or a space.
    if (!line.empty() && (line[0] == ' ' || line[0] == '.')) line[0] = 'x';
    if (!line.empty() && line.back() == ' ') line.back() = 'x';
    body += line;
    body += "\r\n";
  }
  return body;
}

}  // namespace

MessageBuilder::MessageBuilder(uint64_t size_bytes, std::string_view sender,
                               std::string_view recipient) {
  rest_ = absl::StrCat(
      "Date: Sat, 28 Nov 2026 12:00:00 +0000\r\n",
      "From: \"Load Generator\" <", std::string(sender), ">\r\n",
      "To: <", std::string(recipient), ">\r\n",
      "Subject: Weekly status report and delivery schedule\r\n",
      "MIME-Version: 1.0\r\n",
      "Content-Type: text/plain; charset=us-ascii\r\n",
      "Content-Transfer-Encoding: 7bit\r\n",
      "X-Mailer: ringmta-loadgen\r\n",
      "\r\n");
  const uint64_t fixed = message_id_bytes() + rest_.size();
  // Below the header size the message is just the headers and a short line.
  const uint64_t body_bytes = size_bytes > fixed + 2 ? size_bytes - fixed : 2;
  // One byte cannot be a line: grow to two.
  rest_ += BodyText(body_bytes == 1 ? 2 : body_bytes);
  rest_with_terminator_ = rest_ + ".\r\n";
}

size_t MessageBuilder::message_id_bytes() const { return MessageIdLine(0, 0).size(); }

std::string MessageBuilder::MessageIdLine(uint64_t number, int thread) const {
  char line[96];
  const int length = std::snprintf(line, sizeof(line),
                                   "Message-ID: <%020" PRIu64 ".%04d@load.test>\r\n", number,
                                   thread % 10000);
  return std::string(line, static_cast<size_t>(length));
}

bool ParseSize(std::string_view text, uint64_t* bytes) {
  uint64_t multiplier = 1;
  std::string_view digits = text;
  if (digits.size() >= 2 && (digits.back() == 'B' || digits.back() == 'b')) {
    digits.remove_suffix(1);
  }
  if (!digits.empty()) {
    const char unit = static_cast<char>(std::toupper(static_cast<unsigned char>(digits.back())));
    if (unit == 'K') multiplier = 1024;
    if (unit == 'M') multiplier = 1024 * 1024;
    if (multiplier != 1) digits.remove_suffix(1);
  }
  uint64_t value = 0;
  if (digits.empty() || !absl::SimpleAtoi(std::string(digits), &value) || value == 0) return false;
  // A bound, not a preference: nothing past 256 MiB (kMessageBytesMax) is accepted anywhere.
  if (value > (uint64_t{256} << 20) / multiplier) return false;
  *bytes = value * multiplier;
  return true;
}

}  // namespace ringmta::loadgen
