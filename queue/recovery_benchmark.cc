// Recovery time and index RAM for a large queue (issue 4's evidence: 1,000,000
// queued 1 KB messages, aim < 5 s and < 1 KB of RAM each). Writes a spool
// into a temporary directory, replays it three times and prints the median.
// Not a Google Benchmark: one run takes seconds and the figure is a table row.
//
// Usage: bazel run -c opt //queue:recovery_benchmark -- [--messages=N]
//        [--body_bytes=B] [--dir=PATH] [--cold]
// --cold drops the files from the page cache before each replay
// (posix_fadvise DONTNEED after fdatasync), so the replay reads the disk.
#include <fcntl.h>
#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "mta/base/clock.h"
#include "mta/base/log.h"
#include "queue/index.h"
#include "queue/recovery.h"
#include "queue/recovery_test_util.h"

namespace ringmta::queue {
namespace {

struct Flags {
  uint64_t messages = 1'000'000;
  size_t body_bytes = 1024;
  std::string dir;
  bool cold = false;
};

Flags ParseFlags(int argc, char** argv) {
  Flags flags;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.rfind("--messages=", 0) == 0) {
      flags.messages = std::strtoull(arg.c_str() + 11, nullptr, 10);
    } else if (arg.rfind("--body_bytes=", 0) == 0) {
      flags.body_bytes = std::strtoull(arg.c_str() + 13, nullptr, 10);
    } else if (arg.rfind("--dir=", 0) == 0) {
      flags.dir = arg.substr(6);
    } else if (arg == "--cold") {
      flags.cold = true;
    } else {
      std::fprintf(stderr, "unknown flag %s\n", arg.c_str());
      std::exit(2);
    }
  }
  if (flags.dir.empty()) {
    const char* tmp = std::getenv("TEST_TMPDIR");
    flags.dir = std::string(tmp != nullptr ? tmp : "/tmp") + "/ringmta-recovery-benchmark";
  }
  return flags;
}

// Like the live spool: 64 MiB preallocated segments, one recipient each.
void WriteSpool(const std::string& shard_directory, const Flags& flags) {
  testing::SpoolFileWriter out(shard_directory, 0, uint64_t{64} << 20);
  std::string body(flags.body_bytes, 'x');
  for (uint64_t id = 1; id <= flags.messages; ++id) {
    body[id % body.size()] = static_cast<char>('a' + id % 26);
    testing::WriteMessage(out, testing::TestBegin(id), body);
  }
}

void DropFromPageCache(const std::string& shard_directory) {
  for (const auto& file : std::filesystem::directory_iterator(shard_directory)) {
    int fd = open(file.path().c_str(), O_RDONLY);
    if (fd < 0) continue;
    fdatasync(fd);
    posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    close(fd);
  }
}

uint64_t RssBytes() {
  long pages = 0, resident = 0;
  FILE* statm = std::fopen("/proc/self/statm", "r");
  if (statm == nullptr) return 0;
  if (std::fscanf(statm, "%ld %ld", &pages, &resident) != 2) resident = 0;
  std::fclose(statm);
  return static_cast<uint64_t>(resident) * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
}

struct Run {
  double seconds = 0;
  double heap_bytes_per_message = 0;
  double rss_bytes_per_message = 0;
};

Run ReplayOnce(const std::string& shard_directory, const Flags& flags) {
  if (flags.cold) DropFromPageCache(shard_directory);
  malloc_trim(0);
  const size_t heap_before = mallinfo2().uordblks;
  const uint64_t rss_before = RssBytes();
  Run run;
  {
    QueueIndex index;
    const int64_t start_ns = MonotonicNowNs();
    absl::StatusOr<RecoveryResult> result = RecoverShard(shard_directory, 0, &index);
    run.seconds = static_cast<double>(MonotonicNowNs() - start_ns) / 1e9;
    if (!result.ok() || result->messages != flags.messages || !result->clean()) {
      std::fprintf(stderr, "replay failed or incomplete\n");
      std::exit(1);
    }
    // Measured while the index is alive; replay's own buffers are freed.
    const double messages = static_cast<double>(flags.messages);
    run.heap_bytes_per_message = static_cast<double>(mallinfo2().uordblks - heap_before) / messages;
    run.rss_bytes_per_message = static_cast<double>(RssBytes() - rss_before) / messages;
  }
  return run;
}

int Main(int argc, char** argv) {
  Flags flags = ParseFlags(argc, argv);
  SetLogLevel(LogLevel::kWarning);
  const std::string shard_directory = ShardDirectory(flags.dir, 0);
  std::filesystem::remove_all(flags.dir);
  const int64_t write_start_ms = MonotonicNowMs();
  WriteSpool(shard_directory, flags);
  uint64_t spool_bytes = 0;
  for (const auto& file : std::filesystem::directory_iterator(shard_directory)) {
    spool_bytes += file.file_size();
  }
  std::printf("wrote %llu messages of %zu bytes (%.1f MB of segments) in %.1f s\n",
              static_cast<unsigned long long>(flags.messages), flags.body_bytes,
              static_cast<double>(spool_bytes) / 1e6,
              static_cast<double>(MonotonicNowMs() - write_start_ms) / 1e3);
  std::vector<Run> runs;
  for (int i = 0; i < 3; ++i) {
    runs.push_back(ReplayOnce(shard_directory, flags));
    std::printf("run %d: %.3f s, heap %.0f B/message, RSS %.0f B/message\n", i + 1,
                runs.back().seconds, runs.back().heap_bytes_per_message,
                runs.back().rss_bytes_per_message);
  }
  std::sort(runs.begin(), runs.end(),
            [](const Run& a, const Run& b) { return a.seconds < b.seconds; });
  std::printf("| messages | body | cache | recovery s (median of 3) | heap B/msg | RSS B/msg |\n");
  std::printf("| %llu | %zu | %s | %.3f | %.0f | %.0f |\n",
              static_cast<unsigned long long>(flags.messages), flags.body_bytes,
              flags.cold ? "cold" : "warm", runs[1].seconds, runs[1].heap_bytes_per_message,
              runs[1].rss_bytes_per_message);
  std::filesystem::remove_all(flags.dir);
  return 0;
}

}  // namespace
}  // namespace ringmta::queue

int main(int argc, char** argv) { return ringmta::queue::Main(argc, argv); }
