#include "mta/relay/token_bucket.h"

#include "gtest/gtest.h"

namespace ringmta::relay {
namespace {

TEST(TokenBucketTest, ZeroRateIsUnlimited) {
  TokenBucket bucket(0, 1, 0);
  EXPECT_TRUE(bucket.unlimited());
  for (int i = 0; i < 100'000; ++i) ASSERT_TRUE(bucket.TryTake(0));
  EXPECT_EQ(bucket.WaitMs(0), 0);
}

TEST(TokenBucketTest, StartsFullAndAllowsExactlyTheBurst) {
  TokenBucket bucket(5, 5, 1000);
  EXPECT_EQ(bucket.tokens(1000), 5);
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(bucket.TryTake(1000)) << i;
  EXPECT_FALSE(bucket.TryTake(1000));
  EXPECT_EQ(bucket.tokens(1000), 0);
}

TEST(TokenBucketTest, WaitIsTheTimeToEarnOneToken) {
  TokenBucket bucket(5, 1, 0);  // one token per 200 ms
  ASSERT_TRUE(bucket.TryTake(0));
  EXPECT_EQ(bucket.WaitMs(0), 200);
  EXPECT_EQ(bucket.WaitMs(150), 50);
  EXPECT_FALSE(bucket.TryTake(199));
  EXPECT_EQ(bucket.WaitMs(199), 1);  // never 0 while empty: callers cannot spin
  EXPECT_TRUE(bucket.TryTake(200));
}

TEST(TokenBucketTest, WaitRoundsUpAtRatesThatDoNotDivideASecond) {
  TokenBucket bucket(3, 1, 0);  // 333.3 ms per token
  ASSERT_TRUE(bucket.TryTake(0));
  int64_t wait_ms = bucket.WaitMs(0);
  EXPECT_EQ(wait_ms, 334);
  EXPECT_FALSE(bucket.TryTake(wait_ms - 1));
  EXPECT_TRUE(bucket.TryTake(wait_ms));
}

TEST(TokenBucketTest, RefillIsCappedAtTheBurst) {
  TokenBucket bucket(10, 3, 0);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(bucket.TryTake(0));
  EXPECT_EQ(bucket.tokens(86'400'000), 3);  // a day later: still only the burst
}

TEST(TokenBucketTest, LongRunRateIsExact) {
  // Taking greedily for 10 s at 7/s with burst 2 yields 2 + 70 tokens: no
  // rounding drift accumulates in the integer units.
  TokenBucket bucket(7, 2, 0);
  int taken = 0;
  for (int64_t now_ms = 0; now_ms <= 10'000; ++now_ms) {
    while (bucket.TryTake(now_ms)) ++taken;
  }
  EXPECT_EQ(taken, 72);
}

TEST(TokenBucketTest, TimeGoingBackwardsEarnsNothing) {
  TokenBucket bucket(1, 1, 5000);
  ASSERT_TRUE(bucket.TryTake(5000));
  EXPECT_FALSE(bucket.TryTake(1000));
  EXPECT_EQ(bucket.WaitMs(1000), 1000);  // counted from the newest time seen
  EXPECT_TRUE(bucket.TryTake(6000));
}

TEST(TokenBucketTest, HighRatesAfterLongGapsDoNotOverflow) {
  TokenBucket bucket(100'000, 100'000, 0);
  for (int i = 0; i < 100'000; ++i) ASSERT_TRUE(bucket.TryTake(0));
  EXPECT_EQ(bucket.tokens(int64_t{1} << 40), 100'000);
}

}  // namespace
}  // namespace ringmta::relay
