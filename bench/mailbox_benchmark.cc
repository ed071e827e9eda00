// Micro-benchmarks of the SPSC Mailbox between two threads: throughput with
// batched draining, and one-way latency from a ping-pong over two mailboxes.
// Not a measure of shard wake-ups (MSG_RING/eventfd): both sides busy-poll.
#include <benchmark/benchmark.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <thread>

#include "mta/base/clock.h"
#include "mta/base/limits.h"
#include "mta/io/mailbox.h"

namespace ringmta::io {
namespace {

using ShardMailbox = Mailbox<uint64_t, limits::kMailboxSlots>;

// Tells the core we are spinning (saves power, frees the sibling hyperthread).
inline void CpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

// Each iteration moves kMessages from a producer thread to this (consumer)
// thread. Arg: the consumer's Drain batch size.
void BM_MailboxThroughput(benchmark::State& state) {
  constexpr uint64_t kMessages = uint64_t{1} << 20;
  const size_t batch = static_cast<size_t>(state.range(0));
  auto mailbox = std::make_unique<ShardMailbox>();
  uint64_t sum = 0;
  for (auto _ : state) {
    std::thread producer([&mailbox] {
      for (uint64_t i = 0; i < kMessages; ++i) {
        while (!mailbox->TryPush(i)) CpuRelax();
      }
    });
    for (uint64_t received = 0; received < kMessages;) {
      const size_t drained = mailbox->Drain([&sum](uint64_t&& value) { sum += value; }, batch);
      if (drained == 0) CpuRelax();
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
    while (!stop.load(std::memory_order_relaxed)) {
      const size_t drained = ping->Drain(
          [&pong](uint64_t&& value) {
            while (!pong->TryPush(value)) CpuRelax();
          },
          64);
      if (drained == 0) CpuRelax();
    }
  });
  uint64_t sequence = 0;
  const int64_t start_ns = MonotonicNowNs();
  for (auto _ : state) {
    while (!ping->TryPush(sequence)) CpuRelax();
    while (pong->Drain([](uint64_t&&) {}, 1) == 0) CpuRelax();
    ++sequence;
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
