// Time as plain integers with the unit in the name. Components take "now" as
// an argument wherever they can, so tests drive them with a virtual clock;
// only the event loop reads the real clocks below.
#ifndef RINGMTA_MTA_BASE_CLOCK_H_
#define RINGMTA_MTA_BASE_CLOCK_H_

#include <time.h>

#include <cstdint>

namespace ringmta {

// CLOCK_MONOTONIC: for timeouts and durations; never jumps with the wall clock.
inline int64_t MonotonicNowNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}
inline int64_t MonotonicNowMs() { return MonotonicNowNs() / 1'000'000; }

// CLOCK_REALTIME: only for what people read (headers, logs, queue deadlines
// that must survive a restart).
inline int64_t WallNowMs() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return int64_t{ts.tv_sec} * 1000 + ts.tv_nsec / 1'000'000;
}

}  // namespace ringmta

#endif  // RINGMTA_MTA_BASE_CLOCK_H_
