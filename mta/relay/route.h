// Routing: which next hop a recipient domain goes to (DESIGN §5). Explicit
// routes (a domain, or "*" for everything) name a smart host; every other
// domain goes to its MX hosts. Each route has one owner shard, chosen by a
// stable hash of its key, so per-destination limits need no locks.
// Not here: DNS (dns/) or connecting (outbound sessions).
#ifndef RINGMTA_MTA_RELAY_ROUTE_H_
#define RINGMTA_MTA_RELAY_ROUTE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "tls/context.h"

namespace ringmta::relay {

// How to talk to a smart host: its TLS policy and, optionally, the AUTH
// credentials it wants. Immutable once built and shared by every job routed
// there (jobs cross shards, so it is never modified after config load).
struct HopSecurity {
  tls::ClientPolicy tls = tls::ClientPolicy::kMay;
  std::string tls_ca_file;  // empty: the system bundle
  std::string auth_username;  // empty: no AUTH
  std::string auth_password;  // the secret: never logged
  // Send the credentials even without TLS (a smart host on a trusted link).
  bool auth_allow_plaintext = false;

  bool has_credentials() const { return !auth_username.empty(); }
};

// A host to connect to: a name (resolved with A/AAAA) or an IP literal.
struct NextHop {
  NextHop() = default;
  // Not an aggregate, so "{host, port}" leaves `security` null without a
  // missing-initializer warning at every MX hop.
  NextHop(std::string host_in, uint16_t port_in,
          std::shared_ptr<const HopSecurity> security_in = nullptr)
      : host(std::move(host_in)), port(port_in), security(std::move(security_in)) {}

  std::string host;
  uint16_t port = 25;
  // Null: the MX defaults (RelayConfig::tls_policy, no AUTH).
  std::shared_ptr<const HopSecurity> security;
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

// The key that identifies a destination: "smarthost:HOST:PORT" (followed
// by the route's TLS and AUTH settings when it has some, so two routes to
// one host with different accounts or policies never share connections), or
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
