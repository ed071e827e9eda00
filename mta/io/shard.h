// Shard and ShardGroup: thread-per-core, shared nothing (DESIGN §2). A shard
// is one thread with its own Reactor (ring, timers), receive buffers,
// listeners (SO_REUSEPORT) and tasks. Shards talk only through fixed-size
// SPSC mailboxes, one per ordered pair, drained every loop turn. ShardGroup
// opens the listening sockets, starts the shards and stops them cleanly.
// Not here: what a connection does (the ConnectionHandler decides).
#ifndef RINGMTA_MTA_IO_SHARD_H_
#define RINGMTA_MTA_IO_SHARD_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "mta/base/limits.h"
#include "mta/io/buffer_ring.h"
#include "mta/io/listener.h"
#include "mta/io/mailbox.h"
#include "mta/io/reactor.h"
#include "mta/io/task.h"

namespace ringmta::io {

class Shard;

// Runs on the target shard. Trivially copyable so a mailbox slot is three
// words and a push is a few stores.
struct ShardMessage {
  void (*run)(Shard& target, uint64_t value, void* pointer) = nullptr;
  uint64_t value = 0;
  void* pointer = nullptr;
};

// A session that must hear about shutdown. `on_shutdown` starts a drain
// (finish the transaction or delivery under way, then close; an idle
// session says 421 at once). `on_force` (optional) ends what is left when
// the drain timeout passes or a second signal comes: cancel everything.
struct ShutdownNode {
  void (*on_shutdown)(void* owner) = nullptr;
  void* owner = nullptr;
  ShutdownNode* prev = nullptr;
  ShutdownNode* next = nullptr;
  void (*on_force)(void* owner) = nullptr;
};

// Serves one accepted connection; owns `fd`. Runs as a task of the shard.
using ConnectionHandler = Task<void> (*)(Shard& shard, int fd, void* context);

struct ShardGroupOptions {
  int shards = 1;
  std::vector<SocketAddress> listen;
  ConnectionHandler handler = nullptr;
  void* handler_context = nullptr;
  // Optional, one per `listen` entry: the context for connections accepted
  // there instead of handler_context (nullptr: handler_context). This is
  // how a listener gets its role, e.g. a submission port's MSA config.
  std::vector<void*> listen_contexts;
  // Per shard; past it a connection is closed at once (the handler may
  // prefer to greet with 421; this is the hard stop).
  int connections_per_shard_max = limits::kConnectionsPerShardMax;
  // Optional work on each shard's thread: after its reactor is up and
  // before it accepts (a failure aborts Start with that status), and after
  // its loop has ended, before the reactor goes (to close files cleanly).
  // Both may drive the reactor themselves (RunOnce) to await I/O.
  absl::Status (*on_shard_start)(Shard& shard, void* context) = nullptr;
  void (*on_shard_stop)(Shard& shard, void* context) = nullptr;
  void* hook_context = nullptr;
  // Optional, on the calling thread once every listening socket is bound
  // and before any shard thread exists, so nothing has been accepted yet and
  // the process is single-threaded: where privileges drop (DESIGN §7). A
  // failure closes the sockets and aborts Start with that status.
  absl::Status (*after_bind)(void* context) = nullptr;
  void* after_bind_context = nullptr;
};

class ShardGroup;

class Shard {
 public:
  int index() const { return index_; }
  int shard_count() const;
  Reactor& reactor() { return *reactor_; }
  BufferRing& buffers() { return *buffers_; }
  TaskGroup& tasks() { return tasks_; }
  bool stopping() const { return stopping_; }
  int connections() const { return connections_; }
  uint64_t connections_accepted() const { return accepted_; }
  uint64_t connections_refused() const { return refused_; }

  // Runs `message` on shard `to` soon. False when our mailbox to it is full:
  // backpressure the caller must handle (retry later, or refuse work).
  bool Send(int to, const ShardMessage& message);

  void AddShutdownNode(ShutdownNode* node);
  void RemoveShutdownNode(ShutdownNode* node);

 private:
  friend class ShardGroup;
  using Inbox = Mailbox<ShardMessage, limits::kMailboxSlots>;

  Shard(ShardGroup& group, int index);
  absl::Status Init();
  void Run();
  // Runs queued messages; true if some mailbox may still hold more.
  bool DrainInboxes();
  void BeginStop();
  void ForceStop();
  bool Finished() const;
  // What a listener's accept callback needs: its shard and its context.
  struct AcceptTarget {
    Shard* shard;
    void* handler_context;
  };
  static void OnAccept(void* target, int fd);
  static Task<void> ServeCounted(Shard& shard, int fd, void* context);

  ShardGroup& group_;
  int index_;
  std::unique_ptr<Reactor> reactor_;
  std::unique_ptr<BufferRing> buffers_;
  std::vector<AcceptTarget> accept_targets_;  // one per listener; never resized after Init
  std::vector<std::unique_ptr<Listener>> listeners_;
  std::vector<std::unique_ptr<Inbox>> inboxes_;  // inboxes_[from]
  TaskGroup tasks_;
  ShutdownNode* shutdown_head_ = nullptr;
  bool stopping_ = false;
  int connections_ = 0;
  uint64_t accepted_ = 0;
  uint64_t refused_ = 0;
  bool forced_ = false;
  std::atomic<bool> stop_requested_{false};
  std::atomic<bool> force_requested_{false};
  std::atomic<bool> finished_{false};  // its loop has ended
  std::thread thread_;
};

class ShardGroup {
 public:
  // Binds every listen address (learning the port once for port 0, so all
  // shards share it), starts the shards and returns once each has its ring,
  // or the first error (io_uring unavailable, address in use, ...).
  static absl::StatusOr<std::unique_ptr<ShardGroup>> Start(const ShardGroupOptions& options);
  // Joins the threads (RequestStop first, or this waits forever).
  ~ShardGroup();
  ShardGroup(const ShardGroup&) = delete;
  ShardGroup& operator=(const ShardGroup&) = delete;

  // Thread-safe: every shard stops accepting, tells its sessions to wind
  // down (drain), and exits its loop once nothing is left in flight.
  void RequestStop();
  // Thread-safe: after RequestStop, cancels whatever the drain left
  // (ShutdownNode::on_force): the drain timeout or a second signal.
  void ForceStop();
  // True once every shard's loop has ended (Join will not block long).
  bool AllFinished() const;
  void Join();

  // Runs `message` on shard `to` from outside the shards: only ever from
  // the one thread that started the group (the daemon's main thread), which
  // is the single producer of each shard's extra inbox. False when full.
  bool SendFromMain(int to, const ShardMessage& message);

  int size() const { return static_cast<int>(shards_.size()); }
  Shard& shard(int index) { return *shards_[index]; }
  // The addresses actually bound (ports resolved), in --listen order.
  const std::vector<SocketAddress>& bound() const { return bound_; }
  const ShardGroupOptions& options() const { return options_; }

 private:
  friend class Shard;
  explicit ShardGroup(const ShardGroupOptions& options) : options_(options) {}

  ShardGroupOptions options_;
  std::vector<SocketAddress> bound_;
  // listen_fds_[shard][address]: each shard's own SO_REUSEPORT socket.
  std::vector<std::vector<int>> listen_fds_;
  std::vector<std::unique_ptr<Shard>> shards_;
};

}  // namespace ringmta::io

#endif  // RINGMTA_MTA_IO_SHARD_H_
