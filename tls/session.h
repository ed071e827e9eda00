// One TLS connection as a pure buffer transform (DESIGN §6): ciphertext in,
// plaintext out, and the reverse. It never blocks, never touches a file
// descriptor and never reads a clock; moving the bytes is the caller's job.
#ifndef RINGMTA_TLS_SESSION_H_
#define RINGMTA_TLS_SESSION_H_

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tls/byte_queue.h"
#include "tls/context.h"
#include "tls/ssl_types.h"

namespace ringmta::tls {

// Usage, per connection:
//   client: Handshake() once to queue the ClientHello; server: just Feed.
//   loop:   send output() and ConsumeOutput(sent) (or TakeOutput);
//           Feed(received) and keep unconsumed bytes for the next Feed;
//           read plaintext() and ConsumePlaintext(n);
//           Write(bytes) once state() is kOpen.
//   end:    Shutdown() queues close_notify; send output() before closing.
// On failure the output may hold a fatal alert: send it, then close.
class TlsSession {
 public:
  enum class State {
    kHandshaking,  // not yet able to carry data
    kOpen,         // data flows both ways
    kClosed,       // close_notify sent or received (see peer_closed())
    kFailed,       // see failure(); nothing more will be accepted
  };

  static absl::StatusOr<std::unique_ptr<TlsSession>> NewServer(
      std::shared_ptr<const ServerContext> context);
  // `host` is the MX host or smart host as routed: the SNI, the name the
  // certificate is checked against, and the session cache key.
  static absl::StatusOr<std::unique_ptr<TlsSession>> NewClient(
      std::shared_ptr<ClientContext> context, std::string_view host);
  ~TlsSession();
  TlsSession(const TlsSession&) = delete;
  TlsSession& operator=(const TlsSession&) = delete;

  // Advances the handshake with the input fed so far; true once it is done.
  // Feed calls this itself; a client calls it first to queue its ClientHello.
  absl::StatusOr<bool> Handshake();

  // Takes ciphertext from the peer and decrypts what it can. Returns the bytes
  // consumed: all of them unless plaintext() or output() reached its bound,
  // in which case drain those and feed the rest again. An error means the
  // session failed (state() == kFailed); feeding again returns it again.
  absl::StatusOr<size_t> Feed(std::string_view ciphertext);

  // Encrypts application data; returns the bytes accepted, fewer than given
  // when output() is full (send it, then write the rest).
  absl::StatusOr<size_t> Write(std::string_view plaintext);

  // Queues close_notify (RFC 8446 §6.1, RFC 5246 §7.2.1). Idempotent; before
  // the handshake completes it only marks the session closed.
  void Shutdown();

  // Decrypted bytes not yet consumed (at most limits::kPlaintextInBytesMax).
  // Views stay valid until the next non-const call.
  std::string_view plaintext() const { return plaintext_.view(); }
  void ConsumePlaintext(size_t bytes) { plaintext_.Consume(bytes); }

  // Ciphertext waiting to be sent to the peer.
  std::string_view output() const { return output_.view(); }
  void ConsumeOutput(size_t bytes) { output_.Consume(bytes); }
  // Moves all pending output to the end of *out (a buffer that must stay put
  // while an asynchronous send is in flight).
  void TakeOutput(std::string* out) { output_.MoveTo(out); }

  State state() const { return state_; }
  bool handshake_done() const { return handshake_done_; }
  bool is_client() const { return is_client_; }
  bool peer_closed() const { return peer_closed_; }
  const absl::Status& failure() const { return failure_; }

  // Negotiated parameters, for Received: headers and the delivery log. Empty
  // before the handshake completes.
  std::string_view version() const;  // "TLSv1.3"
  std::string_view cipher() const;   // "TLS_AES_128_GCM_SHA256"
  std::string_view group() const;    // "X25519"
  bool session_reused() const;
  // Client side: the chain reached a trusted CA and matched the host name.
  bool peer_verified() const;
  // Why not, in OpenSSL's words ("ok" when it did).
  std::string_view verify_result_text() const;

 private:
  TlsSession(SslPtr ssl, std::shared_ptr<const void> context, bool is_client);
  static absl::StatusOr<std::unique_ptr<TlsSession>> Wrap(
      SslPtr ssl, std::shared_ptr<const void> context, bool is_client);
  absl::Status ReadRecords();
  absl::Status Fail(std::string_view during, int ssl_error);

  static int BioRead(BIO* bio, char* out, int length);
  static int BioWrite(BIO* bio, const char* in, int length);
  static long BioControl(BIO* bio, int command, long argument, void* pointer);
  static const BIO_METHOD* BioMethod();

  SslPtr ssl_;
  std::shared_ptr<const void> context_;  // keeps the SSL_CTX's owner alive
  bool is_client_;
  State state_ = State::kHandshaking;
  bool handshake_done_ = false;
  bool peer_closed_ = false;
  bool shutdown_sent_ = false;
  absl::Status failure_;
  std::string_view input_;  // the ciphertext of the Feed in progress
  ByteQueue plaintext_;
  ByteQueue output_;
};

}  // namespace ringmta::tls

#endif  // RINGMTA_TLS_SESSION_H_
