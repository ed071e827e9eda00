// DaemonConfig: everything the composition root needs, with built-in
// defaults (the daemon runs with no file), loaded from one TOML file and
// then overridden by command-line flags. Every key is validated; unknown
// keys are errors that name the key and its line. Not here: applying it.
#ifndef RINGMTA_MTA_DAEMON_CONFIG_H_
#define RINGMTA_MTA_DAEMON_CONFIG_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "mta/base/limits.h"

namespace ringmta::daemon {

struct DaemonConfig {
  // [server]
  std::vector<std::string> listen = {"127.0.0.1:2525"};
  int shards = 0;  // 0: one per CPU this process may run on
  std::string spool = "./var/spool";
  std::string hostname;  // empty: the machine's host name
  std::string log_level = "info";
  // [smtp]
  uint64_t message_bytes_max = 64ull << 20;
  int recipients_max = limits::kSmtpRecipientsMax;
  int errors_max = limits::kSmtpErrorsMax;
  int64_t idle_timeout_ms = limits::kSmtpServerIdleTimeoutMs;
  int connections_per_shard_max = limits::kConnectionsPerShardMax;
};

// Parses and validates TOML text; `origin` names the file in errors.
absl::StatusOr<DaemonConfig> ParseConfig(const std::string& text, const std::string& origin);
absl::StatusOr<DaemonConfig> LoadConfigFile(const std::string& path);
// Every key the file may hold, as "section.key".
std::vector<std::string> KnownConfigKeys();
// Cross-key checks, run again after flags are applied.
absl::Status ValidateConfig(const DaemonConfig& config);

}  // namespace ringmta::daemon

#endif  // RINGMTA_MTA_DAEMON_CONFIG_H_
