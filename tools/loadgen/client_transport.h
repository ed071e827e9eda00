// ClientTransport: one load-generator connection's byte pipe. Cleartext goes
// straight to and from the socket; after StartTls every byte passes through
// a TlsSession (tls/session.h), so the SMTP code above never knows which.
// Benchmarks do not check certificates (the policy is "encrypt").
// Not here: SMTP (load_worker.cc).
#ifndef RINGMTA_TOOLS_LOADGEN_CLIENT_TRANSPORT_H_
#define RINGMTA_TOOLS_LOADGEN_CLIENT_TRANSPORT_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "mta/io/socket.h"
#include "mta/io/task.h"
#include "tls/context.h"
#include "tls/session.h"

namespace ringmta::loadgen {

class ClientTransport {
 public:
  ClientTransport(io::Socket& socket, int64_t timeout_ms) : socket_(socket), timeout_ms_(timeout_ms) {}

  // Sends all of `bytes` (encrypted once TLS is on); false if the
  // connection broke or the TLS session failed.
  io::Task<bool> SendAll(std::string_view bytes);
  // Waits for the next bytes: > 0 bytes now in chunk(), 0 end of stream,
  // or -errno. Under TLS, chunk() is decrypted plaintext.
  io::Task<int32_t> Receive();
  // Valid until the next Receive.
  std::string_view chunk() const { return chunk_; }

  // The handshake after the 220 to STARTTLS (RFC 3207 §4). Anything read
  // before it is dropped. `resume`: offer a cached session for `host`
  // (otherwise every handshake is a full one). False on failure; error()
  // says why.
  io::Task<bool> StartTls(std::shared_ptr<tls::ClientContext> context, std::string_view host,
                          bool resume);
  // close_notify if TLS is open (best effort); the caller closes the socket.
  io::Task<void> ShutdownTls();

  bool tls_on() const { return tls_ != nullptr; }
  bool session_reused() const { return tls_ != nullptr && tls_->session_reused(); }
  const std::string& error() const { return error_; }

 private:
  io::Task<bool> SendTlsOutput();

  io::Socket& socket_;
  int64_t timeout_ms_;
  std::unique_ptr<tls::TlsSession> tls_;
  std::string_view chunk_;
  std::string_view unread_;  // ciphertext from the socket not yet fed
  std::string plaintext_;    // what chunk_ points into under TLS
  std::string ciphertext_;   // stays put while a send is in flight
  std::string error_;
};

}  // namespace ringmta::loadgen

#endif  // RINGMTA_TOOLS_LOADGEN_CLIENT_TRANSPORT_H_
