#include "mta/relay/token_bucket.h"

#include <algorithm>

#include "mta/base/check.h"

namespace ringmta::relay {

TokenBucket::TokenBucket(int64_t rate_per_s, int64_t burst, int64_t now_ms)
    : rate_per_s_(rate_per_s), capacity_units_(std::max<int64_t>(1, burst) * kUnitsPerToken),
      units_(capacity_units_), last_ms_(now_ms) {
  CHECK(rate_per_s >= 0);
}

void TokenBucket::Refill(int64_t now_ms) {
  // The shard clock is monotonic; a caller passing an older time earns
  // nothing rather than un-earning tokens.
  if (now_ms <= last_ms_) return;
  int64_t elapsed_ms = now_ms - last_ms_;
  last_ms_ = now_ms;
  // Past a full bucket's refill time the product could only overflow.
  int64_t full_ms = capacity_units_ / std::max<int64_t>(1, rate_per_s_) + 1;
  units_ = std::min(capacity_units_, units_ + std::min(elapsed_ms, full_ms) * rate_per_s_);
}

bool TokenBucket::TryTake(int64_t now_ms) {
  if (unlimited()) return true;
  Refill(now_ms);
  if (units_ < kUnitsPerToken) return false;
  units_ -= kUnitsPerToken;
  return true;
}

int64_t TokenBucket::WaitMs(int64_t now_ms) {
  if (unlimited()) return 0;
  Refill(now_ms);
  if (units_ >= kUnitsPerToken) return 0;
  int64_t missing = kUnitsPerToken - units_;
  return (missing + rate_per_s_ - 1) / rate_per_s_;  // round up: never early
}

int64_t TokenBucket::tokens(int64_t now_ms) {
  if (unlimited()) return capacity_units_ / kUnitsPerToken;
  Refill(now_ms);
  return units_ / kUnitsPerToken;
}

}  // namespace ringmta::relay
