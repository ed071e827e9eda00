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

TEST(RouteTest, SmartHostKeySeparatesSettingsButNeverHoldsThePassword) {
  NextHop plain{"Relay.Example", 587};
  EXPECT_EQ(SmartHostKey(plain), "smarthost:relay.example:587");
  auto security = std::make_shared<HopSecurity>();
  security->tls = tls::ClientPolicy::kVerify;
  security->auth_username = "alice";
  security->auth_password = "hunter2";
  NextHop alice{"relay.example", 587, security};
  auto other = std::make_shared<HopSecurity>(*security);
  other->auth_username = "bob";
  NextHop bob{"relay.example", 587, other};
  EXPECT_NE(SmartHostKey(alice), SmartHostKey(plain));
  EXPECT_NE(SmartHostKey(alice), SmartHostKey(bob));
  EXPECT_EQ(SmartHostKey(alice).find("hunter2"), std::string::npos);
  // A new password for the same account keeps the destination.
  auto rotated = std::make_shared<HopSecurity>(*security);
  rotated->auth_password = "correct horse";
  EXPECT_EQ(SmartHostKey(NextHop{"relay.example", 587, rotated}), SmartHostKey(alice));
}

TEST(RouteTest, RoutesKeepTheirSecurity) {
  auto security = std::make_shared<HopSecurity>();
  security->tls = tls::ClientPolicy::kEncrypt;
  auto router = Router::Create({{"a.example", {"h", 25, security}}, {"*", {"g", 25}}});
  ASSERT_TRUE(router.ok());
  EXPECT_EQ(router->SmartHostFor("a.example")->security, security);
  EXPECT_EQ(router->SmartHostFor("b.example")->security, nullptr);  // MX defaults
}

}  // namespace
}  // namespace ringmta::relay
