#include "dns/cache.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "mta/base/check.h"

namespace ringmta::dns {

DnsCache::DnsCache(const CachePolicy& policy) : policy_(policy) {
  CHECK(policy_.entries_max <= limits::kCacheEntriesMax);
  CHECK(policy_.ttl_s_min >= 0 && policy_.ttl_s_min <= policy_.ttl_s_max);
  CHECK(policy_.negative_ttl_s >= 0 && policy_.negative_ttl_s_max >= 0);
}

std::string DnsCache::Key(std::string_view name, uint16_t type) {
  // '/' never occurs in a normalised name, so keys cannot collide.
  return absl::StrCat(absl::string_view(name.data(), name.size()), "/", type);
}

int64_t DnsCache::LifetimeSeconds(const Answer& answer) const {
  if (answer.kind == AnswerKind::kRecords) {
    int64_t ttl_s = answer.ttl_s.value_or(0);
    return std::clamp(ttl_s, policy_.ttl_s_min, policy_.ttl_s_max);
  }
  int64_t ttl_s = answer.ttl_s.has_value() ? int64_t{*answer.ttl_s} : policy_.negative_ttl_s;
  return std::max(policy_.ttl_s_min, std::min(ttl_s, policy_.negative_ttl_s_max));
}

std::optional<Answer> DnsCache::Find(std::string_view name, uint16_t type, int64_t now_ms) {
  auto found = index_.find(Key(name, type));
  if (found == index_.end()) return std::nullopt;
  Lru::iterator entry = found->second;
  if (entry->expires_ms <= now_ms) {
    index_.erase(found);
    lru_.erase(entry);
    return std::nullopt;
  }
  lru_.splice(lru_.begin(), lru_, entry);
  return entry->answer;
}

void DnsCache::Insert(std::string_view name, uint16_t type, const Answer& answer,
                      int64_t now_ms) {
  std::string key = Key(name, type);
  if (auto found = index_.find(key); found != index_.end()) {
    lru_.erase(found->second);
    index_.erase(found);
  }
  int64_t lifetime_s = LifetimeSeconds(answer);
  if (lifetime_s <= 0 || policy_.entries_max == 0) return;
  // Invariant: size() <= entries_max after every Insert.
  while (index_.size() >= policy_.entries_max) {
    index_.erase(lru_.back().key);
    lru_.pop_back();
  }
  lru_.push_front(Entry{key, answer, now_ms + lifetime_s * 1000});
  index_.emplace(std::move(key), lru_.begin());
}

}  // namespace ringmta::dns
