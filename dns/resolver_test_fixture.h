// ResolverTest: a fixture for resolver tests against the fake DNS server
// (one server per test binary, a fresh reactor and resolver per test). Its
// TearDown closes every resolver and checks nothing is left in the ring.
#ifndef RINGMTA_DNS_RESOLVER_TEST_FIXTURE_H_
#define RINGMTA_DNS_RESOLVER_TEST_FIXTURE_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "dns/resolver.h"
#include "dns/test_dns_server.h"
#include "mta/base/check.h"
#include "mta/io/operation.h"
#include "mta/io/task.h"
#include "mta/io/test_util.h"

namespace ringmta::dns {

using ::ringmta::io::CancelScope;
using ::ringmta::io::Task;

template <typename T>
Task<void> StoreResult(Task<T> task, std::optional<T>* out) {
  out->emplace(co_await std::move(task));
}

inline Task<void> SleepMs(io::Reactor& reactor, int64_t delay_ms) {
  co_await io::Sleep(reactor, nullptr, delay_ms);
}

inline std::vector<std::string> Names(const MxResult& result) {
  std::vector<std::string> names;
  for (const MxHost& host : result.hosts) names.push_back(host.name);
  return names;
}

class ResolverTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto server = TestDnsServer::Start();
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = server->release();
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }

  void SetUp() override {
    ASSERT_NE(server_, nullptr);
    auto reactor = io::Reactor::Create();
    ASSERT_TRUE(reactor.ok()) << reactor.status();
    reactor_ = std::move(*reactor);
    resolver_ = MakeResolver(Config());
  }
  void TearDown() override {
    for (auto& resolver : resolvers_) CloseResolver(*resolver);
    EXPECT_TRUE(io::RunUntil(*reactor_, [&] { return tasks_.empty(); }));
    EXPECT_EQ(reactor_->pending_operations(), 0);
    resolvers_.clear();
  }

  // Generous timeouts, so a loaded machine never turns an answer into a
  // timeout; TTL clamping off, so 1-second TTLs are honoured.
  ResolverConfig Config() const {
    ResolverConfig config;
    config.servers = {server_->address()};
    config.timeout_ms = 2000;
    config.tries = 3;
    config.cache.ttl_s_min = 0;
    config.shuffle_seed = 42;
    return config;
  }
  // For the tests that want a timeout: one 200 ms try, against answers
  // that take seconds. Nothing asserts how long it took.
  ResolverConfig ShortTimeoutConfig() const {
    ResolverConfig config = Config();
    config.timeout_ms = 200;
    config.tries = 1;
    return config;
  }
  Resolver* MakeResolver(const ResolverConfig& config) {
    auto resolver = Resolver::Create(*reactor_, config);
    EXPECT_TRUE(resolver.ok()) << resolver.status();
    if (!resolver.ok()) return nullptr;
    resolvers_.push_back(std::move(*resolver));
    return resolvers_.back().get();
  }
  void CloseResolver(Resolver& resolver) {
    std::optional<bool> closed;
    io::Spawn(*reactor_, tasks_, [](Resolver& r, std::optional<bool>* done) -> Task<void> {
      co_await r.Close();
      done->emplace(true);
    }(resolver, &closed));
    EXPECT_TRUE(io::RunUntil(*reactor_, [&] { return closed.has_value(); }));
    EXPECT_EQ(resolver.polls_in_flight(), 0);
  }

  template <typename T>
  T Await(Task<T> task) {
    std::optional<T> out;
    io::Spawn(*reactor_, tasks_, StoreResult(std::move(task), &out));
    CHECK(io::RunUntil(*reactor_, [&] { return out.has_value(); }));
    return *std::move(out);
  }
  void Sleep(int64_t delay_ms) {
    io::Spawn(*reactor_, tasks_, SleepMs(*reactor_, delay_ms));
    ASSERT_TRUE(io::RunUntil(*reactor_, [&] { return tasks_.empty(); }));
  }
  int Count(const std::string& name) {
    auto count = server_->QueryCount(name);
    EXPECT_TRUE(count.ok()) << count.status();
    return count.value_or(-1);
  }

  static inline TestDnsServer* server_ = nullptr;
  std::unique_ptr<io::Reactor> reactor_;
  io::TaskGroup tasks_;
  std::vector<std::unique_ptr<Resolver>> resolvers_;
  Resolver* resolver_ = nullptr;
};


}  // namespace ringmta::dns

#endif  // RINGMTA_DNS_RESOLVER_TEST_FIXTURE_H_
