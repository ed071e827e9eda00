// The resolver over a real io_uring against the fake DNS server on loopback
// (dns/testdata/fake_dns_server.py): MX policy, error mapping, CNAMEs, both
// address families, TCP fallback. (Caching, concurrency, cancellation and
// shutdown: resolver_lifecycle_test.cc.)
#include "dns/resolver.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "dns/resolver_test_fixture.h"

namespace ringmta::dns {
namespace {

TEST_F(ResolverTest, MxHostsComeByPreferenceShuffledWithinOne) {
  auto mx = Await(resolver_->ResolveMx("Multi.Test."));
  ASSERT_TRUE(mx.ok()) << mx.status();
  EXPECT_FALSE(mx->implicit);
  std::vector<std::string> names = Names(*mx);
  ASSERT_EQ(names.size(), 5u);
  EXPECT_EQ(std::set<std::string>(names.begin(), names.begin() + 3),
            (std::set<std::string>{"a.mx.test", "b.mx.test", "c.mx.test"}));
  EXPECT_EQ(names[3], "d.mx.test");
  EXPECT_EQ(names[4], "e.mx.test");
  for (int i = 0; i < 3; ++i) EXPECT_EQ(mx->hosts[i].preference, 10);
}

TEST_F(ResolverTest, MxShuffleIsSeededAndSpreadsLoad) {
  Resolver* twin = MakeResolver(Config());
  std::set<std::string> first_hosts;
  for (int i = 0; i < 30; ++i) {
    auto mine = Await(resolver_->ResolveMx("multi.test"));
    auto theirs = Await(twin->ResolveMx("multi.test"));
    ASSERT_TRUE(mine.ok() && theirs.ok());
    EXPECT_EQ(Names(*mine), Names(*theirs));  // same seed, same orders
    first_hosts.insert(mine->hosts[0].name);
  }
  // Cached answers are shuffled again on every call.
  EXPECT_GE(first_hosts.size(), 2u);
}

TEST_F(ResolverTest, CnameChainIsFollowed) {
  auto mx = Await(resolver_->ResolveMx("alias.test"));
  ASSERT_TRUE(mx.ok()) << mx.status();
  EXPECT_EQ(mx->hosts.size(), 5u);
  EXPECT_EQ(mx->hosts.back().name, "e.mx.test");
}

TEST_F(ResolverTest, ImplicitMxWhenThereIsNoMx) {
  auto mx = Await(resolver_->ResolveMx("implicit.test"));
  ASSERT_TRUE(mx.ok()) << mx.status();
  EXPECT_TRUE(mx->implicit);
  ASSERT_EQ(mx->hosts.size(), 1u);
  EXPECT_EQ(mx->hosts[0], (MxHost{"implicit.test", 0}));
}

TEST_F(ResolverTest, NoMxAndNoAddressIsNotFound) {
  auto mx = Await(resolver_->ResolveMx("noaddr.test"));
  EXPECT_TRUE(absl::IsNotFound(mx.status())) << mx.status();
}

TEST_F(ResolverTest, NullMxIsFailedPrecondition) {
  auto mx = Await(resolver_->ResolveMx("nullmx.test"));
  EXPECT_TRUE(absl::IsFailedPrecondition(mx.status())) << mx.status();
}

TEST_F(ResolverTest, NxDomainIsNotFound) {
  auto mx = Await(resolver_->ResolveMx("nx.test"));
  EXPECT_TRUE(absl::IsNotFound(mx.status())) << mx.status();
  auto addresses = Await(resolver_->ResolveAddresses("nx.test"));
  EXPECT_TRUE(absl::IsNotFound(addresses.status())) << addresses.status();
}

TEST_F(ResolverTest, ServfailAndRefusedAreUnavailable) {
  auto servfail = Await(resolver_->ResolveMx("servfail.test"));
  EXPECT_TRUE(absl::IsUnavailable(servfail.status())) << servfail.status();
  auto refused = Await(resolver_->ResolveAddresses("refused.test"));
  EXPECT_TRUE(absl::IsUnavailable(refused.status())) << refused.status();
}

TEST_F(ResolverTest, TimeoutIsUnavailable) {
  Resolver* impatient = MakeResolver(ShortTimeoutConfig());
  auto mx = Await(impatient->ResolveMx("slow.test"));
  EXPECT_TRUE(absl::IsUnavailable(mx.status())) << mx.status();
}

// A loopback UDP port nobody listens on: queries to it meet ICMP port
// unreachable (or, failing that, a timeout).
uint16_t UnusedUdpPort() {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  CHECK(bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  CHECK(getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0);
  close(fd);
  return ntohs(address.sin_port);
}

TEST_F(ResolverTest, UnreachableServerIsUnavailable) {
  ResolverConfig config = ShortTimeoutConfig();
  config.servers = {"127.0.0.1:" + std::to_string(UnusedUdpPort())};
  Resolver* lonely = MakeResolver(config);
  auto mx = Await(lonely->ResolveMx("multi.test"));
  EXPECT_TRUE(absl::IsUnavailable(mx.status())) << mx.status();
}

TEST_F(ResolverTest, DeadServerFailsOverToTheNext) {
  ResolverConfig config = Config();
  config.servers = {"127.0.0.1:" + std::to_string(UnusedUdpPort()), server_->address()};
  Resolver* failover = MakeResolver(config);
  auto mx = Await(failover->ResolveMx("multi.test"));
  ASSERT_TRUE(mx.ok()) << mx.status();
  EXPECT_EQ(mx->hosts.size(), 5u);
}

TEST_F(ResolverTest, InvalidNameIsInvalidArgument) {
  for (const char* name : {"", "a..b", "exa mple.com", "bad\nname.test"}) {
    auto mx = Await(resolver_->ResolveMx(name));
    EXPECT_TRUE(absl::IsInvalidArgument(mx.status())) << name << ": " << mx.status();
  }
  EXPECT_EQ(resolver_->stats().queries_started, 0u);
}

TEST_F(ResolverTest, AddressesOfBothFamiliesIpv6First) {
  auto both = Await(resolver_->ResolveAddresses("implicit.test"));
  ASSERT_TRUE(both.ok()) << both.status();
  ASSERT_EQ(both->size(), 2u);
  EXPECT_EQ((*both)[0].ToString(), "2001:db8::10");
  EXPECT_EQ((*both)[1].ToString(), "192.0.2.10");
  auto v6 = Await(resolver_->ResolveAddresses("v6only.test"));
  ASSERT_TRUE(v6.ok()) << v6.status();
  ASSERT_EQ(v6->size(), 1u);
  EXPECT_TRUE((*v6)[0].is_v6());
  auto none = Await(resolver_->ResolveAddresses("noaddr.test"));
  EXPECT_TRUE(absl::IsNotFound(none.status())) << none.status();
}

TEST_F(ResolverTest, TruncatedUdpAnswerIsRetriedOverTcp) {
  auto mx = Await(resolver_->ResolveMx("tcp.test"));
  ASSERT_TRUE(mx.ok()) << mx.status();
  ASSERT_EQ(mx->hosts.size(), 1u);
  EXPECT_EQ(mx->hosts[0], (MxHost{"a.mx.test", 5}));
}

}  // namespace
}  // namespace ringmta::dns
