#include "mta/server/inbound_session.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <string>

#include "mta/base/log.h"
#include "mta/io/cancel_scope.h"
#include "mta/io/socket.h"

namespace ringmta::server {
namespace {

std::string PeerAddress(int fd) {
  sockaddr_storage peer{};
  socklen_t length = sizeof peer;
  if (getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &length) != 0) return "unknown";
  char text[INET6_ADDRSTRLEN] = "unknown";
  if (peer.ss_family == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(&peer)->sin_addr, text, sizeof text);
  } else if (peer.ss_family == AF_INET6) {
    inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(&peer)->sin6_addr, text, sizeof text);
  }
  return text;
}

// Shutdown arrives from the shard loop: mark it, and cancel the session's
// wait so it notices now rather than at its idle timeout.
struct ShutdownWatch {
  io::CancelScope scope;
  bool requested = false;
  io::ShutdownNode node{&ShutdownWatch::OnShutdown, this};
  static void OnShutdown(void* owner) {
    auto* watch = static_cast<ShutdownWatch*>(owner);
    watch->requested = true;
    watch->scope.Cancel();
  }
};

class Session {
 public:
  Session(io::Shard& shard, int fd, const InboundConfig& config)
      : shard_(shard), config_(config), peer_(PeerAddress(fd)),
        socket_(shard.reactor(), shard.buffers(), fd, &watch_.scope),
        sink_(config.sinks->NewSink(shard)),
        protocol_(config.protocol, sink_.get(), smtp::PeerInfo{peer_, false}, config.policy,
                  config.authenticator) {
    shard_.AddShutdownNode(&watch_.node);
  }
  ~Session() {
    shard_.RemoveShutdownNode(&watch_.node);
    if (counted_in_ != nullptr) counted_in_->Remove(peer_);
  }

  io::Task<void> Run();

 private:
  // Sends pending replies; false when the connection is no longer usable.
  io::Task<bool> Flush(bool final_word);
  // Carries out the protocol's pending action; false to end the session.
  io::Task<bool> Act();

  io::Shard& shard_;
  const InboundConfig& config_;
  std::string peer_;
  ShutdownWatch watch_;
  io::Socket socket_;
  std::unique_ptr<SessionSink> sink_;
  smtp::ServerProtocol protocol_;
  ClientCounter* counted_in_ = nullptr;  // where this connection is counted
};

io::Task<bool> Session::Flush(bool final_word) {
  std::string& output = protocol_.output();
  if (output.empty()) co_return true;
  int32_t result = final_word ? co_await socket_.SendFinal(output, config_.farewell_timeout_ms)
                              : co_await socket_.SendAll(output, config_.send_timeout_ms);
  output.clear();
  co_return result >= 0;
}

io::Task<bool> Session::Act() {
  switch (protocol_.TakeAction()) {
    case smtp::Action::kNone:
      co_return true;
    case smtp::Action::kCommit:
      protocol_.OnCommitted(co_await sink_->Commit());
      co_return true;
    case smtp::Action::kStartTls:
      // STARTTLS is never advertised until tls/ exists; refuse to guess.
      Log(LogLevel::kWarning, "client %s: STARTTLS action without TLS support", peer_);
      co_return false;
    case smtp::Action::kClose:
      co_return false;
  }
  co_return false;
}

io::Task<void> Session::Run() {
  ClientCounter* counter = config_.client_counters.empty()
                               ? nullptr
                               : config_.client_counters[shard_.index()].get();
  bool exempt = config_.exempt_networks != nullptr && config_.exempt_networks->InRelayNetworks(peer_);
  if (counter != nullptr && !exempt) {
    if (!counter->TryAdd(peer_)) {
      // RFC 5321 §3.1: a server may refuse service with 421 at the greeting.
      std::string refusal = "421 4.7.0 " + config_.protocol.hostname +
                            " Too many connections from your address\r\n";
      co_await socket_.SendFinal(refusal, config_.farewell_timeout_ms);
      co_await socket_.Close();
      co_return;
    }
    counted_in_ = counter;
  }
  protocol_.Start();
  std::string_view unread;
  for (;;) {
    if (!co_await Flush(false)) break;
    if (!co_await Act()) {
      co_await Flush(false);
      break;
    }
    if (protocol_.closed()) break;
    // An action may have queued replies (250 after a commit): send them
    // before reading on, or a client waiting for them never sends more.
    if (!protocol_.output().empty()) continue;
    if (!unread.empty()) {
      // Feed may stop early (a commit to make, output to send); the rest of
      // this chunk stays valid until the next Receive.
      unread.remove_prefix(protocol_.Feed(unread));
      if (sink_->NeedsPacing()) co_await sink_->Pace();
      continue;
    }
    int32_t received = co_await socket_.Receive(config_.idle_timeout_ms);
    if (received > 0) {
      unread = socket_.chunk();
      continue;
    }
    if (received == -ETIMEDOUT) {
      protocol_.OnTimeout();
    } else if (received == -ECANCELED && watch_.requested) {
      protocol_.OnShutdown();
    } else {
      break;  // End of stream or a socket error: nothing left to say.
    }
    co_await Flush(true);
    break;
  }
  co_await socket_.Close();
}

}  // namespace

io::Task<void> ServeInbound(io::Shard& shard, int fd, void* context) {
  const auto& config = *static_cast<const InboundConfig*>(context);
  Session session(shard, fd, config);
  co_await session.Run();
}

}  // namespace ringmta::server
