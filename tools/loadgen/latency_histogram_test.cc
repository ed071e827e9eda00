#include "tools/loadgen/latency_histogram.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "gtest/gtest.h"

namespace ringmta::loadgen {
namespace {

TEST(LatencyHistogramTest, EmptyReportsZero) {
  LatencyHistogram histogram;
  EXPECT_EQ(histogram.count(), 0u);
  EXPECT_EQ(histogram.Percentile(0.5), 0u);
  EXPECT_EQ(histogram.Percentile(0.999), 0u);
  EXPECT_EQ(histogram.min(), 0u);
  EXPECT_EQ(histogram.max(), 0u);
  EXPECT_EQ(histogram.mean(), 0.0);
}

TEST(LatencyHistogramTest, SmallValuesAreExact) {
  LatencyHistogram histogram;
  for (uint64_t v = 1; v <= 40; ++v) histogram.Record(v);
  EXPECT_EQ(histogram.Percentile(0.5), 20u);
  EXPECT_EQ(histogram.Percentile(0.25), 10u);
  EXPECT_EQ(histogram.Percentile(1.0), 40u);
  EXPECT_EQ(histogram.Percentile(0.0), 1u);
  EXPECT_DOUBLE_EQ(histogram.mean(), 20.5);
}

TEST(LatencyHistogramTest, BucketsTileTheRangeWithoutGaps) {
  for (int i = 0; i + 1 < LatencyHistogram::kBuckets; ++i) {
    ASSERT_LE(LatencyHistogram::BucketLowest(i), LatencyHistogram::BucketHighest(i)) << i;
    ASSERT_EQ(LatencyHistogram::BucketHighest(i) + 1, LatencyHistogram::BucketLowest(i + 1)) << i;
  }
  EXPECT_EQ(LatencyHistogram::BucketHighest(LatencyHistogram::kBuckets - 1), UINT64_MAX);
  EXPECT_EQ(LatencyHistogram::BucketIndex(UINT64_MAX), LatencyHistogram::kBuckets - 1);
}

TEST(LatencyHistogramTest, EveryValueLandsInTheBucketThatHoldsIt) {
  std::mt19937_64 random(7);
  for (int i = 0; i < 100000; ++i) {
    const uint64_t value = random() >> (random() % 64);
    const int index = LatencyHistogram::BucketIndex(value);
    ASSERT_LE(LatencyHistogram::BucketLowest(index), value);
    ASSERT_GE(LatencyHistogram::BucketHighest(index), value);
  }
}

// Against exact percentiles of a sorted copy: never below, at most 1/64 above.
TEST(LatencyHistogramTest, PercentilesWithinRelativeErrorOfExact) {
  std::mt19937_64 random(42);
  std::lognormal_distribution<double> latency_ns(13.0, 1.5);  // ~0.4 ms median, long tail
  LatencyHistogram histogram;
  std::vector<uint64_t> values;
  for (int i = 0; i < 20000; ++i) {
    const uint64_t value = static_cast<uint64_t>(latency_ns(random));
    values.push_back(value);
    histogram.Record(value);
  }
  std::sort(values.begin(), values.end());
  for (double quantile : {0.01, 0.5, 0.9, 0.99, 0.999, 1.0}) {
    const size_t rank = static_cast<size_t>(std::ceil(quantile * values.size()));
    const uint64_t exact = values[rank - 1];
    const uint64_t reported = histogram.Percentile(quantile);
    EXPECT_GE(reported, exact) << quantile;
    EXPECT_LE(static_cast<double>(reported), exact * (1.0 + 1.0 / 64)) << quantile;
  }
  EXPECT_EQ(histogram.max(), values.back());
  EXPECT_EQ(histogram.min(), values.front());
}

TEST(LatencyHistogramTest, MergeEqualsRecordingEverythingInOne) {
  LatencyHistogram a, b, all;
  for (uint64_t v = 1; v <= 5000; v += 3) {
    ((v % 2) ? a : b).Record(v * 1000);
    all.Record(v * 1000);
  }
  a.Merge(b);
  EXPECT_EQ(a.count(), all.count());
  EXPECT_EQ(a.min(), all.min());
  EXPECT_EQ(a.max(), all.max());
  EXPECT_DOUBLE_EQ(a.mean(), all.mean());
  for (double quantile : {0.5, 0.99, 0.999}) {
    EXPECT_EQ(a.Percentile(quantile), all.Percentile(quantile)) << quantile;
  }
}

TEST(LatencyHistogramTest, MergingAnEmptyHistogramChangesNothing) {
  LatencyHistogram a, empty;
  a.Record(1234);
  a.Merge(empty);
  EXPECT_EQ(a.count(), 1u);
  EXPECT_EQ(a.min(), 1234u);
  EXPECT_EQ(a.Percentile(0.5), 1234u);
}

}  // namespace
}  // namespace ringmta::loadgen
