#include "mta/relay/route.h"

#include <algorithm>
#include <charconv>

namespace ringmta::relay {
namespace {

std::string Lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

}  // namespace

absl::StatusOr<Router> Router::Create(std::vector<SmartHostRoute> routes) {
  Router router;
  for (SmartHostRoute& route : routes) {
    route.domain = Lower(route.domain);
    if (route.domain.empty()) return absl::InvalidArgumentError("route with an empty domain");
    for (const SmartHostRoute& seen : router.routes_) {
      if (seen.domain == route.domain) {
        return absl::InvalidArgumentError("two routes for domain " + route.domain);
      }
    }
    router.routes_.push_back(std::move(route));
  }
  return router;
}

const NextHop* Router::SmartHostFor(std::string_view domain) const {
  std::string lower = Lower(domain);
  const NextHop* wildcard = nullptr;
  for (const SmartHostRoute& route : routes_) {
    if (route.domain == lower) return &route.hop;
    if (route.domain == "*") wildcard = &route.hop;
  }
  return wildcard;
}

absl::StatusOr<NextHop> ParseNextHop(std::string_view text) {
  NextHop hop;
  std::string_view host = text;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos) {
      return absl::InvalidArgumentError("next hop '" + std::string(text) + "': missing ]");
    }
    host = text.substr(1, close - 1);
    std::string_view rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') {
        return absl::InvalidArgumentError("next hop '" + std::string(text) + "': junk after ]");
      }
      port = rest.substr(1);
    }
  } else if (size_t colon = text.rfind(':'); colon != std::string_view::npos) {
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  if (host.empty()) return absl::InvalidArgumentError("next hop '" + std::string(text) + "': no host");
  hop.host = std::string(host);
  if (!port.empty()) {
    unsigned value = 0;
    auto [end, error] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (error != std::errc() || end != port.data() + port.size() || value == 0 || value > 65535) {
      return absl::InvalidArgumentError("next hop '" + std::string(text) + "': bad port");
    }
    hop.port = static_cast<uint16_t>(value);
  }
  return hop;
}

std::string SmartHostKey(const NextHop& hop) {
  std::string key = "smarthost:" + Lower(hop.host) + ":" + std::to_string(hop.port);
  if (hop.security != nullptr) {
    // Everything but the password: it must not reach logs through the key.
    key += "|tls=" + std::string(tls::ClientPolicyName(hop.security->tls));
    if (!hop.security->tls_ca_file.empty()) key += ",ca=" + hop.security->tls_ca_file;
    if (hop.security->has_credentials()) key += ",user=" + hop.security->auth_username;
  }
  return key;
}

std::string MxSiteKey(std::vector<std::string> mx_hosts, uint16_t port) {
  for (std::string& host : mx_hosts) host = Lower(host);
  std::sort(mx_hosts.begin(), mx_hosts.end());
  mx_hosts.erase(std::unique(mx_hosts.begin(), mx_hosts.end()), mx_hosts.end());
  std::string key = "mx:";
  for (size_t i = 0; i < mx_hosts.size(); ++i) {
    if (i > 0) key += ',';
    key += mx_hosts[i];
  }
  return key + ":" + std::to_string(port);
}

int OwnerShard(std::string_view route_key, int shards) {
  uint64_t hash = 1469598103934665603ull;
  for (unsigned char c : route_key) {
    hash ^= c;
    hash *= 1099511628211ull;
  }
  return static_cast<int>(hash % static_cast<uint64_t>(shards));
}

std::string DomainOf(std::string_view address) {
  size_t at = address.rfind('@');
  if (at == std::string_view::npos) return "";
  return Lower(address.substr(at + 1));
}

}  // namespace ringmta::relay
