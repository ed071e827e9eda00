// Bucket layout: index v for v < 64; above, the top bit k (6..63) picks a
// group of 64 buckets and the next six bits pick the bucket in the group.
#include "tools/loadgen/latency_histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace ringmta::loadgen {

int LatencyHistogram::BucketIndex(uint64_t value) {
  if (value < kSubBuckets) return static_cast<int>(value);
  const int top_bit = 63 - std::countl_zero(value);
  const int shift = top_bit - kSubBucketBits;
  const int sub = static_cast<int>(value >> shift) - kSubBuckets;
  return kSubBuckets + shift * kSubBuckets + sub;
}

uint64_t LatencyHistogram::BucketLowest(int index) {
  if (index < kSubBuckets) return static_cast<uint64_t>(index);
  const int shift = (index - kSubBuckets) / kSubBuckets;
  const uint64_t sub = static_cast<uint64_t>((index - kSubBuckets) % kSubBuckets);
  return (kSubBuckets + sub) << shift;
}

uint64_t LatencyHistogram::BucketHighest(int index) {
  if (index < kSubBuckets) return static_cast<uint64_t>(index);
  const int shift = (index - kSubBuckets) / kSubBuckets;
  return BucketLowest(index) + ((uint64_t{1} << shift) - 1);
}

void LatencyHistogram::Record(uint64_t value_ns) {
  ++counts_[BucketIndex(value_ns)];
  ++count_;
  sum_ += value_ns;
  min_ = std::min(min_, value_ns);
  max_ = std::max(max_, value_ns);
}

void LatencyHistogram::Merge(const LatencyHistogram& other) {
  for (int i = 0; i < kBuckets; ++i) counts_[i] += other.counts_[i];
  count_ += other.count_;
  sum_ += other.sum_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
}

uint64_t LatencyHistogram::Percentile(double quantile) const {
  if (count_ == 0) return 0;
  quantile = std::clamp(quantile, 0.0, 1.0);
  // The rank of the value asked for, 1-based: p50 of 1..1000 is the 500th.
  uint64_t rank = static_cast<uint64_t>(std::ceil(quantile * static_cast<double>(count_)));
  rank = std::max<uint64_t>(rank, 1);
  uint64_t seen = 0;
  for (int i = 0; i < kBuckets; ++i) {
    seen += counts_[i];
    if (seen >= rank) return std::clamp(BucketHighest(i), min_, max_);
  }
  return max_;  // unreachable while counts_ sums to count_
}

}  // namespace ringmta::loadgen
