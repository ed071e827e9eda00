// MessageBuilder: the test message the load generator sends, built once per
// run: realistic RFC 5322 headers and a plain-text body filled to an exact
// size. Only the Message-ID line changes per message, and it has a fixed
// width, so every message has the same size and the body is never copied.
// Not here: sending, or dot-stuffing (no body line starts with ".").
#ifndef RINGMTA_TOOLS_LOADGEN_MESSAGE_BUILDER_H_
#define RINGMTA_TOOLS_LOADGEN_MESSAGE_BUILDER_H_

#include <cstdint>
#include <string>
#include <string_view>

namespace ringmta::loadgen {

class MessageBuilder {
 public:
  // `size_bytes` is the whole message (headers, blank line, body) as it is
  // stored: after DATA decoding, before the terminating ".".
  MessageBuilder(uint64_t size_bytes, std::string_view sender, std::string_view recipient);

  // The first line of message `number` from thread `thread`; always
  // message_id_bytes() long.
  std::string MessageIdLine(uint64_t number, int thread) const;
  // Everything after the Message-ID line, ending in CRLF.
  std::string_view rest() const { return rest_; }
  // The same followed by the DATA terminator ".\r\n" (RFC 5321 §4.1.1.4).
  std::string_view rest_with_terminator() const { return rest_with_terminator_; }

  size_t message_id_bytes() const;
  uint64_t size_bytes() const { return message_id_bytes() + rest_.size(); }

 private:
  std::string rest_;
  std::string rest_with_terminator_;
};

// "1024", "1K", "10KB", "1M", "1MB" (K = 1024). False if not a size.
bool ParseSize(std::string_view text, uint64_t* bytes);

}  // namespace ringmta::loadgen

#endif  // RINGMTA_TOOLS_LOADGEN_MESSAGE_BUILDER_H_
