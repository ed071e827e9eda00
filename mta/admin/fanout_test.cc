// FanOut across a real ShardGroup: results in target order from each
// shard's own thread, a subset of targets, a silent shard (timeout, late
// answer dropped), and CancelAll. The scenario starts on shard 0 through
// the main thread's inbox (ShardGroup::SendFromMain).
#include "mta/admin/fanout.h"

#include <unistd.h>

#include <atomic>
#include <string>
#include <thread>

#include "gtest/gtest.h"
#include "mta/base/clock.h"
#include "mta/io/operation.h"

namespace ringmta::admin {
namespace {

io::Task<void> NeverCalled(io::Shard&, int fd, void*) {
  ::close(fd);
  co_return;
}

struct Scenario {
  // Set on shard 0's thread, read by the test once `done` is true.
  std::vector<std::vector<absl::StatusOr<Json>>> runs;
  size_t pending_after_cancel = 1;
  std::atomic<bool> done{false};
};

std::string ThreadName() {
  return std::to_string(std::hash<std::thread::id>{}(std::this_thread::get_id()));
}

// Not a local struct in the coroutine: GCC 12 crashes emitting its debug info.
void CancelAll(void* pointer) { static_cast<FanOut*>(pointer)->CancelAll(); }

io::Task<void> RunScenario(io::Shard& shard, Scenario* scenario) {
  FanOut fanout(shard);
  auto who = [](io::Shard& target) {
    Json part = Json::Object();
    part.Set("shard", target.index());
    part.Set("thread", ThreadName());
    return part;
  };
  // Named vectors: GCC 12 cannot keep a braced list alive across co_await.
  std::vector<int> all = {0, 1, 2}, two = {2}, first_two = {0, 1}, one = {1};
  scenario->runs.push_back(co_await fanout.Run(all, who, 5'000));
  scenario->runs.push_back(co_await fanout.Run(two, who, 5'000));
  // Shard 1 takes 300 ms to answer; the gather gives up after 50 ms.
  scenario->runs.push_back(co_await fanout.Run(
      first_two,
      [](io::Shard& target) {
        if (target.index() == 1) usleep(300'000);
        return Json(target.index());
      },
      50));
  // A gather cancelled while it waits ends at once with errors.
  shard.reactor().Post(&CancelAll, &fanout);
  scenario->runs.push_back(co_await fanout.Run(
      one,
      [](io::Shard& target) {
        usleep(100'000);
        return Json(target.index());
      },
      60'000));
  scenario->pending_after_cancel = fanout.pending();
  // Let the late answers arrive before the FanOut goes: they are dropped.
  for (int i = 0; i < 50; ++i) co_await io::Nop(shard.reactor());
  usleep(400'000);
  for (int i = 0; i < 50; ++i) co_await io::Nop(shard.reactor());
  scenario->done.store(true, std::memory_order_release);
}

void StartScenario(io::Shard& shard, uint64_t, void* pointer) {
  io::Spawn(shard.reactor(), shard.tasks(), RunScenario(shard, static_cast<Scenario*>(pointer)));
}

TEST(FanOutTest, GathersFromShardsInOrderAndHandlesSilenceAndCancel) {
  Scenario scenario;
  io::ShardGroupOptions options;
  options.shards = 3;
  options.handler = &NeverCalled;
  auto group = io::ShardGroup::Start(options);
  ASSERT_TRUE(group.ok()) << group.status();
  ASSERT_TRUE((*group)->SendFromMain(0, io::ShardMessage{&StartScenario, 0, &scenario}));
  int64_t give_up_ms = MonotonicNowMs() + 60'000;
  while (!scenario.done.load(std::memory_order_acquire) && MonotonicNowMs() < give_up_ms) usleep(1000);
  (*group)->RequestStop();
  (*group)->Join();
  ASSERT_TRUE(scenario.done.load());
  ASSERT_EQ(scenario.runs.size(), 4u);

  const auto& all = scenario.runs[0];
  ASSERT_EQ(all.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(all[i].ok()) << all[i].status();
    EXPECT_EQ(all[i]->Find("shard")->as_int(), i);
  }
  // Each ran on its own shard's thread.
  EXPECT_NE(all[0]->Find("thread")->as_string(), all[1]->Find("thread")->as_string());
  EXPECT_NE(all[1]->Find("thread")->as_string(), all[2]->Find("thread")->as_string());

  ASSERT_EQ(scenario.runs[1].size(), 1u);
  EXPECT_EQ(scenario.runs[1][0]->Find("shard")->as_int(), 2);

  const auto& slow = scenario.runs[2];
  ASSERT_TRUE(slow[0].ok());
  EXPECT_EQ(slow[0]->as_int(), 0);
  ASSERT_FALSE(slow[1].ok());
  EXPECT_EQ(slow[1].status().code(), absl::StatusCode::kDeadlineExceeded);

  ASSERT_FALSE(scenario.runs[3][0].ok());
  EXPECT_EQ(scenario.runs[3][0].status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(scenario.pending_after_cancel, 0u);
}


// A stopping shard answers with an error instead of running the work.
// Shards 0 and 1 each keep a task alive until the answer is in, so both
// still run their loops after RequestStop.
struct StoppingScenario {
  std::vector<absl::StatusOr<Json>> results;
  bool work_ran = false;  // written by shard 1 if the work runs (it must not)
  std::atomic<bool> target_stopping{false};  // shard 1 has begun to stop
  std::atomic<bool> answered{false};
  std::atomic<bool> done{false};
};

io::Task<void> KeepAliveUntilAnswered(io::Shard& shard, StoppingScenario* scenario) {
  while (!scenario->answered.load(std::memory_order_acquire)) {
    if (shard.stopping()) scenario->target_stopping.store(true, std::memory_order_release);
    usleep(1000);
    co_await io::Nop(shard.reactor());
  }
}

io::Task<void> AskWhileStopping(io::Shard& shard, StoppingScenario* scenario) {
  while (!scenario->target_stopping.load(std::memory_order_acquire)) {
    usleep(1000);
    co_await io::Nop(shard.reactor());
  }
  FanOut fanout(shard);
  std::vector<int> one = {1};
  ShardWork work = [scenario](io::Shard&) {
    scenario->work_ran = true;
    return Json(true);
  };
  scenario->results = co_await fanout.Run(one, work, 10'000);
  scenario->answered.store(true, std::memory_order_release);
  scenario->done.store(true, std::memory_order_release);
}

absl::Status StartStoppingScenario(io::Shard& shard, void* context) {
  auto* scenario = static_cast<StoppingScenario*>(context);
  if (shard.index() == 0) io::Spawn(shard.reactor(), shard.tasks(), AskWhileStopping(shard, scenario));
  if (shard.index() == 1) io::Spawn(shard.reactor(), shard.tasks(), KeepAliveUntilAnswered(shard, scenario));
  return absl::OkStatus();
}

TEST(FanOutTest, AStoppingShardAnswersWithAnError) {
  StoppingScenario scenario;
  io::ShardGroupOptions options;
  options.shards = 2;
  options.handler = &NeverCalled;
  options.on_shard_start = &StartStoppingScenario;
  options.hook_context = &scenario;
  auto group = io::ShardGroup::Start(options);
  ASSERT_TRUE(group.ok()) << group.status();
  (*group)->RequestStop();
  (*group)->Join();
  ASSERT_TRUE(scenario.done.load());
  ASSERT_EQ(scenario.results.size(), 1u);
  ASSERT_FALSE(scenario.results[0].ok());
  EXPECT_EQ(scenario.results[0].status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(scenario.results[0].status().message().find("shard 1 is stopping"), std::string::npos);
  EXPECT_FALSE(scenario.work_ran);
}

}  // namespace
}  // namespace ringmta::admin
