// ShardStats: one shard's counters, gauges, latency histograms and bounded
// per-destination table, written only by that shard's thread and summed by
// the metrics scraper (mta/admin) at read time. It sits in mta/base because
// the code that counts (io, queue, server, relay) may not depend on
// mta/admin (DESIGN §8); mta/admin names and exposes what is here.
//
// The counting code reaches its shard's stats through CurrentShardStats(), a
// thread-local pointer the daemon installs on each shard thread before it
// accepts (as the logger knows its shard). A thread with none installed (a
// unit test) counts into a private spare, so instrumentation is always one
// unconditional line. Not here: names, help texts, HTTP.
#ifndef RINGMTA_MTA_BASE_SHARD_STATS_H_
#define RINGMTA_MTA_BASE_SHARD_STATS_H_

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/container/flat_hash_map.h"
#include "mta/base/histogram.h"
#include "mta/base/limits.h"

namespace ringmta {

enum class Counter : int {
  kMessagesReceived,      // committed (durable, 250 sent or about to be)
  kQueueFdatasync,       // every fdatasync the spool issued
  kRecipientsDelivered,   // 2xx from the next hop
  kRecipientsDeferred,    // 4xx, connection or DNS trouble: retried later
  kRecipientsBounced,     // permanent failure (5xx, unknown domain, null MX)
  kRecipientsExpired,     // gave up at the message's deadline (4.4.7)
  kConnectionsIn,         // accepted by the kernel, refused ones included
  kConnectionsInRefused,  // closed at once (shard full, stopping) or 421 (per-client limit)
  kConnectionsOut,        // TCP connections to a next hop established
  kConnectionsOutFailed,  // connection attempts that failed
  kDeliveryLogLinesDropped,  // the log's buffer was full (disk stuck or slow)
  kDeliveryLogWriteErrors,   // failed writes or reopens of the delivery log
  kCount,
};

enum class Gauge : int {
  kConnectionsInOpen,  // inbound sessions now open
  kQueueMessages,      // messages in the queue index
  kQueueBytes,         // their body bytes
  kCount,
};

enum class Latency : int {
  kAcceptToAck,  // end of DATA (or last BDAT) to the queue's durable commit
  kFdatasync,    // one spool fdatasync
  kQueueTime,    // received to a final outcome, per recipient
  kDelivery,     // one delivery attempt: job taken to outcome
  kCount,
};

// Bucket bounds in nanoseconds.
inline constexpr int64_t kMs = 1'000'000;
inline constexpr int64_t kSecond = 1'000 * kMs;
// Disk and acknowledgement latency: 50 us (a fast NVMe sync) to 10 s (a
// stalled disk), so both ends of the tail are visible.
inline constexpr std::array<int64_t, 17> kDiskLatencyBoundsNs = {
    kMs / 20, kMs / 10, kMs / 4, kMs / 2,  kMs,       2 * kMs,   5 * kMs,     10 * kMs, 25 * kMs,
    50 * kMs, 100 * kMs, 250 * kMs, 500 * kMs, kSecond, 2 * kSecond, 5 * kSecond, 10 * kSecond};
// One delivery attempt: 1 ms (a loopback sink) to 10 minutes (RFC 5321
// §4.5.3.2 allows a 10-minute wait for the final reply).
inline constexpr std::array<int64_t, 16> kDeliveryBoundsNs = {
    kMs,        5 * kMs,      10 * kMs,     25 * kMs,     50 * kMs,    100 * kMs,
    250 * kMs,  500 * kMs,    kSecond,      2 * kSecond,  5 * kSecond, 10 * kSecond,
    30 * kSecond, 60 * kSecond, 300 * kSecond, 600 * kSecond};
// Queue time: 10 ms (relayed at once) to 5 days (the default lifetime).
inline constexpr std::array<int64_t, 16> kQueueTimeBoundsNs = {
    10 * kMs,        100 * kMs,        kSecond,          5 * kSecond,
    30 * kSecond,    60 * kSecond,     300 * kSecond,    900 * kSecond,
    1800 * kSecond,  3600 * kSecond,   7200 * kSecond,   14400 * kSecond,
    28800 * kSecond, 86400 * kSecond,  172800 * kSecond, 432000 * kSecond};
static_assert(kDiskLatencyBoundsNs.size() <= Histogram::kBoundsMax);
static_assert(kDeliveryBoundsNs.size() <= Histogram::kBoundsMax);
static_assert(kQueueTimeBoundsNs.size() <= Histogram::kBoundsMax);

struct DestinationCounters {
  SingleWriterCounter delivered;
  SingleWriterCounter deferred;
  SingleWriterCounter bounced;
  uint64_t Total() const { return delivered.Read() + deferred.Read() + bounced.Read(); }
};

// Outcomes by route key (smart host or MX site), bounded: the first
// kMetricsDestinationSlots routes this shard sees get a slot, later ones
// count as "other". A slot's key is written once, before the slot is
// published with a release store, and never changes, so readers on other
// threads may read it after an acquire load without a lock.
class DestinationTable {
 public:
  static constexpr size_t kKeyBytesMax = limits::kMetricsDestinationKeyBytesMax;

  // Owner thread only. Keys longer than kKeyBytesMax are cut.
  DestinationCounters& For(std::string_view route_key);

  // Any thread.
  size_t published() const { return published_.load(std::memory_order_acquire); }
  std::string_view key(size_t slot) const { return {slots_[slot].key, slots_[slot].key_bytes}; }
  const DestinationCounters& counters(size_t slot) const { return slots_[slot].counters; }
  const DestinationCounters& other() const { return other_; }

 private:
  struct Slot {
    char key[kKeyBytesMax] = {};
    size_t key_bytes = 0;
    DestinationCounters counters;
  };
  std::array<Slot, limits::kMetricsDestinationSlots> slots_;
  std::atomic<size_t> published_{0};
  DestinationCounters other_;
  absl::flat_hash_map<std::string, size_t> slot_of_;  // owner thread only
};

class ShardStats {
 public:
  ShardStats();

  void Count(Counter counter, uint64_t delta = 1) { counters_[Index(counter)].Add(delta); }
  void Set(Gauge gauge, int64_t value) { gauges_[Index(gauge)].Set(value); }
  void Add(Gauge gauge, int64_t delta) { gauges_[Index(gauge)].Add(delta); }
  void Observe(Latency latency, int64_t value_ns) { latencies_[Index(latency)].Observe(value_ns); }
  void SetQueueSize(uint64_t messages, uint64_t bytes) {
    Set(Gauge::kQueueMessages, static_cast<int64_t>(messages));
    Set(Gauge::kQueueBytes, static_cast<int64_t>(bytes));
  }
  DestinationTable& destinations() { return destinations_; }

  uint64_t Read(Counter counter) const { return counters_[Index(counter)].Read(); }
  int64_t Read(Gauge gauge) const { return gauges_[Index(gauge)].Read(); }
  const Histogram& Read(Latency latency) const { return latencies_[Index(latency)]; }
  const DestinationTable& destinations() const { return destinations_; }

 private:
  template <typename E>
  static size_t Index(E e) {
    return static_cast<size_t>(e);
  }

  std::array<SingleWriterCounter, static_cast<size_t>(Counter::kCount)> counters_;
  std::array<SingleWriterGauge, static_cast<size_t>(Gauge::kCount)> gauges_;
  std::array<Histogram, static_cast<size_t>(Latency::kCount)> latencies_;
  DestinationTable destinations_;
};

// This thread's stats (see the file comment).
ShardStats& CurrentShardStats();
// Installs `stats` for the calling thread (nullptr: back to the spare).
void SetCurrentShardStats(ShardStats* stats);

}  // namespace ringmta

#endif  // RINGMTA_MTA_BASE_SHARD_STATS_H_
