// Micro-benchmarks of TimerWheel: schedule+cancel pairs (the idle-timeout
// pattern: almost every timer is cancelled) and Advance with 100k armed timers.
// Not a model of a whole shard loop; see the end-to-end harness for that.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <memory>
#include <random>
#include <vector>

#include "mta/io/timer_wheel.h"

namespace ringmta::io {
namespace {

constexpr int kArmedTimers = 100'000;

void Ignore(Timer* /*timer*/, void* /*context*/) {}

// Delays spread over all four levels, as a shard's mix of I/O timeouts,
// idle timeouts and retry schedules would be.
std::vector<int64_t> MixedDelaysMs(size_t count) {
  std::mt19937_64 random(7);
  std::vector<int64_t> delays_ms;
  for (size_t i = 0; i < count; ++i) {
    const int64_t span_ms = int64_t{1} << (8 + 8 * (i % 4));
    delays_ms.push_back(1 + static_cast<int64_t>(random() % static_cast<uint64_t>(span_ms)));
  }
  return delays_ms;
}

// Arg: timers already armed, to show the cost does not grow with them.
void BM_ScheduleCancelPair(benchmark::State& state) {
  TimerWheel wheel(0);
  std::vector<std::unique_ptr<Timer>> background;
  const std::vector<int64_t> delays_ms = MixedDelaysMs(1024);
  for (int64_t i = 0; i < state.range(0); ++i) {
    background.push_back(std::make_unique<Timer>(&Ignore, nullptr));
    wheel.Schedule(background.back().get(), delays_ms[i % delays_ms.size()]);
  }
  Timer timer(&Ignore, nullptr);
  size_t i = 0;
  for (auto _ : state) {
    wheel.Schedule(&timer, delays_ms[i++ % delays_ms.size()]);
    wheel.Cancel(&timer);
  }
  state.counters["pairs_per_s"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_ScheduleCancelPair)->Arg(0)->Arg(kArmedTimers);

// 100k periodic timers with periods uniform in 1 ms..2 s (about 400 fire per
// ms, the short periods dominating), each re-arming itself from its callback;
// every iteration advances the clock by Arg ms.
struct Periodic {
  TimerWheel* wheel;
  int64_t period_ms;
};

void Rearm(Timer* timer, void* context) {
  auto* periodic = static_cast<Periodic*>(context);
  periodic->wheel->Schedule(timer, timer->deadline_ms() + periodic->period_ms);
}

void BM_AdvanceSteady100k(benchmark::State& state) {
  TimerWheel wheel(0);
  std::mt19937_64 random(11);
  std::vector<Periodic> periods(kArmedTimers);
  std::vector<std::unique_ptr<Timer>> timers;
  for (int i = 0; i < kArmedTimers; ++i) {
    periods[i] = {&wheel, 1 + static_cast<int64_t>(random() % 2000)};
    timers.push_back(std::make_unique<Timer>(&Rearm, &periods[i]));
    wheel.Schedule(timers.back().get(), 1 + static_cast<int64_t>(random() % 2000));
  }
  const int64_t step_ms = state.range(0);
  int64_t now_ms = 0;
  size_t fired = 0;
  for (auto _ : state) {
    now_ms += step_ms;
    fired += wheel.Advance(now_ms);
  }
  state.counters["fired_per_s"] =
      benchmark::Counter(static_cast<double>(fired), benchmark::Counter::kIsRate);
  state.counters["advances_per_s"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_AdvanceSteady100k)->Arg(1)->Arg(16);

// 100k one-shot timers spread over a minute, all fired by one Advance that
// jumps the whole minute: cascades from every level, no per-ms stepping.
void BM_AdvanceJumpFires100k(benchmark::State& state) {
  std::mt19937_64 random(13);
  std::vector<std::unique_ptr<Timer>> timers;
  for (int i = 0; i < kArmedTimers; ++i)
    timers.push_back(std::make_unique<Timer>(&Ignore, nullptr));
  TimerWheel wheel(0);
  int64_t now_ms = 0;
  size_t fired = 0;
  for (auto _ : state) {
    state.PauseTiming();
    for (auto& timer : timers) {
      wheel.Schedule(timer.get(), now_ms + 1 + static_cast<int64_t>(random() % 60'000));
    }
    now_ms += 60'000;
    state.ResumeTiming();
    fired += wheel.Advance(now_ms);
  }
  state.counters["fired_per_s"] =
      benchmark::Counter(static_cast<double>(fired), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_AdvanceJumpFires100k)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace ringmta::io
