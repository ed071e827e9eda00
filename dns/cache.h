// DnsCache: one shard's answers by (name, type), negative ones included, kept
// for their clamped TTL and LRU-evicted at a fixed entry count; "now" is an
// argument, so tests use a virtual clock. Not here: lookups (resolver.cc).
#ifndef RINGMTA_DNS_CACHE_H_
#define RINGMTA_DNS_CACHE_H_

#include <cstdint>
#include <list>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "dns/dns_limits.h"
#include "dns/message.h"

namespace ringmta::dns {

struct CachePolicy {
  size_t entries_max = limits::kCacheEntriesDefault;
  // Positive answers live their TTL clamped to [ttl_s_min, ttl_s_max].
  int64_t ttl_s_min = limits::kCacheTtlSecondsMinDefault;
  int64_t ttl_s_max = limits::kCacheTtlSecondsMax;
  // Negative answers live their SOA-derived TTL (or negative_ttl_s without
  // SOA) clamped to [ttl_s_min, negative_ttl_s_max].
  int64_t negative_ttl_s = limits::kNegativeTtlSecondsDefault;
  int64_t negative_ttl_s_max = limits::kNegativeTtlSecondsMax;
};

class DnsCache {
 public:
  explicit DnsCache(const CachePolicy& policy);
  DnsCache(const DnsCache&) = delete;
  DnsCache& operator=(const DnsCache&) = delete;

  // A copy of the unexpired answer for (`name`, `type`), which becomes the
  // most recently used; an expired one is dropped.
  std::optional<Answer> Find(std::string_view name, uint16_t type, int64_t now_ms);
  // Stores `answer` (replacing any entry) unless its clamped TTL is zero.
  void Insert(std::string_view name, uint16_t type, const Answer& answer, int64_t now_ms);

  // The seconds `answer` will be kept under this policy.
  int64_t LifetimeSeconds(const Answer& answer) const;
  size_t size() const { return index_.size(); }

 private:
  struct Entry {
    std::string key;
    Answer answer;
    int64_t expires_ms;
  };
  using Lru = std::list<Entry>;  // front: most recently used

  static std::string Key(std::string_view name, uint16_t type);

  CachePolicy policy_;
  Lru lru_;
  std::unordered_map<std::string, Lru::iterator> index_;
};

}  // namespace ringmta::dns

#endif  // RINGMTA_DNS_CACHE_H_
