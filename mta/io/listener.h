// Listener: a TCP listening socket with SO_REUSEPORT (so every shard binds
// the same address and the kernel spreads connections) and one multishot
// accept. Each accepted descriptor is handed to a callback on the reactor's
// ready pass. Not here: connection limits or sessions (the owner decides).
#ifndef RINGMTA_MTA_IO_LISTENER_H_
#define RINGMTA_MTA_IO_LISTENER_H_

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "mta/io/reactor.h"
#include "mta/io/timer_wheel.h"

namespace ringmta::io {

// An address to listen on, parsed from "HOST:PORT" or "[V6]:PORT".
struct SocketAddress {
  sockaddr_storage storage{};
  socklen_t length = 0;

  static absl::StatusOr<SocketAddress> Parse(const std::string& text);
  std::string ToString() const;
  int family() const { return storage.ss_family; }
  const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&storage); }
};

// Creates, binds and listens; SO_REUSEPORT unless `exclusive`.
absl::StatusOr<int> OpenListeningSocket(const SocketAddress& address, bool exclusive = false);
// The address a socket is bound to (to learn the port chosen for port 0).
absl::StatusOr<SocketAddress> LocalAddress(int fd);

class Listener {
 public:
  // Called once per accepted connection with its descriptor, which the
  // callee now owns. Runs on the ready pass, not in completion context.
  using AcceptCallback = void (*)(void* context, int fd);

  Listener(Reactor& reactor, int listen_fd, AcceptCallback on_accept, void* context);
  ~Listener();
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  void Start();
  // Cancels the accept; the descriptor is closed once the kernel lets go.
  void Stop();
  // True once Stop() has taken full effect.
  bool stopped() const { return stopping_ && !armed_; }
  uint64_t accepted() const { return accepted_; }

 private:
  struct AcceptCompletion : Completion {
    Listener* listener;
  };
  void Arm();
  void DeliverPending();
  static void OnAccept(Completion* completion, int32_t result, uint32_t cqe_flags);
  static void RunDeliver(void* owner);
  static void RunRearm(Timer* timer, void* owner);

  Reactor& reactor_;
  int fd_;
  AcceptCallback on_accept_;
  void* context_;
  AcceptCompletion completion_;
  Timer rearm_timer_;
  bool armed_ = false;
  bool stopping_ = false;
  uint64_t accepted_ = 0;
  // Accepted descriptors waiting for the ready pass. A fixed array: the CQ
  // bounds how many accepts one dispatch can see, and overflow is closed.
  static constexpr int kPendingMax = 1024;
  int pending_[kPendingMax];
  int pending_count_ = 0;
  bool deliver_posted_ = false;
};

}  // namespace ringmta::io

#endif  // RINGMTA_MTA_IO_LISTENER_H_
