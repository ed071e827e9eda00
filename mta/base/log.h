// A deliberately small logger (abseil 20220623 has no absl/log): one line per
// event to stderr, with level and shard. Peer text must go through
// SanitizePeerText first. Not the delivery log (mta/admin owns that).
#ifndef RINGMTA_MTA_BASE_LOG_H_
#define RINGMTA_MTA_BASE_LOG_H_

#include <string>
#include <string_view>

#include "absl/strings/str_format.h"

namespace ringmta {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3 };

// Lines below this level are dropped. Set once at start, before shards run.
void SetLogLevel(LogLevel level);
LogLevel GetLogLevel();

// Identifies the calling thread in log lines ("shard 3"); -1 means main.
void SetLogShard(int shard);

void LogLine(LogLevel level, std::string_view message);

template <typename... Args>
void Log(LogLevel level, const absl::FormatSpec<Args...>& format, const Args&... args) {
  if (level < GetLogLevel()) return;
  LogLine(level, absl::StrFormat(format, args...));
}

// Peer bytes made printable (\xNN escapes) and cut to a bound, so that a
// hostile peer can neither forge log lines nor flood them.
std::string SanitizePeerText(std::string_view text, size_t bytes_max);

}  // namespace ringmta

#endif  // RINGMTA_MTA_BASE_LOG_H_
