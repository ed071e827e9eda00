// LatencyHistogram: a fixed-size log-linear histogram of durations in
// nanoseconds, for the load generator's ack latencies. Values below 64 are
// exact; above, each power of two is split into 64 equal buckets, so a
// reported percentile is at most 1/64 (1.6 %) above the true value.
// Not here: timing or printing (the load generator does both).
#ifndef RINGMTA_TOOLS_LOADGEN_LATENCY_HISTOGRAM_H_
#define RINGMTA_TOOLS_LOADGEN_LATENCY_HISTOGRAM_H_

#include <array>
#include <cstdint>

namespace ringmta::loadgen {

class LatencyHistogram {
 public:
  // 64 exact buckets, then 64 per power of two from 2^6 to 2^63.
  static constexpr int kSubBucketBits = 6;
  static constexpr int kSubBuckets = 1 << kSubBucketBits;
  static constexpr int kBuckets = kSubBuckets + (64 - kSubBucketBits) * kSubBuckets;

  void Record(uint64_t value_ns);
  // Adds every value recorded in `other` (per-thread histograms merged at
  // the end of a run).
  void Merge(const LatencyHistogram& other);

  uint64_t count() const { return count_; }
  uint64_t min() const { return count_ == 0 ? 0 : min_; }
  uint64_t max() const { return max_; }
  double mean() const { return count_ == 0 ? 0.0 : static_cast<double>(sum_) / count_; }

  // The smallest recorded bucket's upper edge below which at least
  // `quantile` (0..1) of the values lie, clamped to [min, max]; 0 when
  // empty. Never below the true percentile, at most 1/64 above it.
  uint64_t Percentile(double quantile) const;

  // Exposed for tests: which bucket a value lands in, and its range.
  static int BucketIndex(uint64_t value);
  static uint64_t BucketLowest(int index);
  static uint64_t BucketHighest(int index);

 private:
  std::array<uint64_t, kBuckets> counts_{};
  uint64_t count_ = 0;
  uint64_t sum_ = 0;  // ns: overflows only after ~584 years of latency
  uint64_t min_ = UINT64_MAX;
  uint64_t max_ = 0;
};

}  // namespace ringmta::loadgen

#endif  // RINGMTA_TOOLS_LOADGEN_LATENCY_HISTOGRAM_H_
