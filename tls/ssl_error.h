// Turns BoringSSL's thread-local error queue into bounded text and Status.
// Not a logger: callers decide where the text goes.
#ifndef RINGMTA_TLS_SSL_ERROR_H_
#define RINGMTA_TLS_SSL_ERROR_H_

#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace ringmta::tls {

// Drains the calling thread's error queue into "error:...; error:..." text,
// cut to limits::kFailureReasonBytesMax. Returns "no error detail" if empty.
std::string DrainSslErrors();

// A Status "<what>: <drained errors>" with the given code.
absl::Status SslErrorStatus(absl::StatusCode code, std::string_view what);

}  // namespace ringmta::tls

#endif  // RINGMTA_TLS_SSL_ERROR_H_
