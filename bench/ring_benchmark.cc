// Engine micro-benchmarks: the cost of one ring round trip (a NOP submitted
// and completed through a coroutine), batched and one at a time, and of a
// timer-wheel sleep.
#include <benchmark/benchmark.h>

#include "mta/io/operation.h"
#include "mta/io/reactor.h"
#include "mta/io/task.h"

namespace ringmta::io {
namespace {

Task<void> NopLoop(Reactor& reactor, int64_t count) {
  for (int64_t i = 0; i < count; ++i) co_await Nop(reactor);
}

// `concurrency` coroutines each await NOPs back to back: concurrency 1 is
// pure latency per round trip; higher shares each io_uring_enter.
void BM_RingNopRoundTrips(benchmark::State& state) {
  auto reactor = Reactor::Create();
  if (!reactor.ok()) {
    state.SkipWithError("io_uring unavailable");
    return;
  }
  const int concurrency = static_cast<int>(state.range(0));
  constexpr int64_t kPerTask = 10'000;
  int64_t operations = 0;
  for (auto _ : state) {
    TaskGroup tasks;
    for (int i = 0; i < concurrency; ++i) Spawn(**reactor, tasks, NopLoop(**reactor, kPerTask));
    while (!tasks.empty()) (*reactor)->RunOnce(-1);
    operations += kPerTask * concurrency;
  }
  state.counters["ops/s"] = benchmark::Counter(static_cast<double>(operations),
                                               benchmark::Counter::kIsRate);
}
BENCHMARK(BM_RingNopRoundTrips)->Arg(1)->Arg(16)->Arg(256)->UseRealTime();

Task<void> SleepLoop(Reactor& reactor, int64_t count) {
  for (int64_t i = 0; i < count; ++i) co_await Sleep(reactor, nullptr, 0);
}

void BM_ZeroSleepResumes(benchmark::State& state) {
  auto reactor = Reactor::Create();
  if (!reactor.ok()) {
    state.SkipWithError("io_uring unavailable");
    return;
  }
  constexpr int64_t kPerTask = 10'000;
  int64_t resumes = 0;
  for (auto _ : state) {
    TaskGroup tasks;
    for (int i = 0; i < 16; ++i) Spawn(**reactor, tasks, SleepLoop(**reactor, kPerTask));
    while (!tasks.empty()) (*reactor)->RunOnce(-1);
    resumes += kPerTask * 16;
  }
  state.counters["resumes/s"] = benchmark::Counter(static_cast<double>(resumes),
                                                   benchmark::Counter::kIsRate);
}
BENCHMARK(BM_ZeroSleepResumes)->UseRealTime();

}  // namespace
}  // namespace ringmta::io
