// TlsSession: BoringSSL driven through a custom BIO whose reads come from the
// Feed in progress and whose writes go to the output queue. No fd, no clock.
#include "tls/session.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <algorithm>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "mta/base/check.h"
#include "mta/base/status.h"
#include "tls/ssl_error.h"
#include "tls/tls_limits.h"

namespace ringmta::tls {

const BIO_METHOD* TlsSession::BioMethod() {
  // Built once, never freed: BIO_METHODs are process-wide and immutable.
  static const BIO_METHOD* const method = [] {
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "ringmta-tls");
    CHECK(m != nullptr);
    CHECK(BIO_meth_set_read(m, &TlsSession::BioRead));
    CHECK(BIO_meth_set_write(m, &TlsSession::BioWrite));
    CHECK(BIO_meth_set_ctrl(m, &TlsSession::BioControl));
    return m;
  }();
  return method;
}

int TlsSession::BioRead(BIO* bio, char* out, int length) {
  auto* session = static_cast<TlsSession*>(BIO_get_data(bio));
  BIO_clear_retry_flags(bio);
  if (session->input_.empty()) {
    BIO_set_retry_read(bio);  // "would block": the caller feeds more later
    return -1;
  }
  size_t n = std::min(session->input_.size(), static_cast<size_t>(std::max(length, 0)));
  std::memcpy(out, session->input_.data(), n);
  session->input_.remove_prefix(n);
  return static_cast<int>(n);
}

int TlsSession::BioWrite(BIO* bio, const char* in, int length) {
  auto* session = static_cast<TlsSession*>(BIO_get_data(bio));
  BIO_clear_retry_flags(bio);
  // Write() and ReadRecords() keep the queue under kCiphertextOutBytesMax
  // before each step; only what BoringSSL writes by itself can pass it, and a
  // peer that makes it pass the slack too is making us write without reading.
  if (session->output_.size() + length >
      limits::kCiphertextOutBytesMax + limits::kCiphertextOutSlackBytes) {
    return -1;  // no retry flag: a hard error (SSL_ERROR_SYSCALL)
  }
  session->output_.Append(in, length);
  return length;
}

long TlsSession::BioControl(BIO* bio, int command, long argument, void* pointer) {
  // BoringSSL flushes after each flight; our "flush" is the caller's send.
  return command == BIO_CTRL_FLUSH ? 1 : 0;
}

TlsSession::TlsSession(SslPtr ssl, std::shared_ptr<const void> context,
                       bool is_client)
    : ssl_(std::move(ssl)), context_(std::move(context)), is_client_(is_client) {}

TlsSession::~TlsSession() {
  ssl_.reset();  // before the context it may call back into
}

absl::StatusOr<std::unique_ptr<TlsSession>> TlsSession::Wrap(
    SslPtr ssl, std::shared_ptr<const void> context, bool is_client) {
  std::unique_ptr<TlsSession> session(
      new TlsSession(std::move(ssl), std::move(context), is_client));
  BIO* bio = BIO_new(BioMethod());
  if (bio == nullptr) return SslErrorStatus(absl::StatusCode::kInternal, "tls: BIO_new");
  BIO_set_data(bio, session.get());
  BIO_set_init(bio, 1);
  SSL_set_bio(session->ssl_.get(), bio, bio);  // one reference for both ends
  return session;
}

absl::StatusOr<std::unique_ptr<TlsSession>> TlsSession::NewServer(
    std::shared_ptr<const ServerContext> context) {
  CHECK(context != nullptr);
  ERR_clear_error();
  SslPtr ssl(SSL_new(context->ssl_ctx()));
  if (ssl == nullptr) return SslErrorStatus(absl::StatusCode::kInternal, "tls: SSL_new");
  SSL_set_accept_state(ssl.get());
  return Wrap(std::move(ssl), std::move(context), /*is_client=*/false);
}

absl::StatusOr<std::unique_ptr<TlsSession>> TlsSession::NewClient(
    std::shared_ptr<ClientContext> context, std::string_view host) {
  CHECK(context != nullptr);
  ASSIGN_OR_RETURN(SslPtr ssl, context->NewSsl(host));
  return Wrap(std::move(ssl), std::move(context), /*is_client=*/true);
}

absl::StatusOr<bool> TlsSession::Handshake() {
  if (state_ == State::kFailed) return failure_;
  if (handshake_done_ || state_ != State::kHandshaking) return handshake_done_;
  ERR_clear_error();
  int rc = SSL_do_handshake(ssl_.get());
  if (rc == 1) {
    handshake_done_ = true;
    state_ = State::kOpen;
    // A TLS 1.3 server holds its NewSessionTickets (RFC 8446 §4.6.1) until
    // its first write, lest a client that never reads stall a small socket
    // buffer. Our output queue cannot stall, and an SMTP client may send
    // QUIT before we write again, so flush them now with an empty write.
    if (!is_client_ && SSL_write(ssl_.get(), "", 0) < 0) {
      return Fail("handshake", SSL_get_error(ssl_.get(), -1));
    }
    return true;
  }
  int error = SSL_get_error(ssl_.get(), rc);
  if (error == SSL_ERROR_WANT_READ) return false;
  return Fail("handshake", error);
}

absl::StatusOr<size_t> TlsSession::Feed(std::string_view ciphertext) {
  if (state_ == State::kFailed) return failure_;
  // RFC 8446 §6.1: data after close_notify is ignored.
  if (peer_closed_) return ciphertext.size();
  CHECK(input_.empty());
  input_ = ciphertext;
  absl::Status status;
  if (state_ == State::kHandshaking) status = Handshake().status();
  if (status.ok() && handshake_done_) status = ReadRecords();
  size_t consumed = ciphertext.size() - input_.size();
  input_ = {};
  if (!status.ok()) return status;
  return consumed;
}

absl::Status TlsSession::ReadRecords() {
  while (!peer_closed_) {
    if (plaintext_.size() >= limits::kPlaintextInBytesMax ||
        output_.size() >= limits::kCiphertextOutBytesMax) {
      break;  // backpressure: the caller drains, then feeds the rest
    }
    size_t room = std::min(limits::kPlaintextInBytesMax - plaintext_.size(),
                           limits::kRecordPlaintextBytesMax);
    char* destination = plaintext_.Extend(room);
    ERR_clear_error();
    int rc = SSL_read(ssl_.get(), destination, static_cast<int>(room));
    plaintext_.Shrink(room - static_cast<size_t>(std::max(rc, 0)));
    if (rc > 0) continue;
    int error = SSL_get_error(ssl_.get(), rc);
    if (error == SSL_ERROR_WANT_READ) break;
    if (error == SSL_ERROR_ZERO_RETURN) {  // the peer's close_notify
      peer_closed_ = true;
      state_ = State::kClosed;
      break;
    }
    return Fail("read", error);
  }
  return absl::OkStatus();
}

absl::StatusOr<size_t> TlsSession::Write(std::string_view plaintext) {
  if (state_ == State::kFailed) return failure_;
  if (!handshake_done_) return absl::FailedPreconditionError("tls: write before handshake");
  if (shutdown_sent_) return absl::FailedPreconditionError("tls: write after shutdown");
  size_t accepted = 0;
  while (accepted < plaintext.size()) {
    size_t chunk = std::min(plaintext.size() - accepted, limits::kRecordPlaintextBytesMax);
    // One SSL_write of at most one record's plaintext makes one record, so
    // this check keeps the queue under its bound and BioWrite never refuses.
    if (output_.size() + chunk + limits::kRecordOverheadBytesMax >
        limits::kCiphertextOutBytesMax) {
      break;
    }
    ERR_clear_error();
    int rc = SSL_write(ssl_.get(), plaintext.data() + accepted, static_cast<int>(chunk));
    if (rc <= 0) return Fail("write", SSL_get_error(ssl_.get(), rc));
    CHECK(static_cast<size_t>(rc) == chunk);
    accepted += chunk;
  }
  return accepted;
}

void TlsSession::Shutdown() {
  if (state_ == State::kFailed || shutdown_sent_) return;
  shutdown_sent_ = true;
  if (handshake_done_) {
    ERR_clear_error();
    SSL_shutdown(ssl_.get());  // 0 = sent, peer's not yet seen: both fine here
    ERR_clear_error();
  }
  state_ = State::kClosed;
}

absl::Status TlsSession::Fail(std::string_view during, int ssl_error) {
  std::string reason;
  if (ssl_error == SSL_ERROR_SSL &&
      ERR_GET_REASON(ERR_peek_error()) == SSL_R_CERTIFICATE_VERIFY_FAILED) {
    ERR_clear_error();
    reason = absl::StrCat("certificate verification failed: ",
                          X509_verify_cert_error_string(SSL_get_verify_result(ssl_.get())));
  } else if (ssl_error == SSL_ERROR_SSL) {
    reason = DrainSslErrors();
  } else if (ssl_error == SSL_ERROR_SYSCALL) {
    reason = "peer made us queue too much output without reading it";
  } else {
    reason = absl::StrCat("unexpected SSL_get_error ", ssl_error);
  }
  state_ = State::kFailed;
  failure_ = absl::UnavailableError(absl::StrCat("tls ", std::string(during), " failed: ", reason));
  return failure_;
}

std::string_view TlsSession::version() const {
  return handshake_done_ ? SSL_get_version(ssl_.get()) : "";
}

std::string_view TlsSession::cipher() const {
  const SSL_CIPHER* cipher = handshake_done_ ? SSL_get_current_cipher(ssl_.get()) : nullptr;
  return cipher != nullptr ? SSL_CIPHER_get_name(cipher) : "";
}

std::string_view TlsSession::group() const {
  if (!handshake_done_) return "";
  const char* name = SSL_get_curve_name(SSL_get_curve_id(ssl_.get()));
  return name != nullptr ? name : "";
}

bool TlsSession::session_reused() const {
  return handshake_done_ && SSL_session_reused(ssl_.get());
}

bool TlsSession::peer_verified() const {
  return is_client_ && handshake_done_ && SSL_get0_peer_certificates(ssl_.get()) != nullptr &&
         SSL_get_verify_result(ssl_.get()) == X509_V_OK;
}

std::string_view TlsSession::verify_result_text() const {
  return X509_verify_cert_error_string(SSL_get_verify_result(ssl_.get()));
}

}  // namespace ringmta::tls
