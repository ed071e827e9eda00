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
#include "mta/daemon/route_config.h"

namespace ringmta::daemon {

struct DaemonConfig {
  // [server]
  std::vector<std::string> listen = {"127.0.0.1:2525"};
  int shards = 0;  // 0: one per CPU this process may run on
  std::string spool = "./var/spool";
  std::string hostname;  // empty: the machine's host name
  std::string log_level = "info";
  // Drop to this user (and group; default: the user's primary group) after
  // binding and loading keys, when started as root (DESIGN §7). Empty: keep
  // running as started (a warning when that is root).
  std::string user;
  std::string group;
  // SIGTERM or `ringctl drain`: how long sessions in a transaction and
  // deliveries under way may take to finish before they are cut off.
  int64_t drain_timeout_ms = 15'000;
  // [smtp]
  uint64_t message_bytes_max = 64ull << 20;
  int recipients_max = limits::kSmtpRecipientsMax;
  int errors_max = limits::kSmtpErrorsMax;
  int junk_commands_max = limits::kSmtpJunkCommandsMax;
  // Per-stage timeouts (RFC 5321 §4.5.3.2); smtp.idle_timeout_ms is the
  // older name of the command timeout.
  int64_t command_timeout_ms = limits::kSmtpServerCommandTimeoutMs;
  int64_t data_timeout_ms = limits::kSmtpServerDataBlockTimeoutMs;
  int64_t tls_handshake_timeout_ms = limits::kSmtpServerTlsHandshakeTimeoutMs;
  int connections_per_shard_max = limits::kConnectionsPerShardMax;
  // Concurrent connections from one client address (clients in the relay
  // networks are exempt). Postfix's default is 50; bulk senders outside
  // our networks rarely need more, and one client cannot take every slot.
  int connections_per_client_max = 50;
  // [relay]: who may relay without AUTH. Loopback only by default.
  std::vector<std::string> relay_networks = {"127.0.0.0/8", "::1/128"};
  bool allow_open_relay = false;  // else a network covering everyone is refused
  // [auth]
  std::string auth_credentials_file;  // empty: AUTH is not offered
  bool auth_allow_plaintext = false;  // offer AUTH without TLS (RFC 4954 §4)
  int auth_failures_max = 3;          // failed AUTHs before 421 and close
  // [tls]: the server certificate; both set: STARTTLS is offered.
  std::string tls_cert_file;
  std::string tls_key_file;
  // [queue]: high-water marks for the whole daemon; past them, 452.
  // 5 million messages cost ~2 GB of index RAM (~400 B each).
  int64_t queue_messages_max = 5'000'000;
  int64_t queue_bytes_max = int64_t{100} << 30;
  // A message not delivered within this long expires and bounces (4.4.7).
  // Five days, as Postfix's maximal_queue_lifetime and RFC 5321 §4.5.4.1's
  // "at least 4-5 days".
  int64_t queue_lifetime_ms = int64_t{5} * 24 * 3600 * 1000;
  // [delivery]
  std::string smarthost;  // "host:port": every message goes there; empty: MX
  std::vector<std::string> delivery_dns_servers;  // "ip:port"; empty: resolv.conf
  int delivery_mx_port = 25;
  int64_t delivery_retry_initial_ms = 60'000;
  int64_t delivery_retry_max_ms = 3'600'000;
  int64_t delivery_idle_timeout_ms = 5'000;
  int delivery_connections_per_destination_max = 20;
  int delivery_messages_per_connection_max = 1000;
  // 0: unlimited (see relay_config.h for why that is the default).
  int64_t delivery_messages_per_second_per_destination = 0;
  int64_t delivery_connections_per_second_per_destination = 0;
  int64_t delivery_destination_forget_ms = 300'000;
  // TLS to MX hosts: none | may | encrypt | verify (RelayConfig says why may).
  std::string delivery_tls = "may";
  std::string delivery_tls_ca_file;  // empty: the system bundle
  int64_t delivery_tls_fallback_ms = 3'600'000;
  // [[route]]: domain -> smart host, each with its TLS policy and AUTH.
  std::vector<RouteConfig> routes;
  // [submission]: MSA listeners (RFC 6409); AUTH required there.
  std::vector<std::string> submission_listen;
  // Implicit TLS submission (RFC 8314, port 465); needs the certificate.
  std::vector<std::string> submission_tls_listen;
  // [admin]: Prometheus /metrics over HTTP (docs/operations.md "Metrics").
  std::string metrics_listen;  // "ADDR:PORT"; empty: off
  bool metrics_allow_non_loopback = false;  // the page is unauthenticated
  int metrics_destinations_max = 20;  // routes with their own label; the rest are "other"
  // [log]
  std::string delivery_log;  // JSON lines, one per event; empty: off
  // [admin]: the control socket ringctl talks to; empty: SPOOL/ringmta.sock.
  std::string admin_socket;
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
