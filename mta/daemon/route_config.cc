// [[route]] tables: each key read and checked, then the rules between keys
// (AUTH needs TLS unless plaintext is allowed by name; one route per domain).
#include "mta/daemon/route_config.h"

#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <memory>
#include <sstream>

#include "mta/base/status.h"
#include "mta/relay/route_limits.h"
#include "mta/smtp/client_limits.h"
#include "tls/context.h"

namespace ringmta::daemon {
namespace {

const char* const kRouteKeys[] = {
    "domain",
    "smarthost",
    "tls",
    "tls_ca_file",
    "auth_username",
    "auth_password_file",
    "auth_allow_plaintext",
};

absl::Status RouteError(const std::string& origin, int line, const std::string& key,
                        const std::string& problem) {
  return absl::InvalidArgumentError(origin + ":" + std::to_string(line) + ": route." + key + ": " +
                                    problem);
}

int LineOf(const toml::node& node) { return static_cast<int>(node.source().begin.line); }

std::string Lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

// A domain as routes name it: "*", or letters, digits, '-', '.', '_' (a
// pattern, not an address: no '@', no brackets, no spaces).
bool ValidDomain(const std::string& domain) {
  if (domain == "*") return true;
  if (domain.empty() || domain.size() > 253 || domain.front() == '.' || domain.back() == '.') {
    return false;
  }
  return std::all_of(domain.begin(), domain.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '-' || c == '.' || c == '_';
  });
}

// The secret: the file's first line without its line ending. The file must
// not be readable by every user (it is as secret as the account).
absl::StatusOr<std::string> ReadPasswordFile(const std::string& path) {
  struct stat info {};
  if (stat(path.c_str(), &info) != 0) return absl::NotFoundError("cannot read " + path);
  if (!S_ISREG(info.st_mode)) return absl::InvalidArgumentError(path + " is not a regular file");
  if ((info.st_mode & S_IROTH) != 0) {
    return absl::PermissionDeniedError(path + " is readable by every user; chmod o-r it");
  }
  std::ifstream file(path, std::ios::binary);
  if (!file) return absl::NotFoundError("cannot read " + path);
  std::string line;
  std::getline(file, line);
  if (!line.empty() && line.back() == '\r') line.pop_back();
  if (line.empty())
    return absl::InvalidArgumentError(path + ": the first line (the password) is empty");
  if (line.size() > smtp::limits::kClientCredentialBytesMax) {
    return absl::InvalidArgumentError(path + ": password longer than " +
                                      std::to_string(smtp::limits::kClientCredentialBytesMax) +
                                      " bytes");
  }
  return line;
}

absl::Status ReadRouteString(const std::string& origin, const toml::node& node,
                             const std::string& key, std::string* out) {
  if (!node.is_string()) return RouteError(origin, LineOf(node), key, "must be a string");
  *out = *node.value<std::string>();
  return absl::OkStatus();
}

// One table's keys, each checked on its own.
absl::Status ReadRouteKeys(const std::string& origin, const toml::table& table,
                           RouteConfig* route) {
  for (const auto& [name, node] : table) {
    std::string key(name.str());
    int line = LineOf(node);
    if (key == "domain") {
      RETURN_IF_ERROR(ReadRouteString(origin, node, key, &route->domain));
      route->domain = Lower(route->domain);
      if (!ValidDomain(route->domain)) {
        return RouteError(origin, line, key, "must be \"*\" or a domain name");
      }
    } else if (key == "smarthost") {
      RETURN_IF_ERROR(ReadRouteString(origin, node, key, &route->smarthost));
      if (absl::Status hop = relay::ParseNextHop(route->smarthost).status(); !hop.ok()) {
        return RouteError(origin, line, key, std::string(hop.message()));
      }
    } else if (key == "tls") {
      RETURN_IF_ERROR(ReadRouteString(origin, node, key, &route->tls));
      if (!tls::ParseClientPolicy(route->tls).ok()) {
        return RouteError(origin, line, key,
                          "must be \"none\", \"may\", \"encrypt\" or \"verify\"");
      }
    } else if (key == "tls_ca_file") {
      RETURN_IF_ERROR(ReadRouteString(origin, node, key, &route->tls_ca_file));
      if (route->tls_ca_file.empty()) return RouteError(origin, line, key, "must not be empty");
      // Loading it now turns a typo into a start-up error, not deferred mail.
      tls::ClientOptions options;
      options.policy = tls::ClientPolicy::kVerify;
      options.ca_file = route->tls_ca_file;
      if (absl::Status loaded = tls::ClientContext::Create(options).status(); !loaded.ok()) {
        return RouteError(origin, line, key, std::string(loaded.message()));
      }
    } else if (key == "auth_username") {
      RETURN_IF_ERROR(ReadRouteString(origin, node, key, &route->auth_username));
      if (route->auth_username.empty() ||
          route->auth_username.size() > smtp::limits::kClientCredentialBytesMax) {
        return RouteError(
            origin, line, key,
            "must be 1 to " + std::to_string(smtp::limits::kClientCredentialBytesMax) + " bytes");
      }
    } else if (key == "auth_password_file") {
      RETURN_IF_ERROR(ReadRouteString(origin, node, key, &route->auth_password_file));
      absl::StatusOr<std::string> password = ReadPasswordFile(route->auth_password_file);
      if (!password.ok())
        return RouteError(origin, line, key, std::string(password.status().message()));
      route->auth_password = *std::move(password);
    } else if (key == "auth_allow_plaintext") {
      if (!node.is_boolean()) return RouteError(origin, line, key, "must be true or false");
      route->auth_allow_plaintext = *node.value<bool>();
    } else {
      return RouteError(origin, line, key, "unknown key");
    }
  }
  return absl::OkStatus();
}

// The rules between one route's keys.
absl::Status CheckRoute(const std::string& origin, const RouteConfig& route) {
  if (route.domain.empty()) return RouteError(origin, route.line, "domain", "missing");
  if (route.smarthost.empty()) return RouteError(origin, route.line, "smarthost", "missing");
  if (route.auth_username.empty() != route.auth_password_file.empty()) {
    return RouteError(origin, route.line,
                      route.auth_username.empty() ? "auth_username" : "auth_password_file",
                      "auth_username and auth_password_file go together");
  }
  if (route.tls == "verify" && route.tls_ca_file.empty()) {
    tls::ClientOptions options;
    options.policy = tls::ClientPolicy::kVerify;
    if (absl::Status loaded = tls::ClientContext::Create(options).status(); !loaded.ok()) {
      return RouteError(origin, route.line, "tls",
                        "verify needs a CA bundle; the system one failed: " +
                            std::string(loaded.message()) + " (set tls_ca_file)");
    }
  }
  const bool tls_required = route.tls == "encrypt" || route.tls == "verify";
  if (!route.auth_username.empty() && !tls_required && !route.auth_allow_plaintext) {
    // Under none or may a man in the middle can strip STARTTLS and read the
    // password, so it takes TLS by policy or plaintext by name.
    return RouteError(origin, route.line, "tls",
                      "is \"" + route.tls +
                          "\" but the route sends AUTH credentials: use tls = \"encrypt\" or "
                          "\"verify\", or set auth_allow_plaintext = true");
  }
  return absl::OkStatus();
}

}  // namespace

std::vector<std::string> KnownRouteKeys() {
  std::vector<std::string> keys;
  for (const char* key : kRouteKeys) keys.push_back(std::string("route.") + key);
  return keys;
}

absl::Status ParseRoutes(const std::string& origin, const toml::node& node,
                         std::vector<RouteConfig>* routes) {
  const toml::array* tables = node.as_array();
  if (tables == nullptr) {
    return absl::InvalidArgumentError(origin + ":" + std::to_string(LineOf(node)) +
                                      ": route: must be [[route]] tables");
  }
  routes->clear();
  for (const toml::node& item : *tables) {
    const toml::table* table = item.as_table();
    if (table == nullptr) {
      return absl::InvalidArgumentError(origin + ":" + std::to_string(LineOf(item)) +
                                        ": route: must be [[route]] tables");
    }
    if (routes->size() >= relay::limits::kRoutesMax) {
      return RouteError(origin, LineOf(item), "domain",
                        "more than " + std::to_string(relay::limits::kRoutesMax) + " routes");
    }
    RouteConfig route;
    route.line = LineOf(item);
    RETURN_IF_ERROR(ReadRouteKeys(origin, *table, &route));
    RETURN_IF_ERROR(CheckRoute(origin, route));
    for (const RouteConfig& seen : *routes) {
      if (seen.domain == route.domain) {
        return RouteError(
            origin, route.line, "domain",
            "\"" + route.domain + "\" is routed already at line " + std::to_string(seen.line));
      }
    }
    routes->push_back(std::move(route));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<relay::SmartHostRoute>> BuildRoutes(
    const std::vector<RouteConfig>& routes) {
  std::vector<relay::SmartHostRoute> built;
  for (const RouteConfig& route : routes) {
    ASSIGN_OR_RETURN(relay::NextHop hop, relay::ParseNextHop(route.smarthost));
    ASSIGN_OR_RETURN(tls::ClientPolicy policy, tls::ParseClientPolicy(route.tls));
    auto security = std::make_shared<relay::HopSecurity>();
    security->tls = policy;
    security->tls_ca_file = route.tls_ca_file;
    security->auth_username = route.auth_username;
    security->auth_password = route.auth_password;
    security->auth_allow_plaintext = route.auth_allow_plaintext;
    hop.security = std::move(security);
    built.push_back({route.domain, std::move(hop)});
  }
  return built;
}

}  // namespace ringmta::daemon
