// Awaitable single-shot ring operations: `int32_t r = co_await Send(...)`.
// The operation record lives in the awaiting coroutine's frame, so an I/O
// costs no allocation. Each may carry a timeout, submitted as a linked
// timeout (IOSQE_IO_LINK + IORING_OP_LINK_TIMEOUT) so the kernel enforces it;
// expiry reads as -ETIMEDOUT, cancellation through a CancelScope as
// -ECANCELED. Results follow io_uring: >= 0 success, -errno failure.
#ifndef RINGMTA_MTA_IO_OPERATION_H_
#define RINGMTA_MTA_IO_OPERATION_H_

#include <liburing.h>
#include <sys/socket.h>

#include <coroutine>
#include <cstdint>
#include <string_view>

#include "mta/io/cancel_scope.h"
#include "mta/io/reactor.h"
#include "mta/io/timer_wheel.h"

namespace ringmta::io {

inline constexpr int64_t kNoTimeout = -1;

// What every ring operation shares: submission, the linked timeout, the
// scope registration and the hand-back to the reactor.
class OperationBase : public Completion {
 public:
  OperationBase(Reactor& reactor, CancelScope* scope, int64_t timeout_ms)
      : reactor_(reactor), scope_(scope), timeout_ms_(timeout_ms) {}
  OperationBase(const OperationBase&) = delete;
  OperationBase& operator=(const OperationBase&) = delete;

  bool await_ready() noexcept {
    if (scope_ != nullptr && scope_->cancelled()) {
      result_ = -ECANCELED;
      return true;
    }
    return false;
  }
  int32_t await_resume() const noexcept { return result_; }
  uint32_t cqe_flags() const { return cqe_flags_; }

 protected:
  // Returns the SQE to prepare; the caller must then call EndSubmit.
  io_uring_sqe* BeginSubmit(std::coroutine_handle<> waiter);
  void EndSubmit(io_uring_sqe* sqe);

 private:
  static void OnComplete(Completion* self, int32_t result, uint32_t cqe_flags);
  static void OnCancel(void* owner);

  Reactor& reactor_;
  CancelScope* scope_;
  int64_t timeout_ms_;
  __kernel_timespec timeout_{};
  CancelNode cancel_node_;
  std::coroutine_handle<> waiter_;
  int32_t result_ = 0;
  uint32_t cqe_flags_ = 0;
};

// One operation whose SQE is filled by `prepare(sqe)`.
template <typename Prepare>
class [[nodiscard]] Operation : public OperationBase {
 public:
  Operation(Reactor& reactor, CancelScope* scope, int64_t timeout_ms, Prepare prepare)
      : OperationBase(reactor, scope, timeout_ms), prepare_(prepare) {}
  void await_suspend(std::coroutine_handle<> waiter) {
    io_uring_sqe* sqe = BeginSubmit(waiter);
    prepare_(sqe);
    EndSubmit(sqe);
  }

 private:
  Prepare prepare_;
};

template <typename Prepare>
Operation<Prepare> MakeOperation(Reactor& reactor, CancelScope* scope, int64_t timeout_ms,
                                 Prepare prepare) {
  return Operation<Prepare>(reactor, scope, timeout_ms, prepare);
}

// ---- Sockets ----
inline auto Send(Reactor& r, CancelScope* s, int fd, std::string_view data, int64_t timeout_ms) {
  return MakeOperation(r, s, timeout_ms, [=](io_uring_sqe* sqe) {
    // MSG_NOSIGNAL: a peer that closed must yield EPIPE, not kill the process.
    io_uring_prep_send(sqe, fd, data.data(), data.size(), MSG_NOSIGNAL);
  });
}
inline auto Connect(Reactor& r, CancelScope* s, int fd, const sockaddr* address,
                    socklen_t address_bytes, int64_t timeout_ms) {
  return MakeOperation(r, s, timeout_ms, [=](io_uring_sqe* sqe) {
    io_uring_prep_connect(sqe, fd, address, address_bytes);
  });
}
inline auto Close(Reactor& r, int fd) {
  return MakeOperation(r, nullptr, kNoTimeout,
                       [=](io_uring_sqe* sqe) { io_uring_prep_close(sqe, fd); });
}
inline auto Nop(Reactor& r) {
  return MakeOperation(r, nullptr, kNoTimeout, [](io_uring_sqe* sqe) { io_uring_prep_nop(sqe); });
}

// ---- Files (what the queue needs) ----
inline auto OpenAt(Reactor& r, int dir_fd, const char* path, int flags, mode_t mode) {
  return MakeOperation(r, nullptr, kNoTimeout, [=](io_uring_sqe* sqe) {
    io_uring_prep_openat(sqe, dir_fd, path, flags, mode);
  });
}
inline auto Fallocate(Reactor& r, int fd, int mode, uint64_t offset, uint64_t bytes) {
  return MakeOperation(r, nullptr, kNoTimeout, [=](io_uring_sqe* sqe) {
    io_uring_prep_fallocate(sqe, fd, mode, offset, bytes);
  });
}
inline auto WriteAt(Reactor& r, int fd, std::string_view data, uint64_t offset) {
  return MakeOperation(r, nullptr, kNoTimeout, [=](io_uring_sqe* sqe) {
    io_uring_prep_write(sqe, fd, data.data(), data.size(), offset);
  });
}
inline auto ReadAt(Reactor& r, int fd, char* buffer, uint32_t bytes, uint64_t offset) {
  return MakeOperation(r, nullptr, kNoTimeout, [=](io_uring_sqe* sqe) {
    io_uring_prep_read(sqe, fd, buffer, bytes, offset);
  });
}
inline auto Fdatasync(Reactor& r, int fd) {
  return MakeOperation(r, nullptr, kNoTimeout, [=](io_uring_sqe* sqe) {
    io_uring_prep_fsync(sqe, fd, IORING_FSYNC_DATASYNC);
  });
}

// ---- Timers ----
// Suspends for `delay_ms` on the reactor's timer wheel (no SQE). Returns 0,
// or -ECANCELED if the scope was cancelled first.
class [[nodiscard]] Sleep {
 public:
  Sleep(Reactor& reactor, CancelScope* scope, int64_t delay_ms);
  Sleep(const Sleep&) = delete;
  Sleep& operator=(const Sleep&) = delete;
  bool await_ready() noexcept;
  void await_suspend(std::coroutine_handle<> waiter);
  int32_t await_resume() const noexcept { return result_; }

 private:
  static void OnFire(Timer* timer, void* context);
  static void OnCancel(void* owner);

  Reactor& reactor_;
  CancelScope* scope_;
  int64_t delay_ms_;
  Timer timer_;
  CancelNode cancel_node_;
  std::coroutine_handle<> waiter_;
  int32_t result_ = 0;
};

}  // namespace ringmta::io

#endif  // RINGMTA_MTA_IO_OPERATION_H_
