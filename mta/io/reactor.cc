#include "mta/io/reactor.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>

#include "mta/base/check.h"
#include "mta/base/clock.h"
#include "mta/base/status.h"

namespace ringmta::io {

absl::StatusOr<std::unique_ptr<Reactor>> Reactor::Create(const RingOptions& options) {
  ASSIGN_OR_RETURN(std::unique_ptr<Ring> ring, Ring::Create(options));
  int wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake_fd < 0) return ErrnoToStatus(errno, "eventfd");
  std::unique_ptr<Reactor> reactor(new Reactor(std::move(ring), wake_fd));
  reactor->ArmWakeRead();
  return reactor;
}

Reactor::Reactor(std::unique_ptr<Ring> ring, int wake_fd)
    : ring_(std::move(ring)), timers_(MonotonicNowMs()), now_ms_(MonotonicNowMs()),
      wake_fd_(wake_fd) {
  ready_.reserve(1024);
  running_.reserve(1024);
  wake_completion_.on_complete = &Reactor::OnWake;
  wake_completion_.reactor = this;
}

Reactor::~Reactor() {
  Shutdown();
  ring_.reset();
  close(wake_fd_);
}

void Reactor::Shutdown() {
  if (shut_down_) return;
  // The eventfd read is always pending; cancel it and wait for its CQE so
  // the ring can be torn down with nothing in flight.
  shut_down_ = true;
  io_uring_prep_cancel(ring_->GetSqe(nullptr), &wake_completion_, 0);
  while (ring_->in_flight() > 0) {
    ring_->SubmitAndDispatch(-1);
    RunReady();
  }
  RunReady();
}

void Reactor::ArmWakeRead() {
  io_uring_sqe* sqe = ring_->GetSqe(&wake_completion_);
  io_uring_prep_read(sqe, wake_fd_, &wake_completion_.counter, sizeof wake_completion_.counter, 0);
}

void Reactor::OnWake(Completion* completion, int32_t result, uint32_t flags) {
  auto* wake = static_cast<WakeCompletion*>(completion);
  Reactor* self = wake->reactor;
  if (self->shut_down_) return;
  // Clear before the owner drains its inboxes (after this turn's dispatch),
  // so a message pushed after the drain starts always triggers a new wake.
  self->wake_pending_.store(false, std::memory_order_seq_cst);
  // The owner's drain that follows must not be ordered before the clear
  // (a store-load pair): the fence makes that hold beyond x86.
  std::atomic_thread_fence(std::memory_order_seq_cst);
  self->ArmWakeRead();
}

void Reactor::Wake() {
  if (wake_pending_.exchange(true, std::memory_order_seq_cst)) return;
  uint64_t one = 1;
  ssize_t written = write(wake_fd_, &one, sizeof one);
  (void)written;  // EAGAIN means the counter is already non-zero: awake anyway.
}

void Reactor::Post(void (*run)(void*), void* context) { ready_.push_back({run, context}); }

void Reactor::Post(std::coroutine_handle<> handle) {
  ready_.push_back({[](void* address) { std::coroutine_handle<>::from_address(address).resume(); },
                    handle.address()});
}

void Reactor::RunReady() {
  // Bounded passes: work that keeps posting more work cannot starve I/O.
  for (int pass = 0; pass < 4 && !ready_.empty(); ++pass) {
    running_.swap(ready_);
    for (const ReadyItem& item : running_) item.run(item.context);
    running_.clear();
  }
}

void Reactor::RunOnce(int64_t wait_ms_max) {
  // Wait first, then run what the wait produced, so that when RunOnce
  // returns the caller sees the effects of every completion it waited for.
  int64_t wait_ms = wait_ms_max;
  if (std::optional<int64_t> deadline = timers_.NextDeadlineMs()) {
    int64_t until_deadline_ms = *deadline > now_ms_ ? *deadline - now_ms_ : 0;
    if (wait_ms < 0 || until_deadline_ms < wait_ms) wait_ms = until_deadline_ms;
  }
  if (!ready_.empty()) wait_ms = 0;
  ring_->SubmitAndDispatch(wait_ms < 0 ? -1 : wait_ms * 1'000'000);
  now_ms_ = MonotonicNowMs();
  timers_.Advance(now_ms_);
  RunReady();
}

}  // namespace ringmta::io
