// Histogram: fixed buckets of relaxed atomics, written by one thread (its
// shard) and read by any (the metrics scraper). Single writer, so an update
// is a load and a store, never a locked read-modify-write; a reader may see
// a bucket and the sum from slightly different moments, which Prometheus
// tolerates. Not here: naming, exposition or summing shards (mta/admin).
#ifndef RINGMTA_MTA_BASE_HISTOGRAM_H_
#define RINGMTA_MTA_BASE_HISTOGRAM_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <span>

namespace ringmta {

// A counter only its own shard's thread writes. Relaxed: readers want a
// recent value, not an ordering with anything else.
class SingleWriterCounter {
 public:
  void Add(uint64_t delta = 1) {
    value_.store(value_.load(std::memory_order_relaxed) + delta, std::memory_order_relaxed);
  }
  uint64_t Read() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

class SingleWriterGauge {
 public:
  void Set(int64_t value) { value_.store(value, std::memory_order_relaxed); }
  void Add(int64_t delta) {
    value_.store(value_.load(std::memory_order_relaxed) + delta, std::memory_order_relaxed);
  }
  int64_t Read() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> value_{0};
};

// Upper bounds in nanoseconds, ascending; the +Inf bucket is implicit.
using HistogramBounds = std::span<const int64_t>;

class Histogram {
 public:
  // Enough for a 1-2-5 series over nine decades; every bound list in
  // shard_stats.h is checked against it.
  static constexpr size_t kBoundsMax = 24;

  explicit Histogram(HistogramBounds bounds_ns) : bounds_ns_(bounds_ns) {}

  void Observe(int64_t value_ns) {
    if (value_ns < 0) value_ns = 0;  // a clock step must not corrupt the sum
    size_t bucket = 0;
    while (bucket < bounds_ns_.size() && value_ns > bounds_ns_[bucket]) ++bucket;
    Bump(counts_[bucket], 1);
    Bump(sum_ns_, static_cast<uint64_t>(value_ns));
  }

  HistogramBounds bounds_ns() const { return bounds_ns_; }
  // Observations in bucket i alone (not cumulative); i == bounds().size()
  // is the +Inf bucket.
  uint64_t bucket_count(size_t i) const { return counts_[i].load(std::memory_order_relaxed); }
  uint64_t sum_ns() const { return sum_ns_.load(std::memory_order_relaxed); }

 private:
  static void Bump(std::atomic<uint64_t>& cell, uint64_t delta) {
    cell.store(cell.load(std::memory_order_relaxed) + delta, std::memory_order_relaxed);
  }

  HistogramBounds bounds_ns_;
  std::array<std::atomic<uint64_t>, kBoundsMax + 1> counts_{};
  std::atomic<uint64_t> sum_ns_{0};
};

}  // namespace ringmta

#endif  // RINGMTA_MTA_BASE_HISTOGRAM_H_
