// Resolver: one shard's DNS for delivery (DESIGN §5): MX in delivery order,
// implicit and null MX, A+AAAA, a bounded TTL cache, shared and cancellable
// lookups. Not here: sockets (ares_channel.h), MX ordering (mx.h), routing.
#ifndef RINGMTA_DNS_RESOLVER_H_
#define RINGMTA_DNS_RESOLVER_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "absl/status/statusor.h"
#include "dns/ares_channel.h"
#include "dns/cache.h"
#include "dns/dns_limits.h"
#include "dns/ip_address.h"
#include "dns/message.h"
#include "dns/mx.h"
#include "mta/io/cancel_scope.h"
#include "mta/io/reactor.h"
#include "mta/io/task.h"

namespace ringmta::dns {

struct ResolverConfig {
  // "IPv4:port", "[IPv6]:port", or an address alone (port 53). Empty: the
  // system's /etc/resolv.conf.
  std::vector<std::string> servers;
  int64_t timeout_ms = limits::kQueryTimeoutMsDefault;  // first try; doubles per round
  int tries = limits::kQueryTriesDefault;
  CachePolicy cache;
  // Seeds MX shuffling (tests); unset: a random seed.
  std::optional<uint64_t> shuffle_seed;
};

struct ResolverStats {
  uint64_t queries_started = 0;  // handed to c-ares
  uint64_t cache_hits = 0;
  uint64_t coalesced = 0;  // joined a query already in flight
  uint64_t cancelled = 0;  // lookups ended by their scope
};

// Single-threaded: create, use and Close() it on its shard's thread.
// Identical lookups in flight share one query; answers (negative ones
// included) are cached per (name, type); temporary failures are not.
//
// What a failed lookup's status code tells the caller to do:
//   kNotFound           bounce: NXDOMAIN, or no MX and no A/AAAA (ResolveMx),
//                       or no A/AAAA (ResolveAddresses)
//   kFailedPrecondition bounce at once: null MX (RFC 7505 §4.2)
//   kInvalidArgument    bounce: not a valid domain name
//   kUnavailable        defer: SERVFAIL, REFUSED, timeout, no server reachable,
//                       malformed answer
//   kResourceExhausted  defer: too many distinct queries in flight
//   kCancelled          the caller's scope was cancelled, or Close() ran
class Resolver {
 public:
  static absl::StatusOr<std::unique_ptr<Resolver>> Create(io::Reactor& reactor,
                                                          const ResolverConfig& config);
  // CHECKs that no query is in flight: await Close() first.
  ~Resolver();
  Resolver(const Resolver&) = delete;
  Resolver& operator=(const Resolver&) = delete;

  // Names are taken by value: a lazily started coroutine must own its inputs.
  // `scope` (may be null) cancels the wait; the query itself runs on and its
  // answer is still cached.
  io::Task<absl::StatusOr<MxResult>> ResolveMx(std::string domain,
                                               io::CancelScope* scope = nullptr);
  // AAAA and A, queried concurrently; IPv6 addresses first, then IPv4. One
  // family failing temporarily still returns the other's addresses.
  io::Task<absl::StatusOr<std::vector<IpAddress>>> ResolveAddresses(
      std::string host, io::CancelScope* scope = nullptr);

  // Ends every lookup (kCancelled), closes the sockets, and completes once
  // nothing of the resolver's is in the ring. Lookups after it: kCancelled.
  io::Task<void> Close();

  const ResolverStats& stats() const { return stats_; }
  size_t queries_in_flight() const { return in_flight_.size(); }
  int64_t polls_in_flight() const { return channel_->polls_in_flight(); }
  const DnsCache& cache() const { return cache_; }

 private:
  // Defined in resolver.cc: an in-flight query, one awaited answer, and
  // the awaitable that gathers up to two of them.
  struct QueryRecord;
  struct Waiter;
  class Lookup;

  Resolver(io::Reactor& reactor, const ResolverConfig& config,
           std::unique_ptr<AresChannel> channel);
  // An answer that needs no query (closed, cached), or nullopt.
  std::optional<absl::StatusOr<Answer>> Immediate(const std::string& name, uint16_t type);
  // Joins or starts the query for `waiter`; may finish it synchronously.
  void Attach(Waiter* waiter);
  static void Detach(Waiter* waiter);
  static void OnAnswer(void* arg, int status, int timeouts, unsigned char* answer,
                       int answer_bytes);

  io::Reactor& reactor_;
  std::unique_ptr<AresChannel> channel_;
  DnsCache cache_;
  MxRandom random_;
  // Owned here, not by waiters, so an answer arriving after every waiter
  // was cancelled still lands in live memory (and in the cache).
  std::unordered_map<std::string, std::unique_ptr<QueryRecord>> in_flight_;
  ResolverStats stats_;
  bool closing_ = false;
};

}  // namespace ringmta::dns

#endif  // RINGMTA_DNS_RESOLVER_H_
