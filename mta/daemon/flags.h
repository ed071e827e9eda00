// Command-line flags of the ringmta daemon. A small hand parser rather than
// absl flags: --listen repeats (absl keeps only the last), and errors must
// say exactly which argument was wrong. Flags override the config file.
#ifndef RINGMTA_MTA_DAEMON_FLAGS_H_
#define RINGMTA_MTA_DAEMON_FLAGS_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "mta/daemon/config.h"

namespace ringmta::daemon {

struct Flags {
  bool help = false;
  bool version = false;
  std::optional<std::string> config_file;
  std::optional<std::string> check_config_file;
  std::vector<std::string> listen;
  std::optional<int> shards;
  std::optional<std::string> spool;
  std::optional<std::string> hostname;
  std::optional<std::string> log_level;
  std::optional<std::string> smarthost;
  std::optional<std::string> tls_cert;
  std::optional<std::string> tls_key;
  std::optional<std::string> metrics_listen;
  std::optional<std::string> delivery_log;
  std::optional<std::string> admin_socket;
};

absl::StatusOr<Flags> ParseFlags(const std::vector<std::string>& arguments);
// Flags win over the file: a --listen replaces every configured address.
void ApplyFlags(const Flags& flags, DaemonConfig* config);
std::string Usage();

}  // namespace ringmta::daemon

#endif  // RINGMTA_MTA_DAEMON_FLAGS_H_
