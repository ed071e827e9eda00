// OutboundConnection: the byte pump. Cleartext goes straight between the
// socket and the client; under TLS every byte passes through the session's
// buffers, and nothing received before the handshake is ever decrypted.
#include "mta/relay/outbound_connection.h"

#include <cerrno>
#include <cstring>
#include <utility>

#include "mta/base/log.h"
#include "mta/relay/relay_shard.h"

namespace ringmta::relay {

OutboundConnection::OutboundConnection(RelayShard& relay, int fd, std::string host,
                                       const NextHop& hop, const HopPlan& plan)
    : relay_(relay),
      host_(std::move(host)),
      tls_name_(hop.host),
      context_(plan.context),
      socket_(relay.reactor(), relay.shard().buffers(), fd, &relay.sessions_scope()),
      client_(plan.client) {
  // Before connect, so the handshake's first commands already go out at once.
  if (!io::DisableNagle(fd)) {
    Log(LogLevel::kDebug, "relay %s: TCP_NODELAY: %s", host_, std::strerror(errno));
  }
}

io::Task<smtp::ClientAction> OutboundConnection::Next() {
  for (;;) {
    if (!co_await Flush()) continue;  // the failure queued kClose
    smtp::ClientAction action = client_.TakeAction();
    if (action == smtp::ClientAction::kStartTls) {
      bool established = co_await StartTls();
      if (established) {
        client_.OnTlsEstablished();
      } else {
        client_.OnTransportFailure(smtp::TransportFailure::kTlsFailed);
      }
      continue;
    }
    if (action != smtp::ClientAction::kNone) co_return action;
    if (client_.phase() == smtp::ClientProtocol::Phase::kClosed)
      co_return smtp::ClientAction::kClose;
    int64_t timeout_ms = client_.phase() == smtp::ClientProtocol::Phase::kAwaitingFinalReply
                             ? relay_.config().final_reply_timeout_ms
                             : relay_.config().reply_timeout_ms;
    int32_t received = co_await Fill(timeout_ms);
    if (received <= 0) {
      client_.OnTransportFailure(received == -ETIMEDOUT ? smtp::TransportFailure::kTimeout
                                                        : smtp::TransportFailure::kConnectionLost);
    }
  }
}

io::Task<bool> OutboundConnection::Flush() {
  std::string& output = client_.output();
  if (output.empty()) co_return true;
  bool sent = true;
  if (tls_ == nullptr) {
    sent = co_await SendRaw(output);
  } else {
    std::string_view rest = output;
    while (sent && (!rest.empty() || !tls_->output().empty())) {
      if (!rest.empty()) {
        absl::StatusOr<size_t> taken = tls_->Write(rest);
        if (taken.ok()) {
          rest.remove_prefix(*taken);
        } else {
          sent = false;
        }
      }
      if (sent) sent = co_await SendTlsOutput();
    }
  }
  output.clear();
  if (!sent) client_.OnTransportFailure(smtp::TransportFailure::kSendFailed);
  co_return sent;
}

io::Task<void> OutboundConnection::Close() {
  if (!client_.output().empty()) co_await Flush();
  if (tls_ != nullptr && tls_->state() == tls::TlsSession::State::kOpen) {
    tls_->Shutdown();  // close_notify (RFC 8446 §6.1), best effort
    co_await SendTlsOutput();
  }
  co_await socket_.Close();
}

io::Task<bool> OutboundConnection::SendRaw(std::string_view bytes) {
  if (bytes.empty()) co_return true;
  int32_t sent = co_await socket_.SendAll(bytes, relay_.config().reply_timeout_ms);
  co_return sent >= 0;
}

io::Task<bool> OutboundConnection::SendTlsOutput() {
  ciphertext_.clear();
  tls_->TakeOutput(&ciphertext_);
  bool sent = co_await SendRaw(ciphertext_);
  co_return sent;
}

io::Task<int32_t> OutboundConnection::Fill(int64_t timeout_ms) {
  if (tls_ == nullptr) {
    int32_t received = co_await socket_.Receive(timeout_ms);
    if (received > 0) client_.Feed(socket_.chunk());
    co_return received;
  }
  for (;;) {
    if (!tls_->plaintext().empty()) {
      size_t bytes = tls_->plaintext().size();
      client_.Feed(tls_->plaintext());
      tls_->ConsumePlaintext(bytes);
      co_return static_cast<int32_t>(bytes);
    }
    if (tls_->peer_closed()) co_return 0;
    if (!unread_.empty()) {
      absl::StatusOr<size_t> fed = tls_->Feed(unread_);
      if (!fed.ok()) {
        Log(LogLevel::kInfo, "relay %s: %s", host_, std::string(fed.status().message()));
        co_return -EPROTO;
      }
      unread_.remove_prefix(*fed);
      // Alerts or KeyUpdate answers the TLS layer wants sent.
      if (!tls_->output().empty()) {
        bool sent = co_await SendTlsOutput();
        if (!sent) co_return -EPIPE;
      }
      continue;
    }
    int32_t received = co_await socket_.Receive(timeout_ms);
    if (received <= 0) co_return received;
    unread_ = socket_.chunk();
  }
}

// The handshake after the server's 220 to STARTTLS (RFC 3207 §4). The
// client already dropped whatever arrived with the 220, and nothing read
// before now is kept (unread_ is empty in cleartext): a man in the middle
// cannot inject replies that would be read as coming over TLS.
io::Task<bool> OutboundConnection::StartTls() {
  unread_ = {};
  if (context_ == nullptr) {
    tls_failure_ = "no TLS context";  // not reached: STARTTLS is only wanted with one
    co_return false;
  }
  absl::StatusOr<std::unique_ptr<tls::TlsSession>> session =
      tls::TlsSession::NewClient(context_, tls_name_);
  if (!session.ok()) {
    tls_failure_ = std::string(session.status().message());
    co_return false;
  }
  tls_ = *std::move(session);
  absl::StatusOr<bool> started = tls_->Handshake();  // queues the ClientHello
  while (started.ok() && !tls_->handshake_done()) {
    if (!co_await SendTlsOutput()) {
      tls_failure_ = "connection lost during the TLS handshake";
      co_return false;
    }
    if (unread_.empty()) {
      int32_t received = co_await socket_.Receive(relay_.config().reply_timeout_ms);
      if (received <= 0) {
        tls_failure_ = received == -ETIMEDOUT ? "timeout during the TLS handshake"
                                              : "connection lost during the TLS handshake";
        co_return false;
      }
      unread_ = socket_.chunk();
    }
    absl::StatusOr<size_t> fed = tls_->Feed(unread_);
    if (!fed.ok()) {
      started = fed.status();
      break;
    }
    unread_.remove_prefix(*fed);
  }
  if (!started.ok()) {
    co_await SendTlsOutput();  // the fatal alert, if any
    tls_failure_ = std::string(started.status().message());
    context_->session_cache().Erase(tls_name_);  // a stale session may be why
    co_return false;
  }
  tls_description_ = std::string(tls_->version()) + " " + std::string(tls_->cipher());
  Log(LogLevel::kDebug, "relay %s: TLS %s%s%s", host_, tls_description_,
      tls_->session_reused() ? " (resumed)" : "", tls_->peer_verified() ? " (verified)" : "");
  co_return true;
}

}  // namespace ringmta::relay
