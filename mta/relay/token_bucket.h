// TokenBucket: a rate limit as a pure value type on an integer millisecond
// clock the caller passes in, so tests drive it with virtual time. It holds
// up to `burst` tokens and earns `rate_per_s` of them per second; a rate of
// 0 means unlimited. Not here: timers or waiting (Destination arms those).
#ifndef RINGMTA_MTA_RELAY_TOKEN_BUCKET_H_
#define RINGMTA_MTA_RELAY_TOKEN_BUCKET_H_

#include <cstdint>

namespace ringmta::relay {

class TokenBucket {
 public:
  // Starts full: a destination that has been quiet may send a burst at once.
  TokenBucket(int64_t rate_per_s, int64_t burst, int64_t now_ms);

  // Takes one token if there is one.
  bool TryTake(int64_t now_ms);
  // Milliseconds until a token is available: 0 if one is now, always >= 1
  // otherwise, so a caller that sleeps this long never spins.
  int64_t WaitMs(int64_t now_ms);

  bool unlimited() const { return rate_per_s_ == 0; }
  // Whole tokens available now (after refilling): for tests and metrics.
  int64_t tokens(int64_t now_ms);

 private:
  // One token is kUnitsPerToken units, and a millisecond earns rate_per_s
  // units: integer arithmetic with no rounding drift at any rate.
  static constexpr int64_t kUnitsPerToken = 1000;
  void Refill(int64_t now_ms);

  int64_t rate_per_s_;
  int64_t capacity_units_;
  int64_t units_;
  int64_t last_ms_;
};

}  // namespace ringmta::relay

#endif  // RINGMTA_MTA_RELAY_TOKEN_BUCKET_H_
