// MX ordering and null MX without sockets: RFC 5321 §5.1 order, seeded
// shuffling within a preference, RFC 7505 null MX.
#include "dns/mx.h"

#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "dns/dns_limits.h"

namespace ringmta::dns {
namespace {

std::vector<std::string> Names(const MxResult& result) {
  std::vector<std::string> names;
  for (const MxHost& host : result.hosts) names.push_back(host.name);
  return names;
}

const std::vector<MxRecord> kRecords = {
    {30, "e.example"}, {10, "a.example"}, {20, "d.example"}, {10, "b.example"}, {10, "c.example"},
};

TEST(MxTest, SortsByPreference) {
  MxRandom random(1);
  auto result = OrderMxHosts(kRecords, random);
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_EQ(result->hosts.size(), 5u);
  std::vector<uint16_t> preferences;
  for (const MxHost& host : result->hosts) preferences.push_back(host.preference);
  EXPECT_EQ(preferences, (std::vector<uint16_t>{10, 10, 10, 20, 30}));
  EXPECT_EQ(result->hosts[3].name, "d.example");
  EXPECT_EQ(result->hosts[4].name, "e.example");
  EXPECT_FALSE(result->implicit);
}

TEST(MxTest, SameSeedSameOrderWhateverTheAnswerOrder) {
  std::vector<MxRecord> reversed(kRecords.rbegin(), kRecords.rend());
  for (uint64_t seed = 0; seed < 20; ++seed) {
    MxRandom one(seed), two(seed);
    EXPECT_EQ(Names(*OrderMxHosts(kRecords, one)), Names(*OrderMxHosts(reversed, two)));
  }
}

TEST(MxTest, EveryOrderOfEqualPreferencesOccurs) {
  std::set<std::vector<std::string>> orders;
  MxRandom random(7);
  for (int i = 0; i < 600; ++i) {
    std::vector<std::string> names = Names(*OrderMxHosts(kRecords, random));
    orders.insert({names.begin(), names.begin() + 3});
  }
  EXPECT_EQ(orders.size(), 6u);  // 3! permutations of a, b, c
}

TEST(MxTest, NullMxIsFailedPrecondition) {
  MxRandom random(1);
  EXPECT_TRUE(IsNullMx({{0, ""}}));
  EXPECT_TRUE(absl::IsFailedPrecondition(OrderMxHosts({{0, ""}}, random).status()));
  // "." is never deliverable, whatever its preference.
  EXPECT_TRUE(absl::IsFailedPrecondition(OrderMxHosts({{10, ""}}, random).status()));
  EXPECT_TRUE(absl::IsFailedPrecondition(OrderMxHosts({{0, ""}, {5, ""}}, random).status()));
}

TEST(MxTest, NullMxAmongRealHostsIsDropped) {
  MxRandom random(1);
  EXPECT_FALSE(IsNullMx({{0, ""}, {10, "mx.example"}}));
  auto result = OrderMxHosts({{0, ""}, {10, "mx.example"}}, random);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->hosts, (std::vector<MxHost>{{"mx.example", 10}}));
}

TEST(MxTest, DuplicateExchangeKeepsBestPreference) {
  MxRandom random(1);
  auto result = OrderMxHosts({{20, "mx.example"}, {5, "mx.example"}, {10, "b.example"}}, random);
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->hosts, (std::vector<MxHost>{{"mx.example", 5}, {"b.example", 10}}));
}

TEST(MxTest, KeepsAtMostTheHostLimitBestFirst) {
  std::vector<MxRecord> many;
  for (int i = 0; i < 100; ++i) {
    many.push_back({static_cast<uint16_t>(100 - i), "mx" + std::to_string(i) + ".example"});
  }
  MxRandom random(1);
  auto result = OrderMxHosts(many, random);
  ASSERT_TRUE(result.ok());
  ASSERT_EQ(result->hosts.size(), limits::kMxHostsMax);
  EXPECT_EQ(result->hosts.front().preference, 1);
  EXPECT_EQ(result->hosts.back().preference, limits::kMxHostsMax);
}

}  // namespace
}  // namespace ringmta::dns
