// The answer cache on a virtual clock: TTL clamps, negative TTLs (RFC 2308
// §5), expiry, and LRU eviction at the entry limit.
#include "dns/cache.h"

#include <string>

#include <gtest/gtest.h>

namespace ringmta::dns {
namespace {

Answer Records(uint32_t ttl_s) {
  Answer answer;
  answer.kind = AnswerKind::kRecords;
  answer.mx = {{10, "mx.example"}};
  answer.ttl_s = ttl_s;
  return answer;
}

Answer Negative(AnswerKind kind, std::optional<uint32_t> ttl_s) {
  Answer answer;
  answer.kind = kind;
  answer.ttl_s = ttl_s;
  return answer;
}

CachePolicy Policy() {
  CachePolicy policy;
  policy.entries_max = 3;
  policy.ttl_s_min = 5;
  policy.ttl_s_max = 3600;
  policy.negative_ttl_s = 60;
  policy.negative_ttl_s_max = 600;
  return policy;
}

TEST(CacheTest, HitUntilTheTtlRunsOut) {
  DnsCache cache(Policy());
  cache.Insert("example", kTypeMx, Records(300), 1'000);
  EXPECT_TRUE(cache.Find("example", kTypeMx, 1'000).has_value());
  EXPECT_TRUE(cache.Find("example", kTypeMx, 300'999).has_value());
  EXPECT_FALSE(cache.Find("example", kTypeMx, 301'000).has_value());
  EXPECT_EQ(cache.size(), 0u);  // the expired entry is gone
}

TEST(CacheTest, TypesAreSeparate) {
  DnsCache cache(Policy());
  cache.Insert("example", kTypeMx, Records(300), 0);
  EXPECT_FALSE(cache.Find("example", kTypeA, 0).has_value());
  EXPECT_EQ(cache.Find("example", kTypeMx, 0)->mx[0].exchange, "mx.example");
}

TEST(CacheTest, PositiveTtlIsClamped) {
  DnsCache cache(Policy());
  EXPECT_EQ(cache.LifetimeSeconds(Records(0)), 5);
  EXPECT_EQ(cache.LifetimeSeconds(Records(100)), 100);
  EXPECT_EQ(cache.LifetimeSeconds(Records(604'800)), 3600);
}

TEST(CacheTest, NegativeTtlComesFromSoaOrTheDefault) {
  DnsCache cache(Policy());
  EXPECT_EQ(cache.LifetimeSeconds(Negative(AnswerKind::kNxDomain, 30)), 30);
  EXPECT_EQ(cache.LifetimeSeconds(Negative(AnswerKind::kNoData, std::nullopt)), 60);
  EXPECT_EQ(cache.LifetimeSeconds(Negative(AnswerKind::kNxDomain, 86'400)), 600);
  EXPECT_EQ(cache.LifetimeSeconds(Negative(AnswerKind::kNoData, 1)), 5);
  cache.Insert("gone.example", kTypeA, Negative(AnswerKind::kNxDomain, 30), 0);
  EXPECT_EQ(cache.Find("gone.example", kTypeA, 29'999)->kind, AnswerKind::kNxDomain);
  EXPECT_FALSE(cache.Find("gone.example", kTypeA, 30'000).has_value());
}

TEST(CacheTest, ZeroLifetimeIsNotKept) {
  CachePolicy policy = Policy();
  policy.ttl_s_min = 0;
  DnsCache cache(policy);
  cache.Insert("example", kTypeA, Records(300), 0);
  cache.Insert("example", kTypeA, Records(0), 0);  // replaces, then drops
  EXPECT_FALSE(cache.Find("example", kTypeA, 0).has_value());
  EXPECT_EQ(cache.size(), 0u);
}

TEST(CacheTest, EvictsTheLeastRecentlyUsed) {
  DnsCache cache(Policy());
  cache.Insert("one", kTypeA, Records(300), 0);
  cache.Insert("two", kTypeA, Records(300), 0);
  cache.Insert("three", kTypeA, Records(300), 0);
  ASSERT_TRUE(cache.Find("one", kTypeA, 0).has_value());  // "two" is now the oldest
  cache.Insert("four", kTypeA, Records(300), 0);
  EXPECT_EQ(cache.size(), 3u);
  EXPECT_FALSE(cache.Find("two", kTypeA, 0).has_value());
  EXPECT_TRUE(cache.Find("one", kTypeA, 0).has_value());
  EXPECT_TRUE(cache.Find("three", kTypeA, 0).has_value());
  EXPECT_TRUE(cache.Find("four", kTypeA, 0).has_value());
}

TEST(CacheTest, ReinsertReplacesWithoutGrowing) {
  DnsCache cache(Policy());
  cache.Insert("example", kTypeA, Records(300), 0);
  cache.Insert("example", kTypeA, Negative(AnswerKind::kNoData, 30), 0);
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_EQ(cache.Find("example", kTypeA, 0)->kind, AnswerKind::kNoData);
}

}  // namespace
}  // namespace ringmta::dns
