#include "mta/daemon/daemon.h"

#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <optional>
#include <string>

#include "mta/admin/delivery_log.h"
#include "mta/admin/http_metrics_server.h"
#include "mta/admin/metrics_exposition.h"
#include "mta/base/log.h"
#include "mta/base/status.h"
#include "mta/io/block_on.h"
#include "mta/io/shard.h"
#include "mta/server/credentials.h"
#include "mta/server/inbound_session.h"
#include "mta/server/msa_sink.h"
#include "mta/server/queue_sink.h"
#include "mta/server/relay_policy.h"
#include "mta/daemon/privileges.h"
#include "mta/daemon/shard_services.h"
#include "tls/context.h"

namespace ringmta::daemon {
namespace {

int CpusAvailable() {
  cpu_set_t cpus;
  if (sched_getaffinity(0, sizeof cpus, &cpus) == 0) return CPU_COUNT(&cpus);
  long online = sysconf(_SC_NPROCESSORS_ONLN);
  return online > 0 ? static_cast<int>(online) : 1;
}

std::string HostName(const DaemonConfig& config) {
  if (!config.hostname.empty()) return config.hostname;
  char name[256] = {};
  if (gethostname(name, sizeof name - 1) != 0 || name[0] == '\0') return "localhost";
  return name;
}

LogLevel ParseLogLevel(const std::string& level) {
  if (level == "debug") return LogLevel::kDebug;
  if (level == "warning") return LogLevel::kWarning;
  if (level == "error") return LogLevel::kError;
  return LogLevel::kInfo;
}

// The spool holds mail: only its owner may look inside (DESIGN §7). It is
// made 0700 from the start, not chmodded after a window at the umask's mode.
absl::Status PrepareSpool(const std::string& path) {
  std::error_code error;
  std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, error);
  if (error) return absl::PermissionDeniedError("cannot create spool " + path + ": " + error.message());
  if (mkdir(path.c_str(), 0700) != 0 && errno != EEXIST) {
    return ErrnoToStatus(errno, "mkdir spool " + path);
  }
  if (chmod(path.c_str(), 0700) != 0) return ErrnoToStatus(errno, "chmod spool " + path);
  return absl::OkStatus();
}

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

// The one place the server's TLS context is made (STARTTLS and implicit
// TLS share it), so a reload can build a new one here and swap it.
absl::StatusOr<std::shared_ptr<const tls::ServerContext>> LoadServerTlsContext(
    const DaemonConfig& config) {
  if (config.tls_cert_file.empty()) return std::shared_ptr<const tls::ServerContext>();
  return tls::ServerContext::Create(tls::ServerOptions{config.tls_cert_file, config.tls_key_file});
}

// Serves /metrics when admin.metrics_listen is set (nullptr otherwise). The
// page sums every shard's stats at scrape time.
absl::StatusOr<std::unique_ptr<admin::HttpMetricsServer>> StartMetrics(
    const DaemonConfig& config, const ShardServices& services) {
  if (config.metrics_listen.empty()) return std::unique_ptr<admin::HttpMetricsServer>();
  ASSIGN_OR_RETURN(io::SocketAddress address, io::SocketAddress::Parse(config.metrics_listen));
  std::vector<const ShardStats*> shards;
  for (const auto& stats : services.stats) shards.push_back(stats.get());
  auto exposition =
      std::make_shared<admin::MetricsExposition>(std::move(shards), config.metrics_destinations_max);
  ASSIGN_OR_RETURN(std::unique_ptr<admin::HttpMetricsServer> server,
                   admin::HttpMetricsServer::Start(address, [exposition] {
                     return exposition->Render();
                   }));
  if (!admin::IsLoopback(server->bound())) {
    Log(LogLevel::kWarning, "metrics on %s are reachable beyond this host, without authentication",
        server->bound().ToString());
  }
  Log(LogLevel::kInfo, "metrics on http://%s/metrics", server->bound().ToString());
  return server;
}

}  // namespace

int RunDaemon(const DaemonConfig& config) {
  SetLogLevel(ParseLogLevel(config.log_level));
  // Block the stop signals before any thread starts, so every shard
  // inherits the mask and only sigwait below ever sees them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  // A peer closing mid-send must produce EPIPE, never kill the process.
  signal(SIGPIPE, SIG_IGN);

  // Decided before anything is bound, so a bad server.user stops us early.
  absl::StatusOr<std::optional<PrivilegeDrop>> privilege_drop =
      PlanPrivilegeDrop(config.user, config.group, config.spool);
  if (!privilege_drop.ok()) {
    Log(LogLevel::kError, "%s", std::string(privilege_drop.status().message()));
    return 1;
  }
  absl::Status spool = PrepareSpool(config.spool);
  if (!spool.ok()) {
    Log(LogLevel::kError, "%s", std::string(spool.message()));
    return 1;
  }

  const int shards = config.shards > 0 ? config.shards : CpusAvailable();
  const std::string hostname = HostName(config);
  absl::StatusOr<relay::RelayConfig> relay_config = MakeRelayConfig(config, hostname);
  absl::StatusOr<relay::Router> router =
      relay_config.ok() ? relay::Router::Create(relay_config->routes)
                        : absl::StatusOr<relay::Router>(relay_config.status());
  if (!router.ok()) {
    Log(LogLevel::kError, "%s", std::string(router.status().message()));
    return 1;
  }
  // Declared before the shard group, so it is destroyed after the shards
  // have stopped (it frees what they left in flight).
  ShardServices services(shards, config.spool, hostname, *relay_config, *std::move(router),
                         static_cast<uint64_t>(config.queue_messages_max),
                         static_cast<uint64_t>(config.queue_bytes_max));
  if (!config.delivery_log.empty()) {
    services.delivery_log = std::make_unique<admin::DeliveryLog>(config.delivery_log);
  }
  server::QueueSinkFactory sinks(&services.queues);
  server::InboundConfig inbound;
  inbound.protocol.hostname = hostname;
  inbound.protocol.message_bytes_max = config.message_bytes_max;
  inbound.protocol.recipients_max = config.recipients_max;
  inbound.protocol.errors_max = config.errors_max;
  inbound.protocol.junk_commands_max = config.junk_commands_max;
  inbound.command_timeout_ms = config.command_timeout_ms;
  inbound.data_timeout_ms = config.data_timeout_ms;
  inbound.tls_handshake_timeout_ms = config.tls_handshake_timeout_ms;
  inbound.sinks = &sinks;
  // ValidateConfig already parsed the networks and refused an open relay.
  server::RelayPolicy relay_policy(*server::ParseNetworks(config.relay_networks));
  inbound.policy = &relay_policy;
  {
    // Loaded as root, before anything else could drop privileges.
    absl::StatusOr<std::shared_ptr<const tls::ServerContext>> tls_context =
        LoadServerTlsContext(config);
    if (!tls_context.ok()) {
      Log(LogLevel::kError, "%s", std::string(tls_context.status().message()));
      return 1;
    }
    inbound.tls_context = *tls_context;
  }
  inbound.exempt_networks = &relay_policy;
  for (int shard = 0; shard < shards; ++shard) {
    // The daemon-wide limit, split between the shards a client's
    // connections are spread over (rounded up: never below the limit).
    int per_shard = (config.connections_per_client_max + shards - 1) / shards;
    inbound.client_counters.push_back(std::make_shared<server::ClientCounter>(per_shard));
  }
  std::unique_ptr<server::CredentialsFile> credentials;
  if (!config.auth_credentials_file.empty()) {
    std::vector<std::string> warnings;
    absl::StatusOr<std::unique_ptr<server::CredentialsFile>> loaded =
        server::CredentialsFile::Load(config.auth_credentials_file, &warnings);
    for (const std::string& warning : warnings) Log(LogLevel::kWarning, "%s", warning);
    if (!loaded.ok()) {
      Log(LogLevel::kError, "%s", std::string(loaded.status().message()));
      return 1;
    }
    credentials = std::move(*loaded);
    inbound.authenticator = credentials.get();
    inbound.protocol.auth_enabled = true;
    inbound.protocol.auth_plaintext_allowed = config.auth_allow_plaintext;
    inbound.protocol.auth_failures_max = config.auth_failures_max;
  }

  io::ShardGroupOptions options;
  options.shards = shards;
  options.on_shard_start = &StartShardServices;
  options.on_shard_stop = &StopShardServices;
  options.hook_context = &services;
  // Listeners bound and keys loaded, no shard thread yet: drop root here.
  if (privilege_drop->has_value()) {
    options.after_bind = &ApplyPrivilegeDrop;
    options.after_bind_context = &**privilege_drop;
  }
  // Submission listeners (RFC 6409) get their own session config: AUTH
  // before MAIL, and Message-ID:/Date: added by the MSA sink.
  server::MsaSinkFactory msa_sinks(&sinks, hostname);
  server::InboundConfig submission = inbound;
  submission.protocol.auth_required = true;
  submission.sinks = &msa_sinks;
  for (const std::string& text : config.listen) {
    options.listen.push_back(*io::SocketAddress::Parse(text));
    options.listen_contexts.push_back(&inbound);
  }
  for (const std::string& text : config.submission_listen) {
    options.listen.push_back(*io::SocketAddress::Parse(text));
    options.listen_contexts.push_back(&submission);
  }
  // Implicit TLS submission (RFC 8314 §3.3): the same MSA, handshake first.
  // ValidateConfig made sure a certificate is configured.
  server::InboundConfig submission_tls = submission;
  submission_tls.implicit_tls = true;
  for (const std::string& text : config.submission_tls_listen) {
    options.listen.push_back(*io::SocketAddress::Parse(text));
    options.listen_contexts.push_back(&submission_tls);
  }
  options.handler = &server::ServeInbound;
  options.handler_context = &inbound;
  options.connections_per_shard_max = config.connections_per_shard_max;

  absl::StatusOr<std::unique_ptr<io::ShardGroup>> group = io::ShardGroup::Start(options);
  if (!group.ok()) {
    Log(LogLevel::kError, "cannot start: %s", std::string(group.status().message()));
    return 1;
  }
  // After the shards (and so after the privilege drop): the metrics thread
  // must not be the one thread left running as root.
  absl::StatusOr<std::unique_ptr<admin::HttpMetricsServer>> metrics = StartMetrics(config, services);
  if (!metrics.ok()) {
    Log(LogLevel::kError, "cannot serve metrics: %s", std::string(metrics.status().message()));
    (*group)->RequestStop();
    (*group)->Join();
    return 1;
  }
  const std::vector<io::SocketAddress>& bound = (*group)->bound();
  for (size_t i = 0; i < bound.size(); ++i) {
    const char* role = i < config.listen.size() ? ""
                       : i < config.listen.size() + config.submission_listen.size()
                           ? " (submission)"
                           : " (submission, implicit TLS)";
    Log(LogLevel::kInfo, "listening on %s%s with %d shards as %s", bound[i].ToString(), role,
        options.shards, inbound.protocol.hostname);
  }

  for (;;) {
    int signal_number = 0;
    if (sigwait(&signals, &signal_number) != 0) continue;
    if (signal_number == SIGHUP) {
      // Log rotation: every shard reopens the delivery log before its next line.
      if (services.delivery_log != nullptr) services.delivery_log->Reopen();
      Log(LogLevel::kInfo, "SIGHUP: delivery log reopened; reload is not implemented yet");
      continue;
    }
    Log(LogLevel::kInfo, "%s: stopping", signal_number == SIGTERM ? "SIGTERM" : "SIGINT");
    break;
  }
  (*group)->RequestStop();
  (*group)->Join();
  Log(LogLevel::kInfo, "stopped");
  return 0;
}

}  // namespace ringmta::daemon
