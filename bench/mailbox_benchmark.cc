// Micro-benchmarks of the SPSC Mailbox between two threads: throughput with
// batched draining, and one-way latency from a ping-pong over two mailboxes.
// Not a measure of shard wake-ups (MSG_RING/eventfd): both sides busy-poll.
#include <benchmark/benchmark.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <thread>

#include "mta/base/check.h"
#include "mta/base/clock.h"
#include "mta/base/limits.h"
#include "mta/io/mailbox.h"

namespace ringmta::io {
namespace {

using ShardMailbox = Mailbox<uint64_t, limits::kMailboxSlots>;

// Waits politely for the other thread: pause-spin briefly (cheap when it is
// running on the other core), then yield, so that on an oversubscribed
// machine a spinner does not burn the time slice its peer needs.
class Backoff {
 public:
  void Wait() {
    if (++spins_ < kSpinsMax) {
#if defined(__x86_64__) || defined(__i386__)
      __builtin_ia32_pause();
#endif
      return;
    }
    std::this_thread::yield();
  }
  void Reset() { spins_ = 0; }

 private:
  static constexpr int kSpinsMax = 1024;
  int spins_ = 0;
};

// Each iteration moves kMessages from a producer thread to this (consumer)
// thread. Arg: the consumer's Drain batch size.
void BM_MailboxThroughput(benchmark::State& state) {
  constexpr uint64_t kMessages = uint64_t{1} << 18;
  const size_t batch = static_cast<size_t>(state.range(0));
  auto mailbox = std::make_unique<ShardMailbox>();
  uint64_t sum = 0;
  for (auto _ : state) {
    std::thread producer([&mailbox] {
      Backoff backoff;
      for (uint64_t i = 0; i < kMessages; ++i) {
        for (backoff.Reset(); !mailbox->TryPush(i);) backoff.Wait();
      }
    });
    Backoff backoff;
    for (uint64_t received = 0; received < kMessages;) {
      const size_t drained = mailbox->Drain([&sum](uint64_t&& value) { sum += value; }, batch);
      if (drained == 0) {
        backoff.Wait();
      } else {
        backoff.Reset();
      }
      received += drained;
    }
    producer.join();
  }
  benchmark::DoNotOptimize(sum);
  state.counters["msgs_per_s"] = benchmark::Counter(
      static_cast<double>(state.iterations() * kMessages), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_MailboxThroughput)
    ->Arg(1)
    ->Arg(16)
    ->Arg(256)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

// This thread sends one message on `ping` and waits for the echo thread to
// send it back on `pong`; one-way latency is half the round trip.
void BM_MailboxPingPong(benchmark::State& state) {
  auto ping = std::make_unique<ShardMailbox>();
  auto pong = std::make_unique<ShardMailbox>();
  std::atomic<bool> stop{false};
  std::thread echo([&] {
    Backoff backoff;
    while (!stop.load(std::memory_order_relaxed)) {
      // Never blocks: at most one message is in flight, so pong has room.
      const size_t drained =
          ping->Drain([&pong](uint64_t&& value) { CHECK(pong->TryPush(value)); }, 64);
      if (drained == 0) {
        backoff.Wait();
      } else {
        backoff.Reset();
      }
    }
  });
  uint64_t sequence = 0;
  const int64_t start_ns = MonotonicNowNs();
  Backoff backoff;
  for (auto _ : state) {
    CHECK(ping->TryPush(sequence++));  // Room guaranteed: one message in flight.
    for (backoff.Reset(); pong->Drain([](uint64_t&&) {}, 1) == 0;) backoff.Wait();
  }
  const int64_t elapsed_ns = MonotonicNowNs() - start_ns;
  stop.store(true, std::memory_order_relaxed);
  echo.join();
  const double iterations = static_cast<double>(state.iterations());
  state.counters["round_trip_ns"] =
      benchmark::Counter(static_cast<double>(elapsed_ns) / iterations);
  state.counters["one_way_ns"] =
      benchmark::Counter(static_cast<double>(elapsed_ns) / iterations / 2);
}
BENCHMARK(BM_MailboxPingPong)->UseRealTime();

}  // namespace
}  // namespace ringmta::io
