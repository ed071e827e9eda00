// ControlServer: the admin socket (DESIGN §7) and the control plane's home
// on shard 0. It accepts on a Unix socket (mode 0600) through shard 0's
// ring, reads one JSON request per line (bounded), and answers each with
// one JSON line. Queue commands go to ControlCommands; reload and drain
// involve the daemon's main thread, which owns signals and the config
// file: the server asks it through hooks, and the main thread answers a
// reload with ReloadOutcome, whose install step the server fans out to
// every shard. Not here: what a reload contains (the daemon decides; the
// server only carries an opaque install step per shard).
#ifndef RINGMTA_MTA_ADMIN_CONTROL_SERVER_H_
#define RINGMTA_MTA_ADMIN_CONTROL_SERVER_H_

#include <coroutine>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "mta/admin/admin_limits.h"
#include "mta/admin/control_commands.h"
#include "mta/admin/fanout.h"
#include "mta/admin/json.h"
#include "mta/io/cancel_scope.h"
#include "mta/io/listener.h"
#include "mta/io/shard.h"

namespace ringmta::admin {

struct ControlServerOptions {
  // Empty: no socket (SIGHUP reload still works through the server).
  std::string socket_path;
  ControlContext context;
  // Called on shard 0's thread; each must return at once. request_reload
  // makes the main thread reload and call ControlServer::PostReloadOutcome;
  // request_drain makes it begin the drain (as SIGTERM does).
  std::function<void()> request_reload;
  std::function<void()> request_drain;
};

// A reload's result, made on the main thread and handed to shard 0.
struct ReloadOutcome {
  absl::Status status;
  // Installs the new snapshot on one shard (run on that shard's thread);
  // null when status is not OK.
  ShardWork install;
  // What the response reports besides counts (e.g. keys needing a restart).
  Json details = Json::Object();
};

class ControlServer {
 public:
  // On the main thread before the shards start: binds the socket (if any).
  // An existing socket that nobody answers on is replaced; one in use is
  // an error (another daemon runs on this spool).
  static absl::StatusOr<std::unique_ptr<ControlServer>> Open(ControlServerOptions options);
  ~ControlServer();
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  // On shard 0's thread, before it accepts (its start hook).
  void Start(io::Shard& shard);
  // On shard 0's thread after its loop ended.
  void Close();

  // From the main thread (the ShardGroup's owner): hands `outcome` to shard
  // 0, which installs it on every shard and answers waiting `reload`
  // requests. Retries while the mailbox is full.
  void PostReloadOutcome(io::ShardGroup& group, ReloadOutcome outcome);

  const std::string& socket_path() const { return options_.socket_path; }

 private:
  explicit ControlServer(ControlServerOptions options, int listen_fd);
  static void OnAccept(void* context, int fd);
  static void OnShutdown(void* owner);
  static void RunReloadOutcome(io::Shard& shard, uint64_t, void* pointer);
  io::Task<void> Serve(int fd);
  io::Task<Json> Handle(std::string_view line, bool* drain_after);
  io::Task<Json> AwaitReload();
  io::Task<void> ApplyReload(std::unique_ptr<ReloadOutcome> outcome);
  void Shutdown();

  // A `reload` request waiting for the next outcome.
  struct ReloadWaiter {
    std::coroutine_handle<> handle;
    Json response;
    bool done = false;
  };
  static void OnReloadTimeout(io::Timer* timer, void* context);

  ControlServerOptions options_;
  int listen_fd_ = -1;
  io::Shard* shard_ = nullptr;
  std::unique_ptr<io::Listener> listener_;
  std::unique_ptr<FanOut> fanout_;
  std::unique_ptr<ControlCommands> commands_;
  io::CancelScope scope_;
  io::ShutdownNode shutdown_node_;
  std::vector<ReloadWaiter*> reload_waiters_;
  int connections_ = 0;
  bool stopping_ = false;
};

}  // namespace ringmta::admin

#endif  // RINGMTA_MTA_ADMIN_CONTROL_SERVER_H_
