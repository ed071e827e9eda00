#include "mta/daemon/reload.h"

#include "mta/base/status.h"
#include "mta/daemon/route_config.h"
#include "tls/context.h"

namespace ringmta::daemon {

absl::StatusOr<DaemonConfig> ReadConfig(const ConfigSource& source) {
  DaemonConfig config;
  if (source.file) {
    ASSIGN_OR_RETURN(config, LoadConfigFile(*source.file));
  }
  ApplyFlags(source.flags, &config);
  RETURN_IF_ERROR(ValidateConfig(config));
  return config;
}

namespace {

void ApplySessionLimits(const DaemonConfig& config,
                        const std::shared_ptr<const tls::ServerContext>& tls_context,
                        server::InboundConfig* inbound) {
  inbound->protocol.message_bytes_max = config.message_bytes_max;
  inbound->protocol.recipients_max = config.recipients_max;
  inbound->protocol.errors_max = config.errors_max;
  inbound->protocol.junk_commands_max = config.junk_commands_max;
  inbound->command_timeout_ms = config.command_timeout_ms;
  inbound->data_timeout_ms = config.data_timeout_ms;
  inbound->tls_handshake_timeout_ms = config.tls_handshake_timeout_ms;
  inbound->tls_context = tls_context;
}

}  // namespace

absl::StatusOr<relay::RelayConfig> MakeRelayConfig(const DaemonConfig& config,
                                                   const std::string& hostname) {
  relay::RelayConfig relay;
  relay.ehlo_name = hostname;
  ASSIGN_OR_RETURN(relay.routes, BuildRoutes(config.routes));
  if (!config.smarthost.empty()) {
    // The flag's route takes the MX defaults (delivery.tls, no AUTH).
    ASSIGN_OR_RETURN(relay::NextHop hop, relay::ParseNextHop(config.smarthost));
    relay.routes.push_back({"*", hop});
  }
  ASSIGN_OR_RETURN(relay.tls_policy, tls::ParseClientPolicy(config.delivery_tls));
  relay.tls_ca_file = config.delivery_tls_ca_file;
  relay.tls_fallback_ms = config.delivery_tls_fallback_ms;
  relay.dns_servers = config.delivery_dns_servers;
  relay.mx_port = static_cast<uint16_t>(config.delivery_mx_port);
  relay.retry_initial_ms = config.delivery_retry_initial_ms;
  relay.retry_max_ms = config.delivery_retry_max_ms;
  relay.idle_timeout_ms = config.delivery_idle_timeout_ms;
  relay.connections_per_destination_max = config.delivery_connections_per_destination_max;
  relay.messages_per_connection_max = config.delivery_messages_per_connection_max;
  relay.messages_per_second_per_destination = config.delivery_messages_per_second_per_destination;
  relay.connections_per_second_per_destination =
      config.delivery_connections_per_second_per_destination;
  relay.destination_forget_ms = config.delivery_destination_forget_ms;
  return relay;
}

absl::StatusOr<std::shared_ptr<const tls::ServerContext>> LoadServerTlsContext(
    const DaemonConfig& config) {
  if (config.tls_cert_file.empty()) return std::shared_ptr<const tls::ServerContext>();
  return tls::ServerContext::Create(tls::ServerOptions{config.tls_cert_file, config.tls_key_file});
}

absl::StatusOr<Snapshots> BuildSnapshots(const DaemonConfig& config, const std::string& hostname,
                                         const server::InboundConfig& inbound_base,
                                         const server::InboundConfig& submission_base) {
  ASSIGN_OR_RETURN(relay::RelayConfig relay_config, MakeRelayConfig(config, hostname));
  ASSIGN_OR_RETURN(relay::Router router, relay::Router::Create(relay_config.routes));
  ASSIGN_OR_RETURN(std::shared_ptr<const tls::ServerContext> tls_context,
                   LoadServerTlsContext(config));
  Snapshots snapshots;
  snapshots.relay = std::make_shared<const relay::RelaySettings>(
      relay::RelaySettings{std::move(relay_config), std::move(router)});
  auto inbound = std::make_shared<server::InboundConfig>(inbound_base);
  ApplySessionLimits(config, tls_context, inbound.get());
  auto submission = std::make_shared<server::InboundConfig>(submission_base);
  ApplySessionLimits(config, tls_context, submission.get());
  auto submission_tls = std::make_shared<server::InboundConfig>(*submission);
  submission_tls->implicit_tls = true;
  snapshots.inbound = std::move(inbound);
  snapshots.submission = std::move(submission);
  snapshots.submission_tls = std::move(submission_tls);
  return snapshots;
}

std::vector<std::string> KeysNeedingRestart(const DaemonConfig& a, const DaemonConfig& b) {
  std::vector<std::string> keys;
  auto check = [&keys](bool differs, const char* key) {
    if (differs) keys.push_back(key);
  };
  check(a.listen != b.listen, "server.listen");
  check(a.shards != b.shards, "server.shards");
  check(a.spool != b.spool, "server.spool");
  check(a.hostname != b.hostname, "server.hostname");
  check(a.log_level != b.log_level, "server.log_level");
  check(a.drain_timeout_ms != b.drain_timeout_ms, "server.drain_timeout_ms");
  check(a.connections_per_shard_max != b.connections_per_shard_max, "smtp.connections_per_shard_max");
  check(a.connections_per_client_max != b.connections_per_client_max, "smtp.connections_per_client_max");
  check(a.relay_networks != b.relay_networks, "relay.networks");
  check(a.allow_open_relay != b.allow_open_relay, "relay.allow_open_relay");
  check(a.auth_credentials_file != b.auth_credentials_file, "auth.credentials_file");
  check(a.auth_allow_plaintext != b.auth_allow_plaintext, "auth.allow_plaintext");
  check(a.auth_failures_max != b.auth_failures_max, "auth.failures_max");
  check(a.queue_messages_max != b.queue_messages_max, "queue.messages_max");
  check(a.queue_bytes_max != b.queue_bytes_max, "queue.bytes_max");
  check(a.queue_lifetime_ms != b.queue_lifetime_ms, "queue.lifetime_ms");
  check(a.delivery_dns_servers != b.delivery_dns_servers, "delivery.dns_servers");
  check(a.submission_listen != b.submission_listen, "submission.listen");
  check(a.submission_tls_listen != b.submission_tls_listen, "submission.tls_listen");
  check(a.user != b.user, "server.user");
  check(a.group != b.group, "server.group");
  check(a.metrics_listen != b.metrics_listen, "admin.metrics_listen");
  check(a.metrics_allow_non_loopback != b.metrics_allow_non_loopback,
        "admin.metrics_allow_non_loopback");
  check(a.metrics_destinations_max != b.metrics_destinations_max, "admin.metrics_destinations_max");
  check(a.delivery_log != b.delivery_log, "log.delivery_log");
  check(a.admin_socket != b.admin_socket, "admin.socket");
  return keys;
}

io::Task<void> ServeWithSnapshot(io::Shard& shard, int fd, void* slots) {
  // Held by this frame for the whole session, whatever reloads meanwhile.
  std::shared_ptr<const server::InboundConfig> config =
      static_cast<InboundSlots*>(slots)->per_shard[shard.index()];
  co_await server::ServeInbound(shard, fd, const_cast<server::InboundConfig*>(config.get()));
}

}  // namespace ringmta::daemon
