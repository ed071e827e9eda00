#include "mta/io/ring.h"

#include <cerrno>
#include <cstring>
#include <string>

#include "mta/base/check.h"
#include "mta/base/limits.h"
#include "mta/base/status.h"

namespace ringmta::io {
namespace {

absl::Status ExplainSetupFailure(int error) {
  std::string why;
  switch (error) {
    case ENOSYS:
      why = "the kernel has no io_uring, or a seccomp filter (common in containers) blocks it";
      break;
    case EPERM:
      why = "io_uring is disabled: check sysctl kernel.io_uring_disabled (must be 0, or 1 with "
            "this user in kernel.io_uring_group) and container seccomp/AppArmor profiles";
      break;
    case EINVAL:
      why = "the kernel is too old for IORING_SETUP_SINGLE_ISSUER|DEFER_TASKRUN (Linux >= 6.1 "
            "needed)";
      break;
    case ENOMEM:
      why = "not enough locked memory for the ring: raise RLIMIT_MEMLOCK (ulimit -l) on kernels "
            "before 5.12";
      break;
    default:
      why = std::strerror(error);
  }
  return absl::FailedPreconditionError("cannot set up io_uring: " + why + " (errno " +
                                       std::to_string(error) + ")");
}

}  // namespace

absl::StatusOr<std::unique_ptr<Ring>> Ring::Create(const RingOptions& options) {
  std::unique_ptr<Ring> ring(new Ring());
  io_uring_params params{};
  // SINGLE_ISSUER: only the shard thread submits, which lets the kernel skip
  // locking. DEFER_TASKRUN: completions are processed only when we enter the
  // kernel to wait, so they arrive in batches at a point of our choosing.
  // CQSIZE: a CQ four times the SQ, because multishot accept and recv post
  // many CQEs per SQE and an overflowing CQ costs a slow path.
  // SUBMIT_ALL: keep submitting past a failed SQE so one bad operation never
  // strands the rest of the batch.
  params.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_CQSIZE |
                 IORING_SETUP_SUBMIT_ALL;
  params.cq_entries = options.cq_entries ? options.cq_entries : limits::kRingCqEntries;
  uint32_t sq_entries = options.sq_entries ? options.sq_entries : limits::kRingEntries;
  int result = io_uring_queue_init_params(sq_entries, &ring->ring_, &params);
  if (result < 0) return ExplainSetupFailure(-result);
  // EXT_ARG lets a wait carry its own timeout without spending an SQE on it.
  if (!(params.features & IORING_FEAT_EXT_ARG)) {
    io_uring_queue_exit(&ring->ring_);
    return absl::FailedPreconditionError(
        "cannot set up io_uring: the kernel lacks IORING_FEAT_EXT_ARG (Linux >= 5.11 needed)");
  }
  return ring;
}

Ring::~Ring() {
  // Destroying the ring with operations in flight would let the kernel
  // complete them into freed memory; the owner must drain first.
  CHECK(in_flight_ == 0);
  io_uring_queue_exit(&ring_);
}

void Ring::Flush() {
  for (;;) {
    int submitted = io_uring_submit(&ring_);
    if (submitted >= 0) return;
    // EBUSY/EAGAIN: completions are backed up; reaping them makes room.
    // Safe here because completion callbacks only record and post.
    CHECK(submitted == -EBUSY || submitted == -EAGAIN);
    SubmitAndDispatch(0);
  }
}

io_uring_sqe* Ring::GetSqe(Completion* completion) {
  io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
  while (sqe == nullptr) {
    Flush();
    sqe = io_uring_get_sqe(&ring_);
  }
  if (completion != nullptr) {
    ++in_flight_;
    io_uring_sqe_set_data(sqe, completion);
  } else {
    io_uring_sqe_set_data64(sqe, kIgnoredUserData);
  }
  return sqe;
}

void Ring::ReserveSqes(unsigned count) {
  CHECK(count <= ring_.sq.ring_entries);
  while (io_uring_sq_space_left(&ring_) < count) Flush();
}

int Ring::SubmitAndDispatch(int64_t timeout_ns) {
  io_uring_cqe* cqe = nullptr;
  int result;
  if (timeout_ns < 0) {
    result = io_uring_submit_and_wait_timeout(&ring_, &cqe, 1, nullptr, nullptr);
  } else {
    __kernel_timespec ts{.tv_sec = timeout_ns / 1'000'000'000,
                         .tv_nsec = timeout_ns % 1'000'000'000};
    result = io_uring_submit_and_wait_timeout(&ring_, &cqe, timeout_ns == 0 ? 0 : 1, &ts,
                                              nullptr);
  }
  // -ETIME: the wait timed out; -EINTR: a signal; both just end this turn.
  if (result < 0 && result != -ETIME && result != -EINTR && result != -EAGAIN &&
      result != -EBUSY) {
    CHECK(false && "io_uring_submit_and_wait_timeout failed");
  }
  int dispatched = 0;
  // Each CQE is marked seen before its callback runs, so a nested dispatch
  // (from Flush) never sees the same CQE twice.
  while (io_uring_peek_cqe(&ring_, &cqe) == 0) {
    uint64_t user_data = io_uring_cqe_get_data64(cqe);
    int32_t res = cqe->res;
    uint32_t flags = cqe->flags;
    io_uring_cqe_seen(&ring_, cqe);
    if (user_data == kIgnoredUserData) continue;
    auto* completion = reinterpret_cast<Completion*>(user_data);
    if (!(flags & IORING_CQE_F_MORE)) --in_flight_;
    completion->on_complete(completion, res, flags);
    ++dispatched;
  }
  return dispatched;
}

}  // namespace ringmta::io
