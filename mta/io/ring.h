// Ring: one io_uring instance owned by one thread. It hands out SQEs (never
// failing: it flushes and retries), submits, waits, and dispatches each CQE to
// the Completion whose address is the SQE's user_data. It knows nothing of
// coroutines, sockets or timers; Reactor builds the event loop on top.
#ifndef RINGMTA_MTA_IO_RING_H_
#define RINGMTA_MTA_IO_RING_H_

#include <liburing.h>

#include <cstdint>
#include <memory>

#include "absl/status/statusor.h"

namespace ringmta::io {

// The receiver of one or more CQEs. Operation records embed it (they live in
// coroutine frames or sessions), so submitting allocates nothing.
// Contract: on_complete only records the result and posts follow-up work to
// the reactor; it never submits or resumes a coroutine itself, so CQE
// dispatch is never re-entered from user code.
struct Completion {
  using Callback = void (*)(Completion* self, int32_t result, uint32_t cqe_flags);
  Callback on_complete = nullptr;
};

// user_data for SQEs whose CQEs carry no news we act on (linked timeouts and
// cancel requests: the operation they target reports the outcome itself).
inline constexpr uint64_t kIgnoredUserData = 0;

struct RingOptions {
  uint32_t sq_entries = 0;  // 0: limits::kRingEntries
  uint32_t cq_entries = 0;  // 0: limits::kRingCqEntries
};

class Ring {
 public:
  // Fails with a message naming the likely cause when io_uring is missing,
  // disabled by sysctl, blocked by seccomp or too old for our flags.
  static absl::StatusOr<std::unique_ptr<Ring>> Create(const RingOptions& options = {});
  ~Ring();
  Ring(const Ring&) = delete;
  Ring& operator=(const Ring&) = delete;

  // An SQE for `completion` (nullptr: kIgnoredUserData). Never null.
  io_uring_sqe* GetSqe(Completion* completion);
  // Guarantees that the next `count` GetSqe calls take SQEs from the same
  // submission, which linked operations (IOSQE_IO_LINK) require.
  void ReserveSqes(unsigned count);

  // Submits everything prepared, waits up to `timeout_ns` (0: do not wait,
  // negative: wait indefinitely) for at least one CQE, then dispatches every
  // available CQE. Returns the number dispatched.
  int SubmitAndDispatch(int64_t timeout_ns);

  // Operations submitted whose final CQE has not yet arrived; a clean stop
  // waits for this to reach zero so no kernel write lands in freed memory.
  // A multishot operation counts once, until its final CQE (no F_MORE).
  int64_t in_flight() const { return in_flight_; }

  io_uring* raw() { return &ring_; }
  int fd() const { return ring_.ring_fd; }

 private:
  Ring() = default;
  void Flush();

  io_uring ring_{};
  int64_t in_flight_ = 0;
};

}  // namespace ringmta::io

#endif  // RINGMTA_MTA_IO_RING_H_
