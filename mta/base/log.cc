#include "mta/base/log.h"

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <ctime>

namespace ringmta {
namespace {

std::atomic<int> log_level{static_cast<int>(LogLevel::kInfo)};
thread_local int log_shard = -1;

const char* LevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug: return "debug";
    case LogLevel::kInfo: return "info";
    case LogLevel::kWarning: return "warning";
    case LogLevel::kError: return "error";
  }
  return "?";
}

}  // namespace

void SetLogLevel(LogLevel level) { log_level.store(static_cast<int>(level)); }
LogLevel GetLogLevel() { return static_cast<LogLevel>(log_level.load(std::memory_order_relaxed)); }
void SetLogShard(int shard) { log_shard = shard; }

void LogLine(LogLevel level, std::string_view message) {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  tm utc;
  gmtime_r(&ts.tv_sec, &utc);
  char when[32];
  strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &utc);
  std::string who = log_shard < 0 ? std::string("main") : absl::StrFormat("shard%d", log_shard);
  // One write(2) per line so lines from different shards never interleave.
  std::string line = absl::StrFormat("%s.%03dZ ringmta[%s] %s: %s\n", when,
                                     static_cast<int>(ts.tv_nsec / 1'000'000), who,
                                     LevelName(level), message);
  ssize_t ignored = write(STDERR_FILENO, line.data(), line.size());
  (void)ignored;
}

std::string SanitizePeerText(std::string_view text, size_t bytes_max) {
  std::string out;
  out.reserve(std::min(text.size(), bytes_max) + 8);
  for (unsigned char c : text) {
    if (out.size() >= bytes_max) {
      out += "...";
      break;
    }
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out += static_cast<char>(c);
    } else {
      out += absl::StrFormat("\\x%02x", c);
    }
  }
  return out;
}

}  // namespace ringmta
