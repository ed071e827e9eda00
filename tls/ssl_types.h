// BoringSSL's handle types, declared without its headers, and owning pointers
// for them. Lets code that includes tls/ headers build without the
// -isystem /usr/include/android flag BoringSSL's own headers need.
#ifndef RINGMTA_TLS_SSL_TYPES_H_
#define RINGMTA_TLS_SSL_TYPES_H_

#include <memory>

// The same declarations as <openssl/base.h>; repeating a typedef is legal.
extern "C" {
typedef struct bio_st BIO;
typedef struct bio_method_st BIO_METHOD;
typedef struct ssl_st SSL;
typedef struct ssl_ctx_st SSL_CTX;
typedef struct ssl_session_st SSL_SESSION;
}

namespace ringmta::tls {

struct SslFree {
  void operator()(SSL* ssl) const;
  void operator()(SSL_CTX* ctx) const;
  void operator()(SSL_SESSION* session) const;
};

using SslPtr = std::unique_ptr<SSL, SslFree>;
using SslCtxPtr = std::unique_ptr<SSL_CTX, SslFree>;
using SslSessionPtr = std::unique_ptr<SSL_SESSION, SslFree>;

}  // namespace ringmta::tls

#endif  // RINGMTA_TLS_SSL_TYPES_H_
