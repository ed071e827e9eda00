#include "tools/loadgen/client_transport.h"

#include <cerrno>
#include <utility>

namespace ringmta::loadgen {

io::Task<bool> ClientTransport::SendTlsOutput() {
  ciphertext_.clear();
  tls_->TakeOutput(&ciphertext_);
  if (ciphertext_.empty()) co_return true;
  co_return co_await socket_.SendAll(ciphertext_, timeout_ms_) >= 0;
}

io::Task<bool> ClientTransport::SendAll(std::string_view bytes) {
  if (tls_ == nullptr) co_return co_await socket_.SendAll(bytes, timeout_ms_) >= 0;
  // Write accepts what fits in the session's output; send that, repeat.
  while (!bytes.empty()) {
    absl::StatusOr<size_t> taken = tls_->Write(bytes);
    if (!taken.ok()) {
      error_ = std::string(taken.status().message());
      co_return false;
    }
    bytes.remove_prefix(*taken);
    if (!co_await SendTlsOutput()) co_return false;
  }
  co_return true;
}

io::Task<int32_t> ClientTransport::Receive() {
  if (tls_ == nullptr) {
    const int32_t received = co_await socket_.Receive(timeout_ms_);
    chunk_ = received > 0 ? socket_.chunk() : std::string_view();
    co_return received;
  }
  chunk_ = {};
  for (;;) {
    if (!tls_->plaintext().empty()) {
      // Copied out: the session's view dies with its next Feed.
      plaintext_.assign(tls_->plaintext());
      tls_->ConsumePlaintext(plaintext_.size());
      chunk_ = plaintext_;
      co_return static_cast<int32_t>(plaintext_.size());
    }
    if (tls_->peer_closed()) co_return 0;
    if (!unread_.empty()) {
      absl::StatusOr<size_t> fed = tls_->Feed(unread_);
      if (!fed.ok()) {
        error_ = std::string(fed.status().message());
        co_return -EPROTO;
      }
      unread_.remove_prefix(*fed);
      // Alerts or KeyUpdate answers the session wants sent.
      if (!tls_->output().empty()) {
        const bool sent = co_await SendTlsOutput();
        if (!sent) co_return -EPIPE;
      }
      continue;
    }
    const int32_t received = co_await socket_.Receive(timeout_ms_);
    if (received <= 0) co_return received;
    unread_ = socket_.chunk();
  }
}

io::Task<bool> ClientTransport::StartTls(std::shared_ptr<tls::ClientContext> context,
                                         std::string_view host, bool resume) {
  unread_ = {};
  if (!resume) context->session_cache().Erase(host);
  absl::StatusOr<std::unique_ptr<tls::TlsSession>> session =
      tls::TlsSession::NewClient(std::move(context), host);
  if (!session.ok()) {
    error_ = std::string(session.status().message());
    co_return false;
  }
  tls_ = *std::move(session);
  absl::StatusOr<bool> done = tls_->Handshake();  // queues the ClientHello
  while (done.ok() && !tls_->handshake_done()) {
    if (!co_await SendTlsOutput()) {
      error_ = "connection lost during the TLS handshake";
      co_return false;
    }
    if (unread_.empty()) {
      const int32_t received = co_await socket_.Receive(timeout_ms_);
      if (received <= 0) {
        error_ = received == -ETIMEDOUT ? "timeout during the TLS handshake"
                                        : "connection lost during the TLS handshake";
        co_return false;
      }
      unread_ = socket_.chunk();
    }
    absl::StatusOr<size_t> fed = tls_->Feed(unread_);
    if (!fed.ok()) {
      done = fed.status();
      break;
    }
    unread_.remove_prefix(*fed);
  }
  if (!done.ok()) {
    co_await SendTlsOutput();  // the fatal alert, if any
    error_ = std::string(done.status().message());
    co_return false;
  }
  // TLS 1.3: the client's Finished may still be queued.
  co_return co_await SendTlsOutput();
}

io::Task<void> ClientTransport::ShutdownTls() {
  if (tls_ != nullptr && tls_->state() == tls::TlsSession::State::kOpen) {
    tls_->Shutdown();
    co_await SendTlsOutput();
  }
}

}  // namespace ringmta::loadgen
