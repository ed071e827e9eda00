// TLS configuration shared by many sessions: the server's certificate and key,
// the client's per-route policy, CA store and session cache. No I/O beyond
// reading PEM files at creation; sessions (tls/session.h) do the work.
#ifndef RINGMTA_TLS_CONTEXT_H_
#define RINGMTA_TLS_CONTEXT_H_

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "tls/client_session_cache.h"
#include "tls/ssl_types.h"

namespace ringmta::tls {

// Highest protocol version offered. TLS 1.2 is always the floor: older
// versions are deprecated (RFC 8996).
enum class MaxVersion { kTls12, kTls13 };

struct ServerOptions {
  std::string cert_chain_file;   // PEM: leaf first, then intermediates.
  std::string private_key_file;  // PEM: RSA or ECDSA, unencrypted.
  MaxVersion max_version = MaxVersion::kTls13;
};

// Immutable once built, so shards may share one. Reload (SIGHUP) builds a new
// one and the owner swaps its shared_ptr: sessions already running keep the
// old SSL_CTX alive through their own reference, new sessions get the new
// certificate. Resumption state (ticket keys) is not carried over.
class ServerContext {
 public:
  static absl::StatusOr<std::shared_ptr<const ServerContext>> Create(
      const ServerOptions& options);
  ~ServerContext();

  SSL_CTX* ssl_ctx() const { return ctx_.get(); }
  const ServerOptions& options() const { return options_; }

 private:
  ServerContext(ServerOptions options, SslCtxPtr ctx);

  ServerOptions options_;
  SslCtxPtr ctx_;
};

// Per-route client policy (DESIGN §6, issue 6):
//   none    - never STARTTLS;
//   may     - STARTTLS when offered, any certificate, cleartext if it fails
//             (opportunistic, RFC 7435);
//   encrypt - TLS required, any certificate;
//   verify  - TLS required, chain to a trusted CA and the host name checked.
enum class ClientPolicy { kNone, kMay, kEncrypt, kVerify };

absl::StatusOr<ClientPolicy> ParseClientPolicy(std::string_view text);
std::string_view ClientPolicyName(ClientPolicy policy);

inline constexpr char kSystemCaBundle[] = "/etc/ssl/certs/ca-certificates.crt";

struct ClientOptions {
  ClientPolicy policy = ClientPolicy::kMay;
  // PEM bundle of trusted CAs; empty means kSystemCaBundle. Required to exist
  // under verify; under may/encrypt a missing system bundle only means no
  // session reports peer_verified().
  std::string ca_file;
  MaxVersion max_version = MaxVersion::kTls13;
};

// One per shard (its session cache is not locked). Sessions hold a shared_ptr
// to it, so it outlives them.
class ClientContext {
 public:
  static absl::StatusOr<std::shared_ptr<ClientContext>> Create(const ClientOptions& options);
  ~ClientContext();

  ClientPolicy policy() const { return options_.policy; }
  // Whether a failed handshake may fall back to cleartext (only under may).
  bool cleartext_fallback_allowed() const { return options_.policy == ClientPolicy::kMay; }
  bool verifies() const { return options_.policy == ClientPolicy::kVerify; }
  bool has_ca_store() const { return has_ca_store_; }

  ClientSessionCache& session_cache() { return cache_; }

 private:
  friend class TlsSession;
  // A new client SSL for `host`: SNI (not for IP literals, RFC 6066 §3), the
  // name every policy checks (verify makes a mismatch fatal), and a cached
  // session for `host` if there is one.
  // The SSL must not outlive this context (TlsSession holds a reference).
  absl::StatusOr<SslPtr> NewSsl(std::string_view host);

  ClientContext(ClientOptions options, SslCtxPtr ctx, bool has_ca_store);
  static int OnNewSession(SSL* ssl, SSL_SESSION* session);

  ClientOptions options_;
  SslCtxPtr ctx_;
  bool has_ca_store_;
  ClientSessionCache cache_;
};

}  // namespace ringmta::tls

#endif  // RINGMTA_TLS_CONTEXT_H_
