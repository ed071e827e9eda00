// Reload (SIGHUP, `ringctl reload`): re-reads the config file, validates
// it, and builds new immutable snapshots (shared_ptr<const ...>) on the
// main thread; each shard then swaps in its pointer on its own thread
// (admin::ControlServer fans the install out). Sessions keep the snapshot
// they started with. Listeners, shards, spool and other restart-only keys
// are not changed; a reload that changes one says so. Not here: signals
// (daemon.cc) or the socket (mta/admin).
#ifndef RINGMTA_MTA_DAEMON_RELOAD_H_
#define RINGMTA_MTA_DAEMON_RELOAD_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "mta/daemon/config.h"
#include "mta/daemon/flags.h"
#include "mta/io/shard.h"
#include "mta/io/task.h"
#include "mta/relay/relay_shard.h"
#include "mta/server/inbound_session.h"

namespace ringmta::daemon {

// Where the running config came from, to read it again the same way.
struct ConfigSource {
  std::optional<std::string> file;
  Flags flags;
};

// The file (if any), then the flags over it, then the cross-key checks.
absl::StatusOr<DaemonConfig> ReadConfig(const ConfigSource& source);

// What one reload replaces, all or nothing.
struct Snapshots {
  std::shared_ptr<const relay::RelaySettings> relay;
  std::shared_ptr<const server::InboundConfig> inbound;
  std::shared_ptr<const server::InboundConfig> submission;
  // The submission role under implicit TLS (RFC 8314, port 465).
  std::shared_ptr<const server::InboundConfig> submission_tls;
};

// `inbound_base` and `submission_base` carry what a reload keeps (sinks,
// relay policy, credentials, client counters, host name); the config gives
// the session limits and the TLS certificate (loaded here).
absl::StatusOr<Snapshots> BuildSnapshots(const DaemonConfig& config, const std::string& hostname,
                                         const server::InboundConfig& inbound_base,
                                         const server::InboundConfig& submission_base);

// Delivery settings from the config: routes (with their TLS and AUTH),
// TLS policy, limits and timers.
absl::StatusOr<relay::RelayConfig> MakeRelayConfig(const DaemonConfig& config,
                                                   const std::string& hostname);

// The one place the server's TLS context is made (STARTTLS and implicit
// TLS share it); null without a certificate.
absl::StatusOr<std::shared_ptr<const tls::ServerContext>> LoadServerTlsContext(
    const DaemonConfig& config);

// Keys whose new value only a restart applies, where `next` differs.
std::vector<std::string> KeysNeedingRestart(const DaemonConfig& running, const DaemonConfig& next);

// One listener role's session config, one slot per shard; slot k is read
// and replaced only on shard k's thread.
struct InboundSlots {
  std::vector<std::shared_ptr<const server::InboundConfig>> per_shard;
};

// A ConnectionHandler whose context is an InboundSlots: the session runs
// with its shard's snapshot of the moment and holds it to the end.
io::Task<void> ServeWithSnapshot(io::Shard& shard, int fd, void* slots);

// Run on the main thread at each reload, before the file is read again:
// other subsystems join the SIGHUP path here with one line, e.g.
// `hooks.Add([&log] { log.Reopen(); });` for log rotation.
class ReloadHooks {
 public:
  void Add(std::function<void()> hook) { hooks_.push_back(std::move(hook)); }
  void Run() const {
    for (const auto& hook : hooks_) hook();
  }

 private:
  std::vector<std::function<void()>> hooks_;
};

}  // namespace ringmta::daemon

#endif  // RINGMTA_MTA_DAEMON_RELOAD_H_
