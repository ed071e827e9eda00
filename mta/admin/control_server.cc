#include "mta/admin/control_server.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "mta/base/check.h"
#include "mta/base/log.h"
#include "mta/base/status.h"
#include "mta/io/socket.h"

namespace ringmta::admin {
namespace {

// Unix socket paths are limited to sizeof(sun_path) (108 bytes). A longer
// one (a deep spool directory) is reached through /proc/self/fd/N/NAME,
// N being the directory opened with O_PATH: the kernel resolves it as a
// path. `directory_fd` receives N (close it after the call) or -1.
absl::StatusOr<sockaddr_un> UnixAddress(const std::string& path, int* directory_fd) {
  *directory_fd = -1;
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::string target = path;
  if (target.size() >= sizeof address.sun_path) {
    size_t slash = path.rfind('/');
    std::string directory = slash == std::string::npos ? "." : path.substr(0, slash);
    std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
    *directory_fd = open(directory.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (*directory_fd < 0) return ErrnoToStatus(errno, "admin socket directory " + directory);
    target = "/proc/self/fd/" + std::to_string(*directory_fd) + "/" + name;
    if (target.size() >= sizeof address.sun_path) {
      close(*directory_fd);
      *directory_fd = -1;
      return absl::InvalidArgumentError("admin socket name too long: " + path);
    }
  }
  std::memcpy(address.sun_path, target.c_str(), target.size() + 1);
  return address;
}

// True when a daemon answers on `path` (so it must not be replaced). A
// connect alone is not proof: right after a daemon was killed its listening
// socket may still accept for a moment (the kernel tears an io_uring down
// asynchronously, and a pending accept holds the socket), but nobody
// answers. So ask, and wait briefly for the answer.
bool SocketInUse(const std::string& path) {
  constexpr int kAnswerWaitMs = 1'000;
  int directory_fd = -1;
  absl::StatusOr<sockaddr_un> address = UnixAddress(path, &directory_fd);
  if (!address.ok()) return false;
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  bool in_use = fd >= 0 && connect(fd, reinterpret_cast<const sockaddr*>(&*address), sizeof *address) == 0;
  if (directory_fd >= 0) close(directory_fd);
  if (in_use) {
    static constexpr char kProbe[] = "{\"command\":\"status\"}\n";
    in_use = send(fd, kProbe, sizeof kProbe - 1, MSG_NOSIGNAL) == static_cast<ssize_t>(sizeof kProbe - 1);
    pollfd readable{fd, POLLIN, 0};
    char byte;
    in_use = in_use && poll(&readable, 1, kAnswerWaitMs) == 1 && recv(fd, &byte, 1, 0) == 1;
  }
  if (fd >= 0) close(fd);
  return in_use;
}

absl::StatusOr<int> BindControlSocket(const std::string& path) {
  struct stat existing;
  if (lstat(path.c_str(), &existing) == 0) {
    if (!S_ISSOCK(existing.st_mode)) {
      return absl::FailedPreconditionError("admin socket path " + path + " exists and is not a socket");
    }
    if (SocketInUse(path)) {
      return absl::FailedPreconditionError("admin socket " + path +
                                           " is in use: is another ringmta running on this spool?");
    }
    unlink(path.c_str());  // left over from a daemon that did not exit cleanly
  }
  int directory_fd = -1;
  ASSIGN_OR_RETURN(sockaddr_un address, UnixAddress(path, &directory_fd));
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    if (directory_fd >= 0) close(directory_fd);
    return ErrnoToStatus(errno, "admin socket");
  }
  // Only the owner may connect: the socket is born 0600 (umask), not
  // chmod'ed after a window in which anyone could. The main thread runs
  // this before any other thread exists, so the umask change is private.
  mode_t old_mask = umask(0177);
  int bound = bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address);
  int bind_errno = errno;
  umask(old_mask);
  if (directory_fd >= 0) close(directory_fd);
  if (bound != 0) {
    close(fd);
    return ErrnoToStatus(bind_errno, "bind admin socket " + path);
  }
  if (chmod(path.c_str(), 0600) != 0 || listen(fd, kControlConnectionsMax) != 0) {
    absl::Status error = ErrnoToStatus(errno, "admin socket " + path);
    close(fd);
    unlink(path.c_str());
    return error;
  }
  return fd;
}

}  // namespace

absl::StatusOr<std::unique_ptr<ControlServer>> ControlServer::Open(ControlServerOptions options) {
  int fd = -1;
  if (!options.socket_path.empty()) {
    ASSIGN_OR_RETURN(fd, BindControlSocket(options.socket_path));
  }
  return std::unique_ptr<ControlServer>(new ControlServer(std::move(options), fd));
}

ControlServer::ControlServer(ControlServerOptions options, int listen_fd)
    : options_(std::move(options)), listen_fd_(listen_fd) {
  shutdown_node_.on_shutdown = &ControlServer::OnShutdown;
  shutdown_node_.owner = this;
}

ControlServer::~ControlServer() {
  CHECK(reload_waiters_.empty());
  if (listener_ == nullptr && listen_fd_ >= 0) close(listen_fd_);  // never started
  if (!options_.socket_path.empty()) unlink(options_.socket_path.c_str());
}

void ControlServer::Start(io::Shard& shard) {
  shard_ = &shard;
  fanout_ = std::make_unique<FanOut>(shard);
  commands_ = std::make_unique<ControlCommands>(options_.context, *fanout_);
  if (listen_fd_ >= 0) {
    listener_ = std::make_unique<io::Listener>(shard.reactor(), listen_fd_, &ControlServer::OnAccept, this);
    listener_->Start();
    Log(LogLevel::kInfo, "admin socket %s", options_.socket_path);
  }
  shard.AddShutdownNode(&shutdown_node_);
}

void ControlServer::Close() {
  if (shard_ == nullptr) return;
  shard_->RemoveShutdownNode(&shutdown_node_);
  listener_.reset();  // stopped at shutdown; the listener closes its fd
  commands_.reset();
  fanout_.reset();
  shard_ = nullptr;
}

void ControlServer::OnShutdown(void* owner) { static_cast<ControlServer*>(owner)->Shutdown(); }

// A draining daemon stops answering: its shard cannot finish while the
// socket is open, and what it would report is changing anyway.
void ControlServer::Shutdown() {
  if (stopping_) return;
  stopping_ = true;
  if (listener_ != nullptr) listener_->Stop();
  fanout_->CancelAll();
  for (ReloadWaiter* waiter : reload_waiters_) {
    waiter->response = ErrorResponse("the daemon is stopping");
    waiter->done = true;
    shard_->reactor().Post(waiter->handle);
  }
  reload_waiters_.clear();
  scope_.Cancel();
}

void ControlServer::OnAccept(void* context, int fd) {
  auto* self = static_cast<ControlServer*>(context);
  if (self->stopping_ || self->connections_ >= kControlConnectionsMax) {
    close(fd);
    return;
  }
  ++self->connections_;
  io::Spawn(self->shard_->reactor(), self->shard_->tasks(), self->Serve(fd));
}

io::Task<void> ControlServer::Serve(int fd) {
  io::Socket socket(shard_->reactor(), shard_->buffers(), fd, &scope_);
  std::string pending;
  bool open = true;
  while (open) {
    int32_t received = co_await socket.Receive(kControlIdleTimeoutMs);
    if (received <= 0) break;
    pending.append(socket.chunk());
    size_t newline;
    while (open && (newline = pending.find('\n')) != std::string::npos) {
      std::string line = pending.substr(0, newline);
      pending.erase(0, newline + 1);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.empty()) continue;
      bool drain_after = false;
      Json response = co_await Handle(line, &drain_after);
      std::string text = response.Serialize() + "\n";
      open = co_await socket.SendAll(text, kControlSendTimeoutMs) >= 0;
      // Only once the answer is out: the drain closes this socket.
      if (drain_after) options_.request_drain();
    }
    if (open && pending.size() > kRequestBytesMax) {
      std::string text = ErrorResponse("request longer than " + std::to_string(kRequestBytesMax) +
                                       " bytes")
                             .Serialize() +
                         "\n";
      co_await socket.SendAll(text, kControlSendTimeoutMs);
      break;
    }
  }
  co_await socket.Close();
  --connections_;
}

io::Task<Json> ControlServer::Handle(std::string_view line, bool* drain_after) {
  absl::StatusOr<ControlRequest> request = ParseControlRequest(line);
  if (!request.ok()) co_return ErrorResponse(std::string(request.status().message()));
  if (stopping_) co_return ErrorResponse("the daemon is stopping");
  if (request->command == Command::kReload) co_return co_await AwaitReload();
  if (request->command == Command::kDrain) {
    *drain_after = true;
    Json response = Json::Object();
    response.Set("ok", true);
    response.Set("draining", true);
    co_return response;
  }
  co_return co_await commands_->Execute(*request);
}

// --- Reload -----------------------------------------------------------------

io::Task<Json> ControlServer::AwaitReload() {
  ReloadWaiter waiter;
  struct Awaiter {
    Awaiter(ControlServer& server_in, ReloadWaiter& waiter_in)
        : server(server_in), waiter(waiter_in), timer(&ControlServer::OnReloadTimeout, &server_in) {}
    ControlServer& server;
    ReloadWaiter& waiter;
    io::Timer timer;
    bool await_ready() const { return false; }
    void await_suspend(std::coroutine_handle<> handle) {
      waiter.handle = handle;
      server.reload_waiters_.push_back(&waiter);
      io::Reactor& reactor = server.shard_->reactor();
      reactor.timers().Schedule(&timer, reactor.now_ms() + kReloadTimeoutMs);
      server.options_.request_reload();
    }
    void await_resume() { server.shard_->reactor().timers().Cancel(&timer); }
  };
  Awaiter awaiter(*this, waiter);
  co_await awaiter;
  if (!waiter.done) co_return ErrorResponse("reload: no answer from the main thread");
  co_return std::move(waiter.response);
}

void ControlServer::OnReloadTimeout(io::Timer*, void* context) {
  auto* self = static_cast<ControlServer*>(context);
  // Every waiter shares the deadline's fate: the main thread is stuck.
  for (ReloadWaiter* waiter : self->reload_waiters_) self->shard_->reactor().Post(waiter->handle);
  self->reload_waiters_.clear();
}

void ControlServer::PostReloadOutcome(io::ShardGroup& group, ReloadOutcome outcome) {
  auto* pointer = new ReloadOutcome(std::move(outcome));
  io::ShardMessage message{&ControlServer::RunReloadOutcome, reinterpret_cast<uint64_t>(this), pointer};
  while (!group.SendFromMain(0, message)) usleep(1000);  // the main thread may wait
}

void ControlServer::RunReloadOutcome(io::Shard& shard, uint64_t server, void* pointer) {
  auto* self = reinterpret_cast<ControlServer*>(server);
  std::unique_ptr<ReloadOutcome> outcome(static_cast<ReloadOutcome*>(pointer));
  if (self->stopping_ || self->fanout_ == nullptr) return;
  io::Spawn(shard.reactor(), shard.tasks(), self->ApplyReload(std::move(outcome)));
}

io::Task<void> ControlServer::ApplyReload(std::unique_ptr<ReloadOutcome> outcome) {
  Json response = Json::Object();
  if (!outcome->status.ok()) {
    response = ErrorResponse("reload failed, old configuration kept: " +
                             std::string(outcome->status.message()));
  } else {
    std::vector<int> shards;
    for (int i = 0; i < shard_->shard_count(); ++i) shards.push_back(i);
    std::vector<absl::StatusOr<Json>> parts =
        co_await fanout_->Run(shards, outcome->install, options_.context.shard_timeout_ms);
    int64_t applied = 0;
    std::string errors;
    for (const absl::StatusOr<Json>& part : parts) {
      if (part.ok()) ++applied;
      else errors += (errors.empty() ? "" : "; ") + std::string(part.status().message());
    }
    if (!errors.empty()) {
      response = ErrorResponse("reload applied on " + std::to_string(applied) + " of " +
                               std::to_string(parts.size()) + " shards: " + errors);
    } else {
      response.Set("ok", true);
      response.Set("shards_applied", applied);
      for (const auto& [key, value] : outcome->details.members()) response.Set(key, value);
    }
    Log(LogLevel::kInfo, "reload applied on %d of %d shards", static_cast<int>(applied),
        static_cast<int>(parts.size()));
  }
  // Every request waiting now gets this outcome (a SIGHUP at the same time
  // as ringctl reload yields one reload that answers both).
  for (ReloadWaiter* waiter : reload_waiters_) {
    waiter->response = response;
    waiter->done = true;
    shard_->reactor().Post(waiter->handle);
  }
  reload_waiters_.clear();
}

}  // namespace ringmta::admin
