// Builds the SSL_CTX objects behind ServerContext and ClientContext: versions,
// suites, groups, certificates, CA store, resumption. Not sessions.
#include "tls/context.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "mta/base/status.h"
#include "tls/pem.h"
#include "tls/ssl_error.h"
#include "tls/tls_limits.h"

namespace ringmta::tls {
namespace {

// Forward-secret AEAD suites only (the TLS 1.2 part of Mozilla's
// "intermediate" profile); TLS 1.3 suites are fixed by BoringSSL and all fine.
constexpr char kServerCiphers[] =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
// A relay meets old MX servers; opportunistic TLS with CBC or RSA key
// exchange still beats cleartext (RFC 7435 §1), so the client also offers them,
// after the preferred suites.
constexpr char kClientCiphers[] =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"
    "ECDHE-ECDSA-AES128-SHA:ECDHE-RSA-AES128-SHA:ECDHE-RSA-AES256-SHA:"
    "AES128-GCM-SHA256:AES256-GCM-SHA384";
// X25519 first (fast, misuse-resistant), NIST curves for everyone else.
constexpr char kGroups[] = "X25519:P-256:P-384";
// Distinguishes our cached sessions from another application's (RFC 5246 has
// no such notion; OpenSSL-family servers need one for the session cache).
constexpr unsigned char kSessionIdContext[] = "ringmta";

absl::StatusOr<SslCtxPtr> NewBaseContext(MaxVersion max_version,
                                                        const char* ciphers) {
  ERR_clear_error();
  SslCtxPtr ctx(SSL_CTX_new(TLS_method()));
  if (ctx == nullptr) return SslErrorStatus(absl::StatusCode::kInternal, "tls: SSL_CTX_new");
  uint16_t max = max_version == MaxVersion::kTls13 ? TLS1_3_VERSION : TLS1_2_VERSION;
  if (!SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION) ||
      !SSL_CTX_set_max_proto_version(ctx.get(), max) ||
      !SSL_CTX_set_strict_cipher_list(ctx.get(), ciphers) ||
      !SSL_CTX_set1_curves_list(ctx.get(), kGroups)) {
    return SslErrorStatus(absl::StatusCode::kInternal, "tls: context defaults");
  }
  return ctx;
}

absl::Status UseCertificateAndKey(SSL_CTX* ctx, const ServerOptions& options) {
  ASSIGN_OR_RETURN(std::string chain_pem,
                   ReadSmallFile(options.cert_chain_file, limits::kPemFileBytesMax));
  ASSIGN_OR_RETURN(std::vector<bssl::UniquePtr<X509>> chain,
                   ParseCertificates(chain_pem, options.cert_chain_file));
  ASSIGN_OR_RETURN(std::string key_pem,
                   ReadSmallFile(options.private_key_file, limits::kPemFileBytesMax));
  ASSIGN_OR_RETURN(bssl::UniquePtr<EVP_PKEY> key,
                   ParsePrivateKey(key_pem, options.private_key_file));
  ERR_clear_error();
  if (!SSL_CTX_use_certificate(ctx, chain[0].get())) {
    return SslErrorStatus(absl::StatusCode::kInvalidArgument,
                          absl::StrCat("tls: certificate in ", options.cert_chain_file));
  }
  for (size_t i = 1; i < chain.size(); ++i) {
    if (!SSL_CTX_add1_chain_cert(ctx, chain[i].get())) {
      return SslErrorStatus(absl::StatusCode::kInvalidArgument,
                            absl::StrCat("tls: chain certificate in ", options.cert_chain_file));
    }
  }
  if (!SSL_CTX_use_PrivateKey(ctx, key.get()) || !SSL_CTX_check_private_key(ctx)) {
    return SslErrorStatus(
        absl::StatusCode::kInvalidArgument,
        absl::StrCat("tls: private key ", options.private_key_file,
                     " does not match the certificate in ", options.cert_chain_file));
  }
  return absl::OkStatus();
}

// Loads `path` into the context's trust store; returns how many CAs it held.
absl::StatusOr<size_t> LoadCaStore(SSL_CTX* ctx, const std::string& path) {
  ASSIGN_OR_RETURN(std::string pem, ReadSmallFile(path, limits::kCaBundleBytesMax));
  ASSIGN_OR_RETURN(std::vector<bssl::UniquePtr<X509>> cas, ParseCertificates(pem, path));
  X509_STORE* store = SSL_CTX_get_cert_store(ctx);
  for (const bssl::UniquePtr<X509>& ca : cas) {
    // A bundle listing one CA twice is harmless; any other failure is not.
    if (!X509_STORE_add_cert(store, ca.get())) {
      uint32_t error = ERR_peek_last_error();
      if (ERR_GET_REASON(error) != X509_R_CERT_ALREADY_IN_HASH_TABLE) {
        return SslErrorStatus(absl::StatusCode::kInvalidArgument,
                              absl::StrCat("tls: CA bundle ", path));
      }
      ERR_clear_error();
    }
  }
  return cas.size();
}

int ContextIndex() {
  static const int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

void FreeKey(void*, void* ptr, CRYPTO_EX_DATA*, int, long, void*) {
  delete static_cast<std::string*>(ptr);
}

// The cache key of a client SSL (its host), owned by the SSL.
int KeyIndex() {
  static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, &FreeKey);
  return index;
}

bool IsIpLiteral(const std::string& host) {
  unsigned char address[16];
  return inet_pton(AF_INET, host.c_str(), address) == 1 ||
         inet_pton(AF_INET6, host.c_str(), address) == 1;
}

}  // namespace

ServerContext::ServerContext(ServerOptions options, SslCtxPtr ctx)
    : options_(std::move(options)), ctx_(std::move(ctx)) {}
ServerContext::~ServerContext() = default;

absl::StatusOr<std::shared_ptr<const ServerContext>> ServerContext::Create(
    const ServerOptions& options) {
  ASSIGN_OR_RETURN(SslCtxPtr ctx,
                   NewBaseContext(options.max_version, kServerCiphers));
  RETURN_IF_ERROR(UseCertificateAndKey(ctx.get(), options));
  // Our suite order wins: every suite listed is good, and the first ones are
  // the fastest on servers with AES-NI.
  SSL_CTX_set_options(ctx.get(), SSL_OP_CIPHER_SERVER_PREFERENCE);
  // Resumption: stateless tickets (BoringSSL rotates their keys itself) and,
  // for TLS 1.2 clients without ticket support, a bounded session-id cache.
  SSL_CTX_set_session_cache_mode(ctx.get(), SSL_SESS_CACHE_SERVER);
  SSL_CTX_sess_set_cache_size(ctx.get(), limits::kServerSessionCacheEntriesMax);
  SSL_CTX_set_session_id_context(ctx.get(), kSessionIdContext, sizeof(kSessionIdContext) - 1);
  return std::shared_ptr<const ServerContext>(new ServerContext(options, std::move(ctx)));
}

absl::StatusOr<ClientPolicy> ParseClientPolicy(std::string_view text) {
  if (text == "none") return ClientPolicy::kNone;
  if (text == "may") return ClientPolicy::kMay;
  if (text == "encrypt") return ClientPolicy::kEncrypt;
  if (text == "verify") return ClientPolicy::kVerify;
  return absl::InvalidArgumentError(
      absl::StrCat("tls: policy must be none, may, encrypt or verify, not \"",
                   std::string(text.substr(0, 32)), "\""));
}

std::string_view ClientPolicyName(ClientPolicy policy) {
  switch (policy) {
    case ClientPolicy::kNone: return "none";
    case ClientPolicy::kMay: return "may";
    case ClientPolicy::kEncrypt: return "encrypt";
    case ClientPolicy::kVerify: return "verify";
  }
  return "unknown";
}

ClientContext::ClientContext(ClientOptions options, SslCtxPtr ctx,
                             bool has_ca_store)
    : options_(std::move(options)),
      ctx_(std::move(ctx)),
      has_ca_store_(has_ca_store),
      cache_(limits::kClientSessionCacheEntriesMax) {}
ClientContext::~ClientContext() = default;

absl::StatusOr<std::shared_ptr<ClientContext>> ClientContext::Create(
    const ClientOptions& options) {
  ASSIGN_OR_RETURN(SslCtxPtr ctx,
                   NewBaseContext(options.max_version, kClientCiphers));
  bool has_ca_store = false;
  if (options.policy != ClientPolicy::kNone) {
    std::string ca_file = options.ca_file.empty() ? kSystemCaBundle : options.ca_file;
    absl::StatusOr<size_t> loaded = LoadCaStore(ctx.get(), ca_file);
    // Only a missing *system* bundle is tolerated, and only when nothing is
    // verified: a configured bundle that fails to load is always an error.
    bool tolerate = options.ca_file.empty() && options.policy != ClientPolicy::kVerify &&
                    absl::IsNotFound(loaded.status());
    if (!loaded.ok() && !tolerate) return loaded.status();
    has_ca_store = loaded.ok();
  }
  // SSL_VERIFY_NONE still verifies and records the result for
  // SSL_get_verify_result (peer_verified()); only verify makes it fatal.
  SSL_CTX_set_verify(ctx.get(),
                     options.policy == ClientPolicy::kVerify ? SSL_VERIFY_PEER : SSL_VERIFY_NONE,
                     nullptr);
  // Client-side caching only invokes the new-session callback; the cache
  // itself is ours, keyed by host.
  SSL_CTX_set_session_cache_mode(ctx.get(), SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL);
  SSL_CTX_sess_set_new_cb(ctx.get(), &ClientContext::OnNewSession);
  std::shared_ptr<ClientContext> context(
      new ClientContext(options, std::move(ctx), has_ca_store));
  SSL_CTX_set_ex_data(context->ctx_.get(), ContextIndex(), context.get());
  return context;
}

absl::StatusOr<SslPtr> ClientContext::NewSsl(std::string_view host_view) {
  if (options_.policy == ClientPolicy::kNone) {
    return absl::FailedPreconditionError("tls: route policy is none");
  }
  if (host_view.empty() || host_view.size() > limits::kHostNameBytesMax) {
    return absl::InvalidArgumentError("tls: host name empty or too long");
  }
  std::string host(host_view);
  ERR_clear_error();
  SslPtr ssl(SSL_new(ctx_.get()));
  if (ssl == nullptr) return SslErrorStatus(absl::StatusCode::kInternal, "tls: SSL_new");
  bool ip = IsIpLiteral(host);
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl.get());
  // RFC 6125 §6.4.3: a wildcard only as the whole left-most label.
  X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  bool named = ip ? X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str())
                  : (SSL_set_tlsext_host_name(ssl.get(), host.c_str()) &&
                     SSL_set1_host(ssl.get(), host.c_str()));
  if (!named) {
    return SslErrorStatus(absl::StatusCode::kInvalidArgument,
                          absl::StrCat("tls: bad host name ", host));
  }
  if (SslSessionPtr session = cache_.Take(host)) {
    SSL_set_session(ssl.get(), session.get());  // takes its own reference
  }
  SSL_set_ex_data(ssl.get(), KeyIndex(), new std::string(std::move(host)));
  SSL_set_connect_state(ssl.get());
  return ssl;
}

int ClientContext::OnNewSession(SSL* ssl, SSL_SESSION* session) {
  auto* context = static_cast<ClientContext*>(
      SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), ContextIndex()));
  auto* key = static_cast<std::string*>(SSL_get_ex_data(ssl, KeyIndex()));
  if (context == nullptr || key == nullptr) return 0;  // 0: we kept no reference
  context->cache_.Put(*key, SslSessionPtr(session));
  return 1;
}

}  // namespace ringmta::tls
