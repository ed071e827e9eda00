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
#include "mta/admin/control_server.h"
#include "mta/base/clock.h"
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
#include "mta/daemon/reload.h"
#include "mta/daemon/shard_services.h"
#include "mta/daemon/version.h"
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

// Blocks until a signal in `signals` arrives or `timeout_ms` passes (0).
int WaitSignal(const sigset_t& signals, int64_t timeout_ms) {
  timespec timeout{static_cast<time_t>(timeout_ms / 1000), static_cast<long>(timeout_ms % 1000) * 1'000'000};
  int signal_number = sigtimedwait(&signals, nullptr, &timeout);
  return signal_number > 0 ? signal_number : 0;
}

// SIGHUP or `ringctl reload`, on the main thread: hooks, then the file
// again; on success shard 0 installs the snapshots on every shard, on
// failure the old config stays and the error goes to the log and ringctl.
void Reload(const ConfigSource& source, const DaemonConfig& running, const std::string& hostname,
            const server::InboundConfig& inbound_base, const server::InboundConfig& submission_base,
            const ReloadHooks& hooks, ShardServices& services, InboundSlots& inbound_slots,
            InboundSlots& submission_slots, InboundSlots& submission_tls_slots,
            admin::ControlServer& control, io::ShardGroup& group) {
  hooks.Run();
  admin::ReloadOutcome outcome;
  absl::StatusOr<DaemonConfig> next = ReadConfig(source);
  absl::StatusOr<Snapshots> snapshots =
      next.ok() ? BuildSnapshots(*next, hostname, inbound_base, submission_base)
                : absl::StatusOr<Snapshots>(next.status());
  if (!snapshots.ok()) {
    Log(LogLevel::kError, "reload failed, keeping the old configuration: %s",
        std::string(snapshots.status().message()));
    outcome.status = snapshots.status();
    control.PostReloadOutcome(group, std::move(outcome));
    return;
  }
  std::vector<std::string> restart = KeysNeedingRestart(running, *next);
  admin::Json keys = admin::Json::Array();
  std::string joined;
  for (const std::string& key : restart) {
    keys.Push(key);
    joined += (joined.empty() ? "" : ", ") + key;
  }
  if (!restart.empty()) Log(LogLevel::kWarning, "reload: these changes need a restart: %s", joined);
  outcome.details.Set("restart_needed", std::move(keys));
  // Runs on each shard's thread: only that shard's slots are written.
  outcome.install = [snapshots = *snapshots, &services, &inbound_slots,
                     &submission_slots, &submission_tls_slots](io::Shard& shard) {
    services.relays[shard.index()]->SetSettings(snapshots.relay);
    inbound_slots.per_shard[shard.index()] = snapshots.inbound;
    submission_slots.per_shard[shard.index()] = snapshots.submission;
    submission_tls_slots.per_shard[shard.index()] = snapshots.submission_tls;
    admin::Json part = admin::Json::Object();
    part.Set("shard", shard.index());
    return part;
  };
  Log(LogLevel::kInfo, "reload: configuration read and checked; installing");
  control.PostReloadOutcome(group, std::move(outcome));
}

// SIGTERM or ringctl drain: stop accepting and let work under way finish;
// the drain timeout or a second signal cuts it short. Returns when every
// shard has stopped.
void Drain(io::ShardGroup& group, const sigset_t& signals, int64_t drain_timeout_ms) {
  group.RequestStop();
  const int64_t deadline_ms = MonotonicNowMs() + drain_timeout_ms;
  bool forced = false;
  while (!group.AllFinished()) {
    int signal_number = WaitSignal(signals, 100);
    if (forced) continue;
    if (signal_number == SIGTERM || signal_number == SIGINT) {
      Log(LogLevel::kWarning, "second stop signal: cutting the drain short");
      group.ForceStop();
      forced = true;
    } else if (MonotonicNowMs() >= deadline_ms) {
      Log(LogLevel::kWarning, "drain timeout (%d ms): closing what is left",
          static_cast<int>(drain_timeout_ms));
      group.ForceStop();
      forced = true;
    }
  }
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

int RunDaemon(const DaemonConfig& config, const ConfigSource& source) {
  SetLogLevel(ParseLogLevel(config.log_level));
  const int64_t started_ms = WallNowMs();
  // Block the stop signals before any thread starts, so every shard
  // inherits the mask and only the main thread's sigwait ever sees them.
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
  // What a reload keeps: sinks, policy, credentials, counters, host name.
  server::InboundConfig inbound;
  server::InboundConfig submission;
  // The first snapshots carry no TLS or limits yet; BuildSnapshots below
  // fills them, and every reload does the same from these bases.
  absl::StatusOr<Snapshots> first = BuildSnapshots(config, hostname, inbound, submission);
  if (!first.ok()) {
    Log(LogLevel::kError, "%s", std::string(first.status().message()));
    return 1;
  }
  // Declared before the shard group, so it is destroyed after the shards
  // have stopped (it frees what they left in flight).
  ShardServices services(shards, config.spool, hostname, first->relay,
                         static_cast<uint64_t>(config.queue_messages_max),
                         static_cast<uint64_t>(config.queue_bytes_max));
  for (auto& queue : services.queues) queue->lifetime_ms = config.queue_lifetime_ms;
  if (!config.delivery_log.empty()) {
    services.delivery_log = std::make_unique<admin::DeliveryLog>(config.delivery_log);
  }
  server::QueueSinkFactory sinks(&services.queues);
  inbound.protocol.hostname = hostname;
  inbound.sinks = &sinks;
  // ValidateConfig already parsed the networks and refused an open relay.
  server::RelayPolicy relay_policy(*server::ParseNetworks(config.relay_networks));
  inbound.policy = &relay_policy;
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
  // Submission listeners (RFC 6409) get their own session config: AUTH
  // before MAIL, and Message-ID:/Date: added by the MSA sink.
  server::MsaSinkFactory msa_sinks(&sinks, hostname);
  submission = inbound;
  submission.protocol.auth_required = true;
  submission.sinks = &msa_sinks;
  // Now with the bases complete: the snapshots sessions start from. The
  // certificate is loaded here, as root, before privileges could drop.
  absl::StatusOr<Snapshots> snapshots = BuildSnapshots(config, hostname, inbound, submission);
  if (!snapshots.ok()) {
    Log(LogLevel::kError, "%s", std::string(snapshots.status().message()));
    return 1;
  }
  InboundSlots inbound_slots;
  InboundSlots submission_slots;
  inbound_slots.per_shard.assign(shards, snapshots->inbound);
  submission_slots.per_shard.assign(shards, snapshots->submission);
  InboundSlots submission_tls_slots;
  submission_tls_slots.per_shard.assign(shards, snapshots->submission_tls);

  admin::ControlServerOptions control_options;
  control_options.socket_path =
      config.admin_socket.empty() ? config.spool + "/ringmta.sock" : config.admin_socket;
  control_options.context.relays = &services.relays;
  control_options.context.version = RINGMTA_VERSION;
  control_options.context.started_ms = started_ms;
  // Signals reach the main thread's sigwait (every thread blocks them), so
  // the control plane asks for a reload or drain exactly as an operator's
  // kill would, and the main thread answers through PostReloadOutcome.
  control_options.request_reload = [] { kill(getpid(), SIGHUP); };
  control_options.request_drain = [] { kill(getpid(), SIGTERM); };
  absl::StatusOr<std::unique_ptr<admin::ControlServer>> control =
      admin::ControlServer::Open(control_options);
  if (!control.ok()) {
    Log(LogLevel::kError, "%s", std::string(control.status().message()));
    return 1;
  }
  services.control = control->get();
  ReloadHooks reload_hooks;
  // Log rotation: every shard reopens the delivery log before its next line.
  if (services.delivery_log != nullptr) {
    reload_hooks.Add([log = services.delivery_log.get()] { log->Reopen(); });
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
  for (const std::string& text : config.listen) {
    options.listen.push_back(*io::SocketAddress::Parse(text));
    options.listen_contexts.push_back(&inbound_slots);
  }
  for (const std::string& text : config.submission_listen) {
    options.listen.push_back(*io::SocketAddress::Parse(text));
    options.listen_contexts.push_back(&submission_slots);
  }
  // Implicit TLS submission (RFC 8314 §3.3): the same MSA, handshake first.
  // ValidateConfig made sure a certificate is configured.
  for (const std::string& text : config.submission_tls_listen) {
    options.listen.push_back(*io::SocketAddress::Parse(text));
    options.listen_contexts.push_back(&submission_tls_slots);
  }
  options.handler = &ServeWithSnapshot;
  options.handler_context = &inbound_slots;
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
        options.shards, hostname);
  }

  for (;;) {
    int signal_number = 0;
    if (sigwait(&signals, &signal_number) != 0) continue;
    if (signal_number == SIGHUP) {
      Log(LogLevel::kInfo, "SIGHUP: reopening logs and reloading the configuration");
      Reload(source, config, hostname, inbound, submission, reload_hooks, services, inbound_slots,
             submission_slots, submission_tls_slots, **control, **group);
      continue;
    }
    Log(LogLevel::kInfo, "%s: draining (at most %d ms)", signal_number == SIGTERM ? "SIGTERM" : "SIGINT",
        static_cast<int>(config.drain_timeout_ms));
    break;
  }
  Drain(**group, signals, config.drain_timeout_ms);
  (*group)->Join();
  Log(LogLevel::kInfo, "stopped");
  return 0;
}

}  // namespace ringmta::daemon
