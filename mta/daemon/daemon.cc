#include "mta/daemon/daemon.h"

#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <string>

#include "mta/base/log.h"
#include "mta/base/status.h"
#include "mta/io/block_on.h"
#include "mta/io/shard.h"
#include "mta/server/inbound_session.h"
#include "mta/server/queue_sink.h"
#include "queue/shard_queue.h"
#include "queue/spool.h"

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

// The spool holds mail: only its owner may look inside (DESIGN §7).
absl::Status PrepareSpool(const std::string& path) {
  std::error_code error;
  std::filesystem::create_directories(path, error);
  if (error) return absl::PermissionDeniedError("cannot create spool " + path + ": " + error.message());
  if (chmod(path.c_str(), 0700) != 0) return ErrnoToStatus(errno, "chmod spool " + path);
  return absl::OkStatus();
}

// What the shard hooks need: the spool settings and one queue per shard.
struct QueueHooks {
  std::string spool_directory;
  std::vector<std::unique_ptr<queue::ShardQueue>>* queues;
};

// On the shard's own thread, before it accepts: open its spool, so that no
// session can ever be told 250 by a shard without one.
absl::Status OpenShardQueue(io::Shard& shard, void* context) {
  auto* hooks = static_cast<QueueHooks*>(context);
  queue::ShardQueue& queue = *(*hooks->queues)[shard.index()];
  queue::SpoolOptions options;
  options.directory = hooks->spool_directory;
  options.shard = shard.index();
  // Recovery (replay of older segments) is not wired in yet: start past the
  // highest segment on disk so nothing already there is ever overwritten.
  uint32_t first_segment = 1;
  std::error_code error;
  std::string directory = options.directory + "/shard-" + std::to_string(shard.index());
  for (const auto& entry : std::filesystem::directory_iterator(directory, error)) {
    unsigned long number = std::strtoul(entry.path().stem().c_str(), nullptr, 10);
    if (entry.path().extension() == ".seg" && number >= first_segment) {
      first_segment = static_cast<uint32_t>(number + 1);
    }
  }
  absl::StatusOr<std::unique_ptr<queue::Spool>> spool =
      io::BlockOn(shard.reactor(), queue::Spool::Open(shard.reactor(), options, first_segment));
  if (!spool.ok()) return spool.status();
  queue.spool = std::move(*spool);
  return absl::OkStatus();
}

void CloseShardQueue(io::Shard& shard, void* context) {
  auto* hooks = static_cast<QueueHooks*>(context);
  queue::ShardQueue& queue = *(*hooks->queues)[shard.index()];
  if (queue.spool == nullptr) return;
  io::BlockOn(shard.reactor(), queue.spool->Close());
  queue.spool.reset();
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

  absl::Status spool = PrepareSpool(config.spool);
  if (!spool.ok()) {
    Log(LogLevel::kError, "%s", std::string(spool.message()));
    return 1;
  }

  const int shards = config.shards > 0 ? config.shards : CpusAvailable();
  std::vector<std::unique_ptr<queue::ShardQueue>> queues;
  for (int shard = 0; shard < shards; ++shard) {
    queues.push_back(std::make_unique<queue::ShardQueue>());
    queues.back()->shard = shard;
    queues.back()->hostname = HostName(config);
  }
  QueueHooks hooks{config.spool, &queues};
  server::QueueSinkFactory sinks(&queues);
  server::InboundConfig inbound;
  inbound.protocol.hostname = HostName(config);
  inbound.protocol.message_bytes_max = config.message_bytes_max;
  inbound.protocol.recipients_max = config.recipients_max;
  inbound.protocol.errors_max = config.errors_max;
  inbound.idle_timeout_ms = config.idle_timeout_ms;
  inbound.sinks = &sinks;

  io::ShardGroupOptions options;
  options.shards = shards;
  options.on_shard_start = &OpenShardQueue;
  options.on_shard_stop = &CloseShardQueue;
  options.hook_context = &hooks;
  for (const std::string& text : config.listen) options.listen.push_back(*io::SocketAddress::Parse(text));
  options.handler = &server::ServeInbound;
  options.handler_context = &inbound;
  options.connections_per_shard_max = config.connections_per_shard_max;

  absl::StatusOr<std::unique_ptr<io::ShardGroup>> group = io::ShardGroup::Start(options);
  if (!group.ok()) {
    Log(LogLevel::kError, "cannot start: %s", std::string(group.status().message()));
    return 1;
  }
  for (const io::SocketAddress& address : (*group)->bound()) {
    Log(LogLevel::kInfo, "listening on %s with %d shards as %s", address.ToString(),
        options.shards, inbound.protocol.hostname);
  }

  for (;;) {
    int signal_number = 0;
    if (sigwait(&signals, &signal_number) != 0) continue;
    if (signal_number == SIGHUP) {
      Log(LogLevel::kInfo, "SIGHUP: reload is not implemented yet; ignoring");
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
