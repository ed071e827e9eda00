// The resolver's life over time against the fake DNS server: cache hits,
// TTL expiry on the reactor's clock, negative caching, many concurrent
// lookups, cancellation (the late answer lands safely), and shutdown with
// nothing left in the ring. The server's query counter is the witness.
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "dns/resolver.h"
#include "dns/resolver_test_fixture.h"

namespace ringmta::dns {
namespace {

using ResolverLifecycleTest = ResolverTest;

// The server counts every datagram, retransmissions included, so these
// tests compare counts across lookups rather than expect exact numbers.

TEST_F(ResolverLifecycleTest, CachedAnswerSendsNoQuery) {
  ASSERT_TRUE(Await(resolver_->ResolveMx("multi.test")).ok());
  int after_first = Count("multi.test");
  ASSERT_TRUE(Await(resolver_->ResolveMx("MULTI.test.")).ok());
  EXPECT_EQ(Count("multi.test"), after_first);
  EXPECT_EQ(resolver_->stats().queries_started, 1u);
  EXPECT_EQ(resolver_->stats().cache_hits, 1u);
}

TEST_F(ResolverLifecycleTest, ExpiredTtlQueriesAgain) {
  ASSERT_TRUE(Await(resolver_->ResolveAddresses("ttl1.test")).ok());
  int after_first = Count("ttl1.test");
  Sleep(1100);  // the A record's TTL is 1 s
  ASSERT_TRUE(Await(resolver_->ResolveAddresses("ttl1.test")).ok());
  EXPECT_GT(Count("ttl1.test"), after_first);
  // A and AAAA, then A again: AAAA's no-data answer lives its SOA minimum (300 s).
  EXPECT_EQ(resolver_->stats().queries_started, 3u);
}

TEST_F(ResolverLifecycleTest, TtlIsClampedToTheConfiguredMinimum) {
  ResolverConfig config = Config();
  config.cache.ttl_s_min = 60;
  Resolver* clamped = MakeResolver(config);
  ASSERT_TRUE(Await(clamped->ResolveAddresses("ttl1.test")).ok());
  int after_first = Count("ttl1.test");
  Sleep(1100);
  ASSERT_TRUE(Await(clamped->ResolveAddresses("ttl1.test")).ok());
  EXPECT_EQ(Count("ttl1.test"), after_first);
  EXPECT_EQ(clamped->stats().queries_started, 2u);
}

TEST_F(ResolverLifecycleTest, NegativeAnswersAreCached) {
  EXPECT_TRUE(absl::IsNotFound(Await(resolver_->ResolveMx("nx.test")).status()));
  int after_first = Count("nx.test");
  EXPECT_TRUE(absl::IsNotFound(Await(resolver_->ResolveMx("nx.test")).status()));
  EXPECT_EQ(Count("nx.test"), after_first);
  EXPECT_EQ(resolver_->stats().cache_hits, 1u);
}

TEST_F(ResolverLifecycleTest, NegativeAnswerExpiresWithSoaMinimum) {
  // NXDOMAIN whose SOA minimum is 1 s.
  EXPECT_TRUE(absl::IsNotFound(Await(resolver_->ResolveMx("neg1.test")).status()));
  int after_first = Count("neg1.test");
  Sleep(1100);
  EXPECT_TRUE(absl::IsNotFound(Await(resolver_->ResolveMx("neg1.test")).status()));
  EXPECT_GT(Count("neg1.test"), after_first);
  EXPECT_EQ(resolver_->stats().queries_started, 2u);
}

TEST_F(ResolverLifecycleTest, TemporaryFailuresAreNotCached) {
  EXPECT_TRUE(absl::IsUnavailable(Await(resolver_->ResolveMx("servfail.test")).status()));
  int after_first = Count("servfail.test");
  EXPECT_TRUE(absl::IsUnavailable(Await(resolver_->ResolveMx("servfail.test")).status()));
  EXPECT_GT(Count("servfail.test"), after_first);
  EXPECT_EQ(resolver_->stats().queries_started, 2u);
}

Task<void> ResolveInto(Resolver& resolver, std::string host,
                       std::optional<absl::StatusOr<std::vector<IpAddress>>>* out) {
  out->emplace(co_await resolver.ResolveAddresses(std::move(host)));
}

TEST_F(ResolverLifecycleTest, HundredConcurrentLookups) {
  constexpr int kLookups = 100;
  std::vector<std::optional<absl::StatusOr<std::vector<IpAddress>>>> distinct(kLookups);
  std::vector<std::optional<absl::StatusOr<std::vector<IpAddress>>>> shared(kLookups);
  for (int i = 0; i < kLookups; ++i) {
    io::Spawn(*reactor_, tasks_,
              ResolveInto(*resolver_, "host" + std::to_string(i) + ".many.test", &distinct[i]));
    io::Spawn(*reactor_, tasks_, ResolveInto(*resolver_, "host4242.many.test", &shared[i]));
  }
  ASSERT_TRUE(io::RunUntil(*reactor_, [&] { return tasks_.empty(); }));
  for (int i = 0; i < kLookups; ++i) {
    ASSERT_TRUE(distinct[i]->ok()) << i << ": " << distinct[i]->status();
    ASSERT_EQ((*distinct[i])->size(), 1u);
    EXPECT_EQ((**distinct[i])[0].ToString(), "10.0.0." + std::to_string(i));
    ASSERT_TRUE(shared[i]->ok()) << shared[i]->status();
    EXPECT_EQ((**shared[i])[0].ToString(), "10.0.16.146");  // 4242 = 16 * 256 + 146
  }
  // Identical lookups in flight share one query per type.
  EXPECT_EQ(resolver_->stats().queries_started, 2u * (kLookups + 1));
  EXPECT_EQ(resolver_->stats().coalesced, 2u * (kLookups - 1));
}

TEST_F(ResolverLifecycleTest, CancelledWaiterResumesAndTheLateAnswerLandsSafely) {
  resolver_ = MakeResolver(ShortTimeoutConfig());
  CancelScope scope;
  std::optional<absl::StatusOr<MxResult>> cancelled, patient;
  io::Spawn(*reactor_, tasks_, StoreResult(resolver_->ResolveMx("slow.test", &scope), &cancelled));
  io::Spawn(*reactor_, tasks_, StoreResult(resolver_->ResolveMx("slow.test"), &patient));
  ASSERT_TRUE(io::RunUntil(*reactor_, [&] { return resolver_->stats().coalesced == 1; }));
  scope.Cancel();
  ASSERT_TRUE(io::RunUntil(*reactor_, [&] { return cancelled.has_value(); }));
  EXPECT_TRUE(absl::IsCancelled(cancelled->status())) << cancelled->status();
  // The shared query runs on for the other waiter and ends in a timeout.
  ASSERT_TRUE(io::RunUntil(*reactor_, [&] { return patient.has_value(); }));
  EXPECT_TRUE(absl::IsUnavailable(patient->status())) << patient->status();
  EXPECT_EQ(resolver_->queries_in_flight(), 0u);
  EXPECT_EQ(resolver_->stats().cancelled, 1u);
}

TEST_F(ResolverLifecycleTest, QueryOutlivesItsOnlyCancelledWaiter) {
  resolver_ = MakeResolver(ShortTimeoutConfig());
  CancelScope scope;
  std::optional<absl::StatusOr<std::vector<IpAddress>>> result;
  io::Spawn(*reactor_, tasks_,
            StoreResult(resolver_->ResolveAddresses("slow.test", &scope), &result));
  ASSERT_TRUE(io::RunUntil(*reactor_, [&] { return resolver_->queries_in_flight() > 0; }));
  scope.Cancel();
  ASSERT_TRUE(io::RunUntil(*reactor_, [&] { return result.has_value(); }));
  EXPECT_TRUE(absl::IsCancelled(result->status())) << result->status();
  // The records wait for c-ares' callback, which must find live memory.
  ASSERT_TRUE(io::RunUntil(*reactor_, [&] { return resolver_->queries_in_flight() == 0; }));
}

TEST_F(ResolverLifecycleTest, CancelledScopeFailsAtOnce) {
  CancelScope scope;
  scope.Cancel();
  auto mx = Await(resolver_->ResolveMx("multi.test", &scope));
  EXPECT_TRUE(absl::IsCancelled(mx.status())) << mx.status();
  EXPECT_EQ(resolver_->stats().queries_started, 0u);
}

TEST_F(ResolverLifecycleTest, CloseEndsLookupsInFlight) {
  std::optional<absl::StatusOr<MxResult>> result;
  io::Spawn(*reactor_, tasks_, StoreResult(resolver_->ResolveMx("slow.test"), &result));
  ASSERT_TRUE(io::RunUntil(*reactor_, [&] { return resolver_->polls_in_flight() > 0; }));
  CloseResolver(*resolver_);
  ASSERT_TRUE(io::RunUntil(*reactor_, [&] { return result.has_value(); }));
  EXPECT_TRUE(absl::IsCancelled(result->status())) << result->status();
  EXPECT_EQ(reactor_->pending_operations(), 0);
  auto late = Await(resolver_->ResolveAddresses("multi.test"));
  EXPECT_TRUE(absl::IsCancelled(late.status())) << late.status();
}

TEST_F(ResolverLifecycleTest, IdleResolverHoldsNoRingOperations) {
  ASSERT_TRUE(Await(resolver_->ResolveMx("multi.test")).ok());
  // With no query left c-ares closes its sockets; their polls are cancelled.
  EXPECT_TRUE(io::RunUntil(*reactor_, [&] { return reactor_->pending_operations() == 0; }));
  // And opens new ones (perhaps under the same descriptor numbers) later.
  ASSERT_TRUE(Await(resolver_->ResolveAddresses("a.mx.test")).ok());
  EXPECT_TRUE(io::RunUntil(*reactor_, [&] { return reactor_->pending_operations() == 0; }));
}

TEST_F(ResolverLifecycleTest, ConfigIsValidated) {
  ResolverConfig config = Config();
  for (const char* server : {"localhost:53", "127.0.0.1:", "127.0.0.1:0", "[::1", "1.2.3.4:99999"}) {
    config.servers = {server};
    EXPECT_TRUE(absl::IsInvalidArgument(Resolver::Create(*reactor_, config).status())) << server;
  }
  config.servers = {"[::1]:5353", "::1", "127.0.0.1"};
  EXPECT_TRUE(Resolver::Create(*reactor_, config).ok());
  config.servers.clear();  // the system's resolv.conf
  EXPECT_TRUE(Resolver::Create(*reactor_, config).ok());
  config = Config();
  config.timeout_ms = 1;
  EXPECT_TRUE(absl::IsInvalidArgument(Resolver::Create(*reactor_, config).status()));
  config = Config();
  config.cache.entries_max = limits::kCacheEntriesMax + 1;
  EXPECT_TRUE(absl::IsInvalidArgument(Resolver::Create(*reactor_, config).status()));
}

}  // namespace
}  // namespace ringmta::dns
