#include "mta/relay/route.h"

#include <gtest/gtest.h>

namespace ringmta::relay {
namespace {

TEST(RouteTest, ExactDomainBeatsWildcard) {
  auto router = Router::Create({{"*", {"relay.example", 587}}, {"Example.ORG", {"10.0.0.1", 25}}});
  ASSERT_TRUE(router.ok());
  EXPECT_EQ(router->SmartHostFor("example.org")->host, "10.0.0.1");
  EXPECT_EQ(router->SmartHostFor("other.net")->host, "relay.example");
}

TEST(RouteTest, NoRouteMeansMx) {
  auto router = Router::Create({{"example.org", {"10.0.0.1", 25}}});
  ASSERT_TRUE(router.ok());
  EXPECT_EQ(router->SmartHostFor("other.net"), nullptr);
}

TEST(RouteTest, DuplicateDomainIsRejected) {
  EXPECT_FALSE(Router::Create({{"a.example", {"h", 25}}, {"A.example", {"g", 25}}}).ok());
}

TEST(RouteTest, ParsesNextHops) {
  auto plain = ParseNextHop("mail.example");
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->port, 25);
  auto with_port = ParseNextHop("127.0.0.1:2525");
  ASSERT_TRUE(with_port.ok());
  EXPECT_EQ(with_port->host, "127.0.0.1");
  EXPECT_EQ(with_port->port, 2525);
  auto v6 = ParseNextHop("[::1]:26");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 26);
  EXPECT_FALSE(ParseNextHop("host:0").ok());
  EXPECT_FALSE(ParseNextHop("host:99999").ok());
  EXPECT_FALSE(ParseNextHop(":25").ok());
  EXPECT_FALSE(ParseNextHop("[::1").ok());
}

TEST(RouteTest, MxSitesWithTheSameHostsShareAKey) {
  EXPECT_EQ(MxSiteKey({"MX2.example", "mx1.example"}, 25),
            MxSiteKey({"mx1.example", "mx2.example", "mx1.example"}, 25));
  EXPECT_NE(MxSiteKey({"mx1.example"}, 25), MxSiteKey({"mx2.example"}, 25));
}

TEST(RouteTest, OwnerShardIsStableAndInRange) {
  EXPECT_EQ(OwnerShard("smarthost:relay:25", 7), OwnerShard("smarthost:relay:25", 7));
  for (int shards = 1; shards < 9; ++shards) {
    int owner = OwnerShard("mx:a,b:25", shards);
    EXPECT_GE(owner, 0);
    EXPECT_LT(owner, shards);
  }
  // FNV-1a of the empty key, fixed forever: owners must not move between builds.
  EXPECT_EQ(OwnerShard("", 1000), static_cast<int>(1469598103934665603ull % 1000));
}

TEST(RouteTest, DomainOfLowersAndHandlesNoAt) {
  EXPECT_EQ(DomainOf("User@Example.COM"), "example.com");
  EXPECT_EQ(DomainOf("postmaster"), "");
  EXPECT_EQ(DomainOf("\"a@b\"@c.example"), "c.example");
}

}  // namespace
}  // namespace ringmta::relay
