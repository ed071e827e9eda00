#include "mta/base/shard_stats.h"

#include <algorithm>
#include <cstring>
#include <memory>

namespace ringmta {
namespace {

thread_local ShardStats* current_stats = nullptr;

}  // namespace

DestinationCounters& DestinationTable::For(std::string_view route_key) {
  // A std::string key: Debian's abseil hashes its own string_view only.
  std::string key(route_key.substr(0, kKeyBytesMax));
  auto found = slot_of_.find(key);
  if (found != slot_of_.end()) return slots_[found->second].counters;
  size_t slot = published_.load(std::memory_order_relaxed);
  if (slot == slots_.size()) return other_;
  std::memcpy(slots_[slot].key, key.data(), key.size());
  slots_[slot].key_bytes = key.size();
  slot_of_.emplace(std::move(key), slot);
  // Publishes the key written above to readers on other threads.
  published_.store(slot + 1, std::memory_order_release);
  return slots_[slot].counters;
}

ShardStats::ShardStats()
    : latencies_{Histogram(kDiskLatencyBoundsNs), Histogram(kDiskLatencyBoundsNs),
                 Histogram(kQueueTimeBoundsNs), Histogram(kDeliveryBoundsNs)} {
  static_assert(static_cast<int>(Latency::kAcceptToAck) == 0 &&
                static_cast<int>(Latency::kFdatasync) == 1 &&
                static_cast<int>(Latency::kQueueTime) == 2 &&
                static_cast<int>(Latency::kDelivery) == 3 &&
                static_cast<int>(Latency::kCount) == 4, "bounds above follow the enum");
}

ShardStats& CurrentShardStats() {
  if (current_stats != nullptr) return *current_stats;
  // Threads that are no shard (unit tests, the main thread) count into a
  // spare nobody reads, so call sites need no null check.
  thread_local std::unique_ptr<ShardStats> spare = std::make_unique<ShardStats>();
  return *spare;
}

void SetCurrentShardStats(ShardStats* stats) { current_stats = stats; }

}  // namespace ringmta
