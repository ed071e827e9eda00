// Reactor: the event loop of one shard. It owns the Ring, the timer wheel and
// a ready queue of work posted by completions, and turns them into a loop:
// run ready work, fire due timers, submit and wait for completions.
// Not here: sockets, buffers or protocols (they are built on Reactor).
#ifndef RINGMTA_MTA_IO_REACTOR_H_
#define RINGMTA_MTA_IO_REACTOR_H_

#include <atomic>
#include <coroutine>
#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "mta/io/ring.h"
#include "mta/io/timer_wheel.h"

namespace ringmta::io {

class Reactor {
 public:
  static absl::StatusOr<std::unique_ptr<Reactor>> Create(const RingOptions& options = {});
  ~Reactor();
  Reactor(const Reactor&) = delete;
  Reactor& operator=(const Reactor&) = delete;

  Ring& ring() { return *ring_; }
  // Ring operations in flight other than the reactor's own wake-up read:
  // zero means nothing in the kernel can still write into user memory.
  int64_t pending_operations() const { return ring_->in_flight() - 1; }
  TimerWheel& timers() { return timers_; }
  // Monotonic milliseconds, read once per loop turn: cheap, and every
  // timeout computed within one turn agrees on "now".
  int64_t now_ms() const { return now_ms_; }

  // Queues `run(context)` (or a coroutine resumption) for this loop turn or
  // the next. Completion callbacks use this instead of running user code.
  void Post(void (*run)(void*), void* context);
  void Post(std::coroutine_handle<> handle);

  // One loop turn: submits, waits (up to the next timer deadline or
  // `wait_ms_max`, negative for no bound; not at all when work is ready),
  // dispatches completions, fires due timers and runs the ready work.
  void RunOnce(int64_t wait_ms_max);

  // Thread-safe: makes the current or next wait in RunOnce return promptly.
  // At most one eventfd write is outstanding however often it is called, so
  // producers that wake a busy shard after every message cost no syscalls.
  void Wake();

  // Cancels the reactor's own wake-up read and waits until nothing is in
  // flight; called on the owning thread when its work is done. Afterwards
  // Wake() is harmless and the object may be destroyed on any thread.
  void Shutdown();

 private:
  struct ReadyItem {
    void (*run)(void*);
    void* context;
  };
  struct WakeCompletion : Completion {
    Reactor* reactor;
    uint64_t counter;  // eventfd read target
  };

  explicit Reactor(std::unique_ptr<Ring> ring, int wake_fd);
  void RunReady();
  void ArmWakeRead();
  static void OnWake(Completion* completion, int32_t result, uint32_t flags);

  std::unique_ptr<Ring> ring_;
  TimerWheel timers_;
  int64_t now_ms_;
  // Two vectors swapped each turn: work posted while running the ready list
  // waits for the next pass, and steady state reuses their capacity.
  std::vector<ReadyItem> ready_;
  std::vector<ReadyItem> running_;
  int wake_fd_;
  WakeCompletion wake_completion_;
  // True from a Wake() until this thread has consumed the eventfd; written
  // by other threads, hence atomic (the only shared word in a Reactor).
  std::atomic<bool> wake_pending_{false};
  bool shut_down_ = false;
};

}  // namespace ringmta::io

#endif  // RINGMTA_MTA_IO_REACTOR_H_
