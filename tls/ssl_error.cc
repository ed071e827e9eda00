// Error-queue draining for tls/. Bounded because a peer can fill the queue.
#include "tls/ssl_error.h"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "absl/strings/str_cat.h"
#include "tls/ssl_types.h"
#include "tls/tls_limits.h"

namespace ringmta::tls {

std::string DrainSslErrors() {
  std::string text;
  uint32_t code;
  while ((code = ERR_get_error()) != 0) {
    if (text.size() >= limits::kFailureReasonBytesMax) continue;  // drain on
    char entry[256];
    ERR_error_string_n(code, entry, sizeof(entry));
    if (!text.empty()) text += "; ";
    text += entry;
  }
  if (text.size() > limits::kFailureReasonBytesMax) {
    text.resize(limits::kFailureReasonBytesMax);
  }
  if (text.empty()) text = "no error detail";
  return text;
}

void SslFree::operator()(SSL* ssl) const { SSL_free(ssl); }
void SslFree::operator()(SSL_CTX* ctx) const { SSL_CTX_free(ctx); }
void SslFree::operator()(SSL_SESSION* session) const { SSL_SESSION_free(session); }

absl::Status SslErrorStatus(absl::StatusCode code, std::string_view what) {
  std::string detail = DrainSslErrors();
  return absl::Status(code, absl::StrCat(std::string(what), ": ", detail));
}

}  // namespace ringmta::tls
