// Every bound the resolver enforces, each with the reason for its value.
// ResolverConfig may narrow these (Resolver::Create rejects wider values).
// Not here: engine-wide bounds (mta/base/limits.h).
#ifndef RINGMTA_DNS_DNS_LIMITS_H_
#define RINGMTA_DNS_DNS_LIMITS_H_

#include <cstddef>
#include <cstdint>

namespace ringmta::dns::limits {

// ---- Names (RFC 1035 §2.3.4, RFC 2181 §11) ----
// Text form without the trailing dot: 255 wire octets minus length bytes.
inline constexpr size_t kNameBytesMax = 253;
inline constexpr size_t kLabelBytesMax = 63;

// ---- Queries ----
// Resolver addresses: resolv.conf allows 3 (MAXNS); a few more for big sites.
inline constexpr size_t kServersMax = 8;
// Per-try timeout. c-ares doubles it each round over the servers, so the
// default (3 s, 3 tries) gives up after about 21 s: long enough for a slow
// authoritative chain, short against SMTP's minutes-long timeouts.
inline constexpr int64_t kQueryTimeoutMsDefault = 3000;
inline constexpr int64_t kQueryTimeoutMsMin = 10;  // below this even loopback is flaky
inline constexpr int64_t kQueryTimeoutMsMax = 30'000;
inline constexpr int kQueryTriesDefault = 3;
inline constexpr int kQueryTriesMax = 8;  // with doubling, 2^8 x timeout is already absurd
// Distinct (name, type) queries in flight per shard; identical ones share one.
// Past it lookups defer (kResourceExhausted) rather than grow without bound.
inline constexpr size_t kQueriesInFlightMax = 4096;

// ---- Answers ----
// CNAME hops followed inside one answer (RFC 1034 §3.6.2 warns of loops;
// real chains are 1-3 deep).
inline constexpr int kCnameChainMax = 8;
// MX hosts kept per domain, best preferences first: each one may cost a
// connection attempt, and no real domain needs more.
inline constexpr size_t kMxHostsMax = 32;
// Addresses kept per host and family, for the same reason.
inline constexpr size_t kAddressesPerFamilyMax = 32;

// ---- Cache (RFC 2181 §8, RFC 2308 §5) ----
// Entries per shard: (name, type) answers, about 200 B each, so 64 Ki
// entries cost ~13 MB per shard at most; LRU evicts past it.
inline constexpr size_t kCacheEntriesMax = 65'536;
inline constexpr size_t kCacheEntriesDefault = 16'384;
// Longest positive TTL honoured: a day, so a moved MX is noticed even when
// its zone asks for a week (RFC 2181 §8 allows up to 2^31-1 s).
inline constexpr int64_t kCacheTtlSecondsMax = 86'400;
// Shortest positive TTL honoured by default: TTL 0 or 1 on a busy
// destination would otherwise cost a query per message.
inline constexpr int64_t kCacheTtlSecondsMinDefault = 5;
// Negative answers (NXDOMAIN, no data): RFC 2308 §5 recommends a cap of
// 1-3 hours; a typo'd domain rarely starts existing sooner.
inline constexpr int64_t kNegativeTtlSecondsMax = 3 * 3600;
// Negative TTL when an answer carries no SOA to take it from.
inline constexpr int64_t kNegativeTtlSecondsDefault = 60;

static_assert(kCacheTtlSecondsMinDefault <= kCacheTtlSecondsMax);
static_assert(kNegativeTtlSecondsDefault <= kNegativeTtlSecondsMax);
static_assert(kCacheEntriesDefault <= kCacheEntriesMax);

}  // namespace ringmta::dns::limits

#endif  // RINGMTA_DNS_DNS_LIMITS_H_
