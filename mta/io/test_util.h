// Test helpers for the engine: drive a reactor until a condition holds.
#ifndef RINGMTA_MTA_IO_TEST_UTIL_H_
#define RINGMTA_MTA_IO_TEST_UTIL_H_

#include <sys/resource.h>

#include <functional>

#include "mta/base/clock.h"
#include "mta/io/reactor.h"

namespace ringmta::io {

// Runs loop turns until `done()` or `limit_ms` of real time has passed
// (a guard against a hung test, not a timing assertion). Returns done().
inline bool RunUntil(Reactor& reactor, const std::function<bool()>& done,
                     int64_t limit_ms = 30'000) {
  int64_t give_up_ms = MonotonicNowMs() + limit_ms;
  while (!done() && MonotonicNowMs() < give_up_ms) reactor.RunOnce(10);
  return done();
}

// Many-connection tests need more descriptors than a default soft limit.
inline void RaiseDescriptorLimit() {
  rlimit limit;
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
}

}  // namespace ringmta::io

#endif  // RINGMTA_MTA_IO_TEST_UTIL_H_
