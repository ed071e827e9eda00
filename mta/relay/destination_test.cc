// Destination's scheduling on a virtual clock: a fake host with its own
// timer wheel runs fake sessions, so rate limits are checked by counting
// token waits and virtual milliseconds, never wall time.
#include "mta/relay/destination.h"

#include <coroutine>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <vector>

#include "gtest/gtest.h"
#include "mta/relay/destination_table.h"

namespace ringmta::relay {
namespace {

// A coroutine that starts at once and frees itself when done.
struct Detached {
  struct promise_type {
    Detached get_return_object() { return {}; }
    std::suspend_never initial_suspend() noexcept { return {}; }
    std::suspend_never final_suspend() noexcept { return {}; }
    void return_void() {}
    void unhandled_exception() { std::terminate(); }
  };
};

class FakeHost : public DestinationHost {
 public:
  FakeHost() : wheel_(0) {}

  const RelayConfig& config() const override { return config_; }
  int64_t now_ms() const override { return wheel_.now_ms(); }
  io::TimerWheel& timers() override { return wheel_; }
  void Resume(std::coroutine_handle<> handle) override {
    work_.push_back([handle] { handle.resume(); });
  }
  void StartSession(Destination& destination) override {
    session_starts_ms.push_back(now_ms());
    work_.push_back([this, &destination] { Session(destination); });
  }
  void ReturnJob(DeliveryJob* job) override { returned.push_back(job); }

  // Like an outbound session: takes jobs until idle, delivering each. With
  // `lose_pooled_connection`, its connection is gone by the second job,
  // which it gives back (as the real session does) and ends.
  Detached Session(Destination& destination) {
    DeliveryJob* job = co_await destination.NextJob(0);
    int messages = 0;
    while (job != nullptr) {
      if (messages > 0 && lose_pooled_connection) {
        destination.Requeue(job);
        break;
      }
      handed_ms.push_back(now_ms());
      job->SetAllOutcomes(OutcomeKind::kDelivered, 250, "2.0.0", "ok");
      destination.Finish(job);
      destination.OnDelivered();
      if (++messages >= config_.messages_per_connection_max) break;
      job = co_await destination.NextJob(config_.idle_timeout_ms);
    }
    destination.OnSessionEnded();
  }

  DeliveryJob* NewJob() {
    jobs_.push_back(std::make_unique<DeliveryJob>());
    jobs_.back()->recipients = {0};
    return jobs_.back().get();
  }

  // Runs posted work, then moves virtual time to the next timer, until
  // nothing is left or `limit_ms` of virtual time has passed.
  void Run(int64_t limit_ms = 3'600'000) {
    for (;;) {
      while (!work_.empty()) {
        std::function<void()> next = std::move(work_.front());
        work_.pop_front();
        next();
      }
      std::optional<int64_t> deadline_ms = wheel_.NextDeadlineMs();
      if (!deadline_ms || *deadline_ms > limit_ms) return;
      wheel_.Advance(std::max(*deadline_ms, wheel_.now_ms()));
    }
  }
  void AdvanceTo(int64_t now_ms) {
    Run(now_ms);
    wheel_.Advance(now_ms);
    Run(now_ms);
  }

  RelayConfig config_;
  bool lose_pooled_connection = false;
  std::vector<int64_t> handed_ms;
  std::vector<int64_t> session_starts_ms;
  std::vector<DeliveryJob*> returned;

 private:
  io::TimerWheel wheel_;
  std::deque<std::function<void()>> work_;
  std::vector<std::unique_ptr<DeliveryJob>> jobs_;
};

TEST(DestinationTest, UnlimitedByDefaultHandsEveryJobOutAtOnce) {
  FakeHost host;
  Destination destination(host, "example.test", {});
  for (int i = 0; i < 100; ++i) destination.Submit(host.NewJob());
  host.Run();
  ASSERT_EQ(host.handed_ms.size(), 100u);
  EXPECT_EQ(host.handed_ms.back(), 0);
  EXPECT_EQ(destination.message_rate_waits(), 0u);
  EXPECT_EQ(destination.connection_rate_waits(), 0u);
  EXPECT_TRUE(destination.idle());
}

TEST(DestinationTest, MessagesPerSecondTakesOneRefillPeriodPerJobPastTheBurst) {
  FakeHost host;
  host.config_.messages_per_second_per_destination = 5;  // a token per 200 ms, burst 5
  host.config_.initial_concurrency = 1;
  host.config_.connections_per_destination_max = 1;
  Destination destination(host, "example.test", {});
  for (int i = 0; i < 20; ++i) destination.Submit(host.NewJob());
  host.Run();
  std::vector<int64_t> expected_ms = {0, 0, 0, 0, 0};
  for (int64_t t = 200; t <= 3000; t += 200) expected_ms.push_back(t);
  EXPECT_EQ(host.handed_ms, expected_ms);
  EXPECT_EQ(destination.message_rate_waits(), 15u);
  EXPECT_EQ(host.returned.size(), 20u);
  // The session waited for tokens on its open connection: one connection.
  EXPECT_EQ(host.session_starts_ms.size(), 1u);
}

TEST(DestinationTest, ManySessionsShareOneMessageRate) {
  FakeHost host;
  host.config_.messages_per_second_per_destination = 5;
  host.config_.connections_per_destination_max = 10;
  Destination destination(host, "example.test", {});
  for (int i = 0; i < 20; ++i) destination.Submit(host.NewJob());
  host.Run();
  ASSERT_EQ(host.handed_ms.size(), 20u);
  // Never faster than the bucket allows: the k-th job (from 0) no sooner
  // than (k - burst + 1) refill periods; and no slower either.
  for (size_t k = 5; k < host.handed_ms.size(); ++k) {
    EXPECT_GE(host.handed_ms[k], static_cast<int64_t>(k - 4) * 200) << k;
  }
  EXPECT_EQ(host.handed_ms.back(), 3000);
  EXPECT_EQ(destination.message_rate_waits(), 15u);
}

TEST(DestinationTest, ConnectionsPerSecondSpacesNewSessions) {
  FakeHost host;
  host.config_.connections_per_second_per_destination = 2;  // one per 500 ms, burst 2
  host.config_.messages_per_connection_max = 1;             // every job needs a connection
  Destination destination(host, "example.test", {});
  for (int i = 0; i < 10; ++i) destination.Submit(host.NewJob());
  host.Run();
  ASSERT_EQ(host.session_starts_ms.size(), 10u);
  std::vector<int64_t> expected_ms = {0, 0};
  for (int64_t t = 500; t <= 4000; t += 500) expected_ms.push_back(t);
  EXPECT_EQ(host.session_starts_ms, expected_ms);
  EXPECT_EQ(destination.connection_rate_waits(), 8u);
  EXPECT_EQ(host.handed_ms.size(), 10u);
}

TEST(DestinationTest, ALimitedDestinationDoesNotDelayAnother) {
  FakeHost host;
  host.config_.messages_per_second_per_destination = 1;
  Destination slow(host, "slow.test", {});
  Destination other(host, "other.test", {});
  for (int i = 0; i < 5; ++i) slow.Submit(host.NewJob());
  host.AdvanceTo(10);  // slow.test now waits for tokens
  other.Submit(host.NewJob());
  host.AdvanceTo(20);
  ASSERT_EQ(host.handed_ms.size(), 2u);  // slow's burst of one, and other's job
  EXPECT_EQ(host.handed_ms[1], 10);
  EXPECT_EQ(other.message_rate_waits(), 0u);
  host.Run();
  EXPECT_EQ(host.handed_ms.size(), 6u);
  EXPECT_EQ(host.handed_ms.back(), 4000);
}

TEST(DestinationTest, ASessionWaitingForATokenIsNotIdle) {
  FakeHost host;
  host.config_.messages_per_second_per_destination = 1;
  host.config_.idle_timeout_ms = 50;  // far shorter than the 1 s between tokens
  host.config_.connections_per_destination_max = 1;
  Destination destination(host, "example.test", {});
  for (int i = 0; i < 3; ++i) destination.Submit(host.NewJob());
  host.Run();
  EXPECT_EQ(host.handed_ms, (std::vector<int64_t>{0, 1000, 2000}));
  EXPECT_EQ(host.session_starts_ms.size(), 1u);
  EXPECT_EQ(destination.sessions(), 0);  // and it did end once idle
}

TEST(DestinationTest, StopWhileWaitingForATokenDefersTheRest) {
  FakeHost host;
  host.config_.messages_per_second_per_destination = 1;
  host.config_.connections_per_destination_max = 1;
  Destination destination(host, "example.test", {});
  for (int i = 0; i < 4; ++i) destination.Submit(host.NewJob());
  host.AdvanceTo(100);
  ASSERT_EQ(host.handed_ms.size(), 1u);
  destination.Stop();
  host.Run();
  ASSERT_EQ(host.returned.size(), 4u);
  for (size_t i = 1; i < host.returned.size(); ++i) {
    ASSERT_EQ(host.returned[i]->outcomes.size(), 1u);
    EXPECT_EQ(host.returned[i]->outcomes[0].kind, OutcomeKind::kDeferred);
  }
  EXPECT_EQ(host.timers().size(), 0u);  // no timer left behind
  EXPECT_TRUE(destination.idle());
}

TEST(DestinationTableTest, IdleDestinationsAreForgottenAfterTheForgetTime) {
  FakeHost host;
  DestinationTable table(host);
  for (const char* key : {"a.test", "b.test", "c.test"}) {
    table.FindOrAdd(key, {}).Submit(host.NewJob());
  }
  host.Run();
  ASSERT_EQ(table.size(), 3u);
  const int64_t idle_since_ms = host.now_ms();
  EXPECT_EQ(table.ForgetIdle(idle_since_ms + 999, 1000), 0u);
  EXPECT_EQ(table.size(), 3u);
  table.FindOrAdd("b.test", {}).Submit(host.NewJob());  // b stays busy a while
  host.AdvanceTo(idle_since_ms + 500);
  EXPECT_EQ(table.ForgetIdle(idle_since_ms + 1000, 1000), 2u);
  EXPECT_EQ(table.size(), 1u);
  EXPECT_NE(table.Find("b.test"), nullptr);
  EXPECT_EQ(table.Find("a.test"), nullptr);
  host.Run();  // b's session ends once idle
  EXPECT_EQ(table.ForgetIdle(host.now_ms() + 1000, 1000), 1u);
  EXPECT_EQ(table.size(), 0u);
}

TEST(DestinationTableTest, BusyOrBackedOffDestinationsAreKept) {
  FakeHost host;
  host.config_.destination_backoff_ms = 60'000;
  DestinationTable table(host);
  Destination& backed_off = table.FindOrAdd("down.test", {});
  for (int i = 0; i < host.config_.destination_failures_max; ++i) backed_off.OnConnectFailed();
  Destination& waiting = table.FindOrAdd("queued.test", {});
  host.config_.initial_concurrency = 1;
  // A job no session has taken yet keeps its destination.
  waiting.Submit(host.NewJob());
  EXPECT_EQ(table.ForgetIdle(10'000, 1000), 0u);
  host.Run();
  // Backoff runs to 60 s; forgetting counts from its end.
  EXPECT_EQ(table.ForgetIdle(60'500, 1000), 1u);  // queued.test, idle since long
  EXPECT_NE(table.Find("down.test"), nullptr);
  EXPECT_EQ(table.ForgetIdle(61'000, 1000), 1u);
  EXPECT_EQ(table.size(), 0u);
}

TEST(DestinationTableTest, KnownDestinationsTakeNewHops) {
  FakeHost host;
  DestinationTable table(host);
  Destination& first = table.FindOrAdd("site", {{"mx1.test", 25}});
  Destination& again = table.FindOrAdd("site", {{"mx2.test", 25}});
  EXPECT_EQ(&first, &again);
  ASSERT_EQ(again.hops().size(), 1u);
  EXPECT_EQ(again.hops()[0].host, "mx2.test");
  table.FindOrAdd("site", {});  // no answer: keep what we had
  EXPECT_EQ(again.hops()[0].host, "mx2.test");
}

TEST(DestinationTest, AReconnectAfterALostPooledConnectionWaitsForAConnectionToken) {
  FakeHost host;
  host.config_.connections_per_second_per_destination = 1;  // burst 1
  host.config_.initial_concurrency = 1;
  host.config_.connections_per_destination_max = 1;
  host.lose_pooled_connection = true;
  Destination destination(host, "example.test", {});
  for (int i = 0; i < 3; ++i) destination.Submit(host.NewJob());
  host.Run();
  // Every job after a session's first goes back and needs a new
  // connection, one per second: none bypasses the limit.
  EXPECT_EQ(host.session_starts_ms, (std::vector<int64_t>{0, 1000, 2000}));
  EXPECT_EQ(host.handed_ms, (std::vector<int64_t>{0, 1000, 2000}));
  EXPECT_EQ(host.returned.size(), 3u);
  EXPECT_TRUE(destination.idle());
}

}  // namespace
}  // namespace ringmta::relay
