#include "mta/io/listener.h"

#include <arpa/inet.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

#include "mta/base/check.h"
#include "mta/base/log.h"
#include "mta/base/status.h"
#include "mta/io/socket.h"

namespace ringmta::io {
namespace {
// Kernel accept queue length; SOMAXCONN caps it anyway. Bursts of
// connections from bulk senders should queue, not be refused.
constexpr int kListenBacklog = 4096;
// After EMFILE and the like, accepting again at once would spin.
constexpr int64_t kAcceptRetryDelayMs = 100;
}  // namespace

absl::StatusOr<SocketAddress> SocketAddress::Parse(const std::string& text) {
  size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon + 1 == text.size()) {
    return absl::InvalidArgumentError("address '" + text + "' is not HOST:PORT");
  }
  std::string host = text.substr(0, colon);
  std::string port_text = text.substr(colon + 1);
  unsigned port = 0;
  auto [end, error] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (error != std::errc() || end != port_text.data() + port_text.size() || port > 65535) {
    return absl::InvalidArgumentError("address '" + text + "' has a bad port");
  }
  SocketAddress address;
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&address.storage);
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<uint16_t>(port));
    if (inet_pton(AF_INET6, host.substr(1, host.size() - 2).c_str(), &v6->sin6_addr) != 1) {
      return absl::InvalidArgumentError("address '" + text + "' has a bad IPv6 host");
    }
    address.length = sizeof(sockaddr_in6);
    return address;
  }
  auto* v4 = reinterpret_cast<sockaddr_in*>(&address.storage);
  v4->sin_family = AF_INET;
  v4->sin_port = htons(static_cast<uint16_t>(port));
  if (host == "localhost") host = "127.0.0.1";
  if (inet_pton(AF_INET, host.c_str(), &v4->sin_addr) != 1) {
    return absl::InvalidArgumentError("address '" + text +
                                      "' needs a numeric IPv4 host or [IPv6] host");
  }
  address.length = sizeof(sockaddr_in);
  return address;
}

std::string SocketAddress::ToString() const {
  char host[INET6_ADDRSTRLEN] = "?";
  if (family() == AF_INET6) {
    auto* v6 = reinterpret_cast<const sockaddr_in6*>(&storage);
    inet_ntop(AF_INET6, &v6->sin6_addr, host, sizeof host);
    return "[" + std::string(host) + "]:" + std::to_string(ntohs(v6->sin6_port));
  }
  auto* v4 = reinterpret_cast<const sockaddr_in*>(&storage);
  inet_ntop(AF_INET, &v4->sin_addr, host, sizeof host);
  return std::string(host) + ":" + std::to_string(ntohs(v4->sin_port));
}

absl::StatusOr<int> OpenListeningSocket(const SocketAddress& address, bool exclusive) {
  int fd = socket(address.family(), SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return ErrnoToStatus(errno, "socket");
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (!exclusive && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) {
    int error = errno;
    ::close(fd);
    return ErrnoToStatus(error, "setsockopt SO_REUSEPORT");
  }
  if (address.family() == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  if (bind(fd, address.get(), address.length) != 0) {
    int error = errno;
    ::close(fd);
    return ErrnoToStatus(error, "bind " + address.ToString());
  }
  if (listen(fd, kListenBacklog) != 0) {
    int error = errno;
    ::close(fd);
    return ErrnoToStatus(error, "listen " + address.ToString());
  }
  return fd;
}

absl::StatusOr<SocketAddress> LocalAddress(int fd) {
  SocketAddress address;
  address.length = sizeof address.storage;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&address.storage), &address.length) != 0) {
    return ErrnoToStatus(errno, "getsockname");
  }
  return address;
}

Listener::Listener(Reactor& reactor, int listen_fd, AcceptCallback on_accept, void* context)
    : reactor_(reactor), fd_(listen_fd), on_accept_(on_accept), context_(context),
      rearm_timer_(&Listener::RunRearm, this) {
  completion_.on_complete = &Listener::OnAccept;
  completion_.listener = this;
}

Listener::~Listener() {
  CHECK(!armed_);
  CHECK(pending_count_ == 0 && !deliver_posted_);
  reactor_.timers().Cancel(&rearm_timer_);
  ::close(fd_);
}

void Listener::Start() { Arm(); }

void Listener::Arm() {
  CHECK(!armed_);
  armed_ = true;
  io_uring_sqe* sqe = reactor_.ring().GetSqe(&completion_);
  io_uring_prep_multishot_accept(sqe, fd_, nullptr, nullptr, SOCK_CLOEXEC);
}

void Listener::Stop() {
  if (stopping_) return;
  stopping_ = true;
  reactor_.timers().Cancel(&rearm_timer_);
  if (armed_) io_uring_prep_cancel(reactor_.ring().GetSqe(nullptr), &completion_, 0);
}

void Listener::OnAccept(Completion* completion, int32_t result, uint32_t cqe_flags) {
  Listener* self = static_cast<AcceptCompletion*>(completion)->listener;
  if (result >= 0) {
    ++self->accepted_;
    if (self->stopping_ || self->pending_count_ == kPendingMax) {
      ::close(result);  // Shutting down, or a burst beyond any sane batch.
    } else {
      self->pending_[self->pending_count_++] = result;
      if (!self->deliver_posted_) {
        self->deliver_posted_ = true;
        self->reactor_.Post(&Listener::RunDeliver, self);
      }
    }
  }
  if (cqe_flags & IORING_CQE_F_MORE) return;
  self->armed_ = false;
  if (self->stopping_) return;
  // The multishot ended: an error (EMFILE, ENFILE, ENOMEM) or the kernel
  // chose to stop. Retry soon rather than at once, which would spin.
  if (result < 0) {
    Log(LogLevel::kWarning, "accept failed: %s; retrying in %d ms", std::strerror(-result),
        static_cast<int>(kAcceptRetryDelayMs));
  }
  self->reactor_.timers().Schedule(&self->rearm_timer_,
                                   self->reactor_.now_ms() + (result < 0 ? kAcceptRetryDelayMs : 0));
}

void Listener::RunRearm(Timer* timer, void* owner) {
  auto* self = static_cast<Listener*>(owner);
  if (!self->stopping_ && !self->armed_) self->Arm();
}

void Listener::RunDeliver(void* owner) { static_cast<Listener*>(owner)->DeliverPending(); }

void Listener::DeliverPending() {
  deliver_posted_ = false;
  int count = std::exchange(pending_count_, 0);
  for (int i = 0; i < count; ++i) {
    if (stopping_) {
      ::close(pending_[i]);
    } else {
      // Not inherited from the listening socket everywhere: set it per
      // connection. A failure only costs latency, so it is not fatal.
      if (!DisableNagle(pending_[i])) {
        Log(LogLevel::kDebug, "TCP_NODELAY on an accepted socket: %s", std::strerror(errno));
      }
      on_accept_(context_, pending_[i]);
    }
  }
}

}  // namespace ringmta::io
