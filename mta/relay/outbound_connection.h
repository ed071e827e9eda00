// OutboundConnection: one connected SMTP conversation to a next hop: the
// socket, the TLS transform once STARTTLS succeeded, the client state
// machine, and the pump that moves bytes between them. It carries out
// STARTTLS itself (RFC 3207), so its owner only sees the connection ready,
// a message done, or closed. Not here: which host or policy (the outbound
// session plans that) or what replies mean (ClientProtocol).
#ifndef RINGMTA_MTA_RELAY_OUTBOUND_CONNECTION_H_
#define RINGMTA_MTA_RELAY_OUTBOUND_CONNECTION_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "mta/io/socket.h"
#include "mta/io/task.h"
#include "mta/relay/route.h"
#include "mta/smtp/client_protocol.h"
#include "tls/context.h"
#include "tls/session.h"

namespace ringmta::relay {

class RelayShard;

// How one connection to one hop goes: the TLS policy in force, the context
// for it (null: no STARTTLS this time), and the client settings that follow
// (STARTTLS wanted or required, AUTH credentials).
struct HopPlan {
  tls::ClientPolicy policy = tls::ClientPolicy::kNone;
  std::shared_ptr<tls::ClientContext> context;
  smtp::ClientConfig client;
};

class OutboundConnection {
 public:
  // Takes `fd` (connected or about to be). `host` names it in logs
  // ("name[address]"); the hop's name is the TLS name (SNI, certificate
  // check, session cache key).
  OutboundConnection(RelayShard& relay, int fd, std::string host, const NextHop& hop,
                     const HopPlan& plan);
  OutboundConnection(const OutboundConnection&) = delete;
  OutboundConnection& operator=(const OutboundConnection&) = delete;

  // Sends pending output, then returns the next action, reading (with the
  // phase's timeout) as long as there is none. Never kStartTls.
  io::Task<smtp::ClientAction> Next();
  // False if sending failed (the client is told; it will close).
  io::Task<bool> Flush();
  // Sends what is left (QUIT, close_notify) and closes. Must be awaited.
  io::Task<void> Close();

  smtp::ClientProtocol& client() { return client_; }
  const smtp::ClientProtocol& client() const { return client_; }
  const std::string& host() const { return host_; }
  // "TLSv1.3 TLS_AES_128_GCM_SHA256" once STARTTLS succeeded, else empty.
  const std::string& tls_description() const { return tls_description_; }
  bool tls_failed() const { return !tls_failure_.empty(); }
  const std::string& tls_failure() const { return tls_failure_; }

 private:
  io::Task<bool> SendRaw(std::string_view bytes);
  io::Task<bool> SendTlsOutput();
  // Feeds the client the next bytes from the server (decrypted under TLS).
  // Returns > 0 when it fed some, else the Receive result (0: end of
  // stream) or -EPROTO when TLS failed.
  io::Task<int32_t> Fill(int64_t timeout_ms);
  // The handshake after the server's 220 to STARTTLS; false on failure
  // (tls_failure() says why).
  io::Task<bool> StartTls();

  RelayShard& relay_;
  std::string host_;
  std::string tls_name_;
  std::shared_ptr<tls::ClientContext> context_;
  io::Socket socket_;
  smtp::ClientProtocol client_;
  std::unique_ptr<tls::TlsSession> tls_;
  // Ciphertext of the last received chunk not yet fed to TLS; valid until
  // the next Receive.
  std::string_view unread_;
  std::string ciphertext_;  // TLS output being sent
  std::string tls_description_;
  std::string tls_failure_;
};

}  // namespace ringmta::relay

#endif  // RINGMTA_MTA_RELAY_OUTBOUND_CONNECTION_H_
