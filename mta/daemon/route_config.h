// Routes from the config file: `[[route]]` tables, each a domain (or "*")
// sent to a smart host with its own TLS policy and optional AUTH account.
// Parsing and validation live here, apart from the table of scalar keys,
// so a reload can run them again on a fresh file. Not here: routing itself
// (mta/relay/route) or the `--smarthost` flag (config.cc turns it into a
// "*" route with the delivery defaults).
#ifndef RINGMTA_MTA_DAEMON_ROUTE_CONFIG_H_
#define RINGMTA_MTA_DAEMON_ROUTE_CONFIG_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "mta/relay/route.h"

#ifndef TOML_EXCEPTIONS
#define TOML_EXCEPTIONS 0  // errors as values, as everywhere in ringmta
#endif
#include <toml++/toml.h>

namespace ringmta::daemon {

// One `[[route]]` as written, validated. The password is read from
// auth_password_file at parse time and is never logged or printed.
struct RouteConfig {
  std::string domain;     // lower case, or "*"
  std::string smarthost;  // "host:port"
  std::string tls = "may";
  std::string tls_ca_file;
  std::string auth_username;
  std::string auth_password_file;
  std::string auth_password;
  bool auth_allow_plaintext = false;
  int line = 0;  // where the table starts, for errors about the route
};

// Every key a `[[route]]` table may hold, as "route.KEY" (for the docs test).
std::vector<std::string> KnownRouteKeys();

// Parses the top-level `route` node (an array of tables) into `routes`,
// checking every key and the rules between them; errors name the file, the
// line and the key ("relay.toml:12: route.tls: ...").
absl::Status ParseRoutes(const std::string& origin, const toml::node& node,
                         std::vector<RouteConfig>* routes);

// The routes as the relay takes them, each with its HopSecurity.
absl::StatusOr<std::vector<relay::SmartHostRoute>> BuildRoutes(
    const std::vector<RouteConfig>& routes);

}  // namespace ringmta::daemon

#endif  // RINGMTA_MTA_DAEMON_ROUTE_CONFIG_H_
