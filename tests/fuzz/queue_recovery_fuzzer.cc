// libFuzzer target: arbitrary bytes as one to four segment files of a shard,
// replayed (read-only), recovered (tail cut) and replayed again. Disk bytes
// must never trip a CHECK in the fold or the index; the index must agree
// with the result; recovery must be idempotent and lose no message; and
// every segment called dead must really be forgettable.
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "mta/base/check.h"
#include "mta/base/log.h"
#include "queue/index.h"
#include "queue/recovery.h"
#include "queue/segment_scan.h"

using namespace ringmta::queue;

namespace {

std::vector<uint64_t> Ids(const QueueIndex& index) {
  std::vector<uint64_t> ids;
  index.ForEach([&](const MessageEntry& entry) { ids.push_back(entry.id); });
  std::sort(ids.begin(), ids.end());
  return ids;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string root = "/tmp/queue_recovery_fuzzer." + std::to_string(getpid());
  static bool quiet = (ringmta::SetLogLevel(ringmta::LogLevel::kError), true);
  (void)quiet;
  if (size < 1) return 0;
  const std::string dir = ShardDirectory(root, 0);
  std::filesystem::remove_all(root);
  std::filesystem::create_directories(dir);
  // Byte 0: the number of segments (1..4); the rest is split evenly.
  const size_t segments = (data[0] & 3) + 1;
  const std::string_view image(reinterpret_cast<const char*>(data) + 1, size - 1);
  const size_t part = image.size() / segments;
  for (size_t i = 0; i < segments; ++i) {
    std::string_view bytes = image.substr(i * part, i + 1 == segments ? std::string::npos : part);
    std::ofstream(dir + "/" + SegmentFileName(static_cast<uint32_t>(i + 1)), std::ios::binary)
        .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }

  QueueIndex replayed;
  absl::StatusOr<RecoveryResult> first = ReplayShard(dir, 0, &replayed);
  CHECK(first.ok());
  CHECK(first->messages == replayed.message_count());
  CHECK(first->quarantined_ids.size() == replayed.quarantined_count());
  CHECK(first->next_segment == segments + 1);

  QueueIndex recovered;
  absl::StatusOr<RecoveryResult> second = RecoverShard(dir, 0, &recovered);
  CHECK(second.ok());
  CHECK(Ids(recovered) == Ids(replayed));
  QueueIndex again;
  absl::StatusOr<RecoveryResult> third = ReplayShard(dir, 0, &again);
  CHECK(third.ok());
  CHECK(Ids(again) == Ids(recovered));
  CHECK(!third->tail || third->tail->end_offset == third->tail->file_bytes);

  CHECK(RemoveDeadSegments(dir, third->dead_segments, &again).ok());
  for (uint32_t segment : third->dead_segments) CHECK(segment < segments);
  return 0;
}
