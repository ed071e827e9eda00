// Parsing an RFC 3463 enhanced status code ("5.1.1") out of our outcome
// text, once for both users: queue records and DSN reports.
#ifndef RINGMTA_MTA_RELAY_ENHANCED_STATUS_H_
#define RINGMTA_MTA_RELAY_ENHANCED_STATUS_H_

#include <charconv>
#include <optional>
#include <string_view>

namespace ringmta::relay {

struct EnhancedStatusParts {
  int code_class = 0;  // 2, 4 or 5
  int subject = 0;     // 0..999
  int detail = 0;      // 0..999
};

// nullopt unless `text` is "class.subject.detail" with RFC 3463's ranges.
inline std::optional<EnhancedStatusParts> ParseEnhancedStatus(std::string_view text) {
  int parts[3] = {0, 0, 0};
  const char* at = text.data();
  const char* end = text.data() + text.size();
  for (int i = 0; i < 3; ++i) {
    auto [next, error] = std::from_chars(at, end, parts[i]);
    if (error != std::errc() || (i < 2 && (next == end || *next != '.'))) return std::nullopt;
    at = i < 2 ? next + 1 : next;
  }
  if (at != end || (parts[0] != 2 && parts[0] != 4 && parts[0] != 5) || parts[1] < 0 ||
      parts[1] > 999 || parts[2] < 0 || parts[2] > 999) {
    return std::nullopt;
  }
  return EnhancedStatusParts{parts[0], parts[1], parts[2]};
}

}  // namespace ringmta::relay

#endif  // RINGMTA_MTA_RELAY_ENHANCED_STATUS_H_
