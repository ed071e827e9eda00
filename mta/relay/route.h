// Routing: which next hop a recipient domain goes to (DESIGN §5). Explicit
// routes (a domain, or "*" for everything) name a smart host; every other
// domain goes to its MX hosts. Each route has one owner shard, chosen by a
// stable hash of its key, so per-destination limits need no locks.
// Not here: DNS (dns/) or connecting (outbound sessions).
#ifndef RINGMTA_MTA_RELAY_ROUTE_H_
#define RINGMTA_MTA_RELAY_ROUTE_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace ringmta::relay {

// A host to connect to: a name (resolved with A/AAAA) or an IP literal.
struct NextHop {
  std::string host;
  uint16_t port = 25;
};

struct SmartHostRoute {
  std::string domain;  // lower case, or "*"
  NextHop hop;
};

class Router {
 public:
  // `routes` are checked: each domain at most once.
  static absl::StatusOr<Router> Create(std::vector<SmartHostRoute> routes);
  Router() = default;

  // The smart host for `domain` (exact match first, then "*"), or nullptr
  // when the domain goes to its MX hosts.
  const NextHop* SmartHostFor(std::string_view domain) const;

 private:
  std::vector<SmartHostRoute> routes_;
};

// Parses "host:port", "[v6]:port" or "host" (port 25).
absl::StatusOr<NextHop> ParseNextHop(std::string_view text);

// The key that identifies a destination: "smarthost:HOST:PORT", or
// "mx:" + the MX host names sorted and joined, so domains served by the
// same MX hosts share one destination and its limits (an MX site).
std::string SmartHostKey(const NextHop& hop);
std::string MxSiteKey(std::vector<std::string> mx_hosts, uint16_t port);

// Stable across runs and builds (FNV-1a), unlike std::hash.
int OwnerShard(std::string_view route_key, int shards);

// The domain of an address ("user@Example.COM" -> "example.com"); empty
// when there is none.
std::string DomainOf(std::string_view address);

}  // namespace ringmta::relay

#endif  // RINGMTA_MTA_RELAY_ROUTE_H_
