#include "mta/server/inbound_session.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <optional>
#include <string>

#include "mta/base/clock.h"
#include "mta/base/log.h"
#include "mta/base/shard_stats.h"
#include "mta/io/cancel_scope.h"
#include "mta/io/socket.h"
#include "tls/session.h"

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

// Shutdown arrives from the shard loop as a drain: mark it, and cancel the
// session's wait so it notices now rather than at its idle timeout, unless
// a mail transaction is under way: that one may finish (and get its 250)
// first. The force that ends a drain cancels in any case.
struct ShutdownWatch {
  io::CancelScope scope;
  bool requested = false;
  const smtp::ServerProtocol* protocol = nullptr;
  io::ShutdownNode node{&ShutdownWatch::OnShutdown, this, nullptr, nullptr,
                        &ShutdownWatch::OnForce};
  static void OnShutdown(void* owner) {
    auto* watch = static_cast<ShutdownWatch*>(owner);
    watch->requested = true;
    if (watch->protocol == nullptr || !watch->protocol->in_transaction()) watch->scope.Cancel();
  }
  static void OnForce(void* owner) {
    auto* watch = static_cast<ShutdownWatch*>(owner);
    watch->requested = true;
    watch->scope.Cancel();
  }
};

// STARTTLS is offered exactly when a certificate is loaded and the
// connection is not already under implicit TLS.
smtp::ServerConfig ProtocolConfig(const InboundConfig& config) {
  smtp::ServerConfig protocol = config.protocol;
  protocol.advertise_starttls = config.tls_context != nullptr && !config.implicit_tls;
  return protocol;
}

class Session {
 public:
  Session(io::Shard& shard, int fd, const InboundConfig& config)
      : shard_(shard), config_(config), peer_(PeerAddress(fd)),
        socket_(shard.reactor(), shard.buffers(), fd, &watch_.scope),
        sink_(config.sinks->NewSink(shard)) {
    shard_.AddShutdownNode(&watch_.node);
  }
  ~Session() {
    shard_.RemoveShutdownNode(&watch_.node);
    if (counted_in_ != nullptr) counted_in_->Remove(peer_);
  }

  io::Task<void> Run();

 private:
  // Admits the client under the per-address limit; false (after a 421 in
  // clear, or silently under implicit TLS) when it is over it.
  io::Task<bool> Admit();
  // The timeout of the stage the protocol is in (RFC 5321 §4.5.3.2).
  int64_t InputTimeoutMs() const {
    return protocol_->input_stage() == smtp::InputStage::kBody ? config_.data_timeout_ms
                                                                : config_.command_timeout_ms;
  }
  // Sends pending replies (through TLS once it is on); false when the
  // connection is no longer usable.
  io::Task<bool> Flush(bool final_word);
  io::Task<bool> SendRaw(std::string_view bytes, bool final_word);
  // Carries out the protocol's pending action; false to end the session.
  io::Task<bool> Act();
  // The server side of a TLS handshake over the socket, bounded as a whole
  // by tls_handshake_timeout_ms; false on failure, timeout or shutdown.
  io::Task<bool> Handshake();
  smtp::TlsInfo NegotiatedTls() const {
    return smtp::TlsInfo{std::string(tls_->version()), std::string(tls_->cipher())};
  }
  // Input for the protocol: decrypted bytes under TLS, else the rest of
  // the last chunk received.
  std::string_view Readable() const { return tls_ ? tls_->plaintext() : unread_; }
  void Consume(size_t bytes) {
    if (tls_) tls_->ConsumePlaintext(bytes);
    else unread_.remove_prefix(bytes);
  }
  // Makes more input readable: decrypts ciphertext left over, or receives.
  // Returns the Receive result (> 0 when there is something new to read).
  io::Task<int32_t> Fill();

  io::Shard& shard_;
  const InboundConfig& config_;
  std::string peer_;
  ShutdownWatch watch_;
  io::Socket socket_;
  std::unique_ptr<SessionSink> sink_;
  // Made in Run(): under implicit TLS it starts with the handshake's result.
  std::optional<smtp::ServerProtocol> protocol_;
  ClientCounter* counted_in_ = nullptr;  // where this connection is counted
  std::unique_ptr<tls::TlsSession> tls_;
  // Bytes of the last received chunk not yet used: plaintext before TLS,
  // ciphertext not yet fed to TLS after. Valid until the next Receive.
  std::string_view unread_;
  std::string ciphertext_;  // TLS output waiting to be sent
};

io::Task<bool> Session::SendRaw(std::string_view bytes, bool final_word) {
  if (bytes.empty()) co_return true;
  // Not a conditional expression with a co_await in each branch: GCC 12
  // miscompiles that (the session never resumed after the send).
  int32_t result;
  if (final_word) {
    result = co_await socket_.SendFinal(bytes, config_.farewell_timeout_ms);
  } else {
    result = co_await socket_.SendAll(bytes, config_.send_timeout_ms);
  }
  co_return result >= 0;
}

io::Task<bool> Session::Flush(bool final_word) {
  std::string& output = protocol_->output();
  bool ok = true;
  if (!tls_) {
    ok = co_await SendRaw(output, final_word);
  } else {
    std::string_view rest = output;
    while (ok && (!rest.empty() || !tls_->output().empty())) {
      if (!rest.empty()) {
        absl::StatusOr<size_t> taken = tls_->Write(rest);
        if (taken.ok()) {
          rest.remove_prefix(*taken);
        } else {
          ok = false;
        }
      }
      ciphertext_.clear();
      tls_->TakeOutput(&ciphertext_);
      if (ok) ok = co_await SendRaw(ciphertext_, final_word);
    }
  }
  output.clear();
  co_return ok;
}

io::Task<int32_t> Session::Fill() {
  for (;;) {
    if (!tls_) {
      if (!unread_.empty()) co_return static_cast<int32_t>(unread_.size());
    } else {
      if (!tls_->plaintext().empty()) co_return static_cast<int32_t>(tls_->plaintext().size());
      if (!unread_.empty()) {
        absl::StatusOr<size_t> fed = tls_->Feed(unread_);
        if (!fed.ok()) {
          Log(LogLevel::kInfo, "client %s: TLS failed: %s", peer_, std::string(fed.status().message()));
          co_return -EPROTO;
        }
        unread_.remove_prefix(*fed);
        // Alerts or session tickets the TLS layer wants to send.
        ciphertext_.clear();
        tls_->TakeOutput(&ciphertext_);
        if (!co_await SendRaw(ciphertext_, false)) co_return -EPIPE;
        if (tls_->peer_closed()) co_return 0;
        continue;
      }
    }
    int32_t received = co_await socket_.Receive(InputTimeoutMs());
    if (received <= 0) co_return received;
    unread_ = socket_.chunk();
  }
}

io::Task<bool> Session::Handshake() {
  absl::StatusOr<std::unique_ptr<tls::TlsSession>> session =
      tls::TlsSession::NewServer(config_.tls_context);
  if (!session.ok()) {
    Log(LogLevel::kWarning, "client %s: cannot start TLS: %s", peer_,
        std::string(session.status().message()));
    co_return false;
  }
  tls_ = std::move(*session);
  const int64_t deadline_ms = MonotonicNowMs() + config_.tls_handshake_timeout_ms;
  while (!tls_->handshake_done()) {
    if (unread_.empty()) {
      const int64_t left_ms = deadline_ms - MonotonicNowMs();
      int32_t received = -ETIMEDOUT;
      if (left_ms > 0) received = co_await socket_.Receive(left_ms);
      if (received == -ETIMEDOUT) {
        Log(LogLevel::kInfo, "client %s: TLS handshake timed out", peer_);
      }
      if (received <= 0) co_return false;
      unread_ = socket_.chunk();
    }
    absl::StatusOr<size_t> fed = tls_->Feed(unread_);
    ciphertext_.clear();
    tls_->TakeOutput(&ciphertext_);
    if (!co_await SendRaw(ciphertext_, !fed.ok())) co_return false;
    if (!fed.ok()) {
      Log(LogLevel::kInfo, "client %s: TLS handshake failed: %s", peer_,
          std::string(fed.status().message()));
      co_return false;
    }
    unread_.remove_prefix(*fed);
  }
  Log(LogLevel::kDebug, "client %s: TLS %s %s", peer_, std::string(tls_->version()),
      std::string(tls_->cipher()));
  co_return true;
}

io::Task<bool> Session::Act() {
  // An if-chain, not a switch: GCC 12 miscompiles co_await inside switch
  // cases (the coroutine never resumed when the kStartTls case held one).
  smtp::Action action = protocol_->TakeAction();
  if (action == smtp::Action::kNone) co_return true;
  if (action == smtp::Action::kCommit) {
    int64_t data_ended_ns = MonotonicNowNs();
    absl::Status committed = co_await sink_->Commit();
    if (committed.ok()) {
      CurrentShardStats().Observe(Latency::kAcceptToAck, MonotonicNowNs() - data_ended_ns);
    }
    protocol_->OnCommitted(committed);
    co_return true;
  }
  if (action == smtp::Action::kStartTls) {
    if (config_.tls_context == nullptr || tls_) co_return false;  // never advertised
    bool sent = co_await Flush(false);  // the 220, in clear
    if (!sent) co_return false;
    // RFC 3207 §4.2 and the SMTP injection defence: nothing the client sent
    // before the handshake may be read as a command after it.
    unread_ = {};
    bool established = co_await Handshake();
    if (!established) co_return false;
    protocol_->OnTlsEstablished(NegotiatedTls());
    co_return true;
  }
  co_return false;  // kClose
}

io::Task<bool> Session::Admit() {
  ClientCounter* counter = config_.client_counters.empty()
                               ? nullptr
                               : config_.client_counters[shard_.index()].get();
  bool exempt = config_.exempt_networks != nullptr && config_.exempt_networks->InRelayNetworks(peer_);
  if (counter == nullptr || exempt) co_return true;
  if (counter->TryAdd(peer_)) {
    counted_in_ = counter;
    co_return true;
  }
  CurrentShardStats().Count(Counter::kConnectionsInRefused);
  if (config_.implicit_tls) {
    // Nothing may be said in clear here (RFC 8314 §3.3), and a handshake
    // would spend our CPU on the very client we are turning away.
    Log(LogLevel::kInfo, "client %s: too many connections, closed before TLS", peer_);
    co_return false;
  }
  // RFC 5321 §3.1: a server may refuse service with 421 at the greeting.
  std::string refusal = "421 4.7.0 " + config_.protocol.hostname +
                        " Too many connections from your address\r\n";
  co_await socket_.SendFinal(refusal, config_.farewell_timeout_ms);
  co_return false;
}

io::Task<void> Session::Run() {
  bool admitted = co_await Admit();
  smtp::PeerInfo peer(peer_);
  if (admitted && config_.implicit_tls) {
    // RFC 8314 §3.3: the TLS handshake first, then the greeting inside it.
    // If-chain, not &&: GCC 12 miscompiles co_await in conditional operands.
    admitted = false;
    if (config_.tls_context != nullptr) admitted = co_await Handshake();
    if (admitted) peer = smtp::PeerInfo{peer_, true, NegotiatedTls()};
  }
  if (!admitted) {
    co_await socket_.Close();
    co_return;
  }
  protocol_.emplace(ProtocolConfig(config_), sink_.get(), std::move(peer), config_.policy,
                    config_.authenticator);
  smtp::ServerProtocol& protocol = *protocol_;
  watch_.protocol = &protocol;
  protocol.Start();
  for (;;) {
    if (!co_await Flush(false)) break;
    if (!co_await Act()) {
      co_await Flush(false);
      break;
    }
    if (protocol.closed()) break;
    // An action may have queued replies (250 after a commit): send them
    // before reading on, or a client waiting for them never sends more.
    if (!protocol.output().empty()) continue;
    if (!Readable().empty()) {
      // Feed may stop early (a commit to make, output to send); the rest
      // stays readable (in the chunk, or in the TLS plaintext buffer).
      Consume(protocol.Feed(Readable()));
      if (sink_->NeedsPacing()) co_await sink_->Pace();
      continue;
    }
    // Draining: the transaction that was under way has ended; say 421.
    if (watch_.requested && !protocol.in_transaction()) {
      protocol.OnShutdown();
      co_await Flush(true);
      break;
    }
    int32_t received = co_await Fill();
    if (received > 0) continue;
    if (received == -ETIMEDOUT) {
      Log(LogLevel::kInfo, "client %s: timeout waiting for %s", peer_,
          protocol.input_stage() == smtp::InputStage::kBody ? "message data" : "a command");
      protocol.OnTimeout();
    } else if (received == -ECANCELED && watch_.requested) {
      protocol.OnShutdown();
    } else {
      break;  // End of stream or a socket or TLS error: nothing left to say.
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
  CurrentShardStats().Add(Gauge::kConnectionsInOpen, 1);
  co_await session.Run();
  CurrentShardStats().Add(Gauge::kConnectionsInOpen, -1);
}

}  // namespace ringmta::server
