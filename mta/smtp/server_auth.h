// SMTP AUTH (RFC 4954) with the PLAIN (RFC 4616) and LOGIN mechanisms: the
// SASL exchange as a pure state machine (response lines in, challenges or
// credentials out) and the Authenticator seam that checks a password. Not
// here: the AUTH command's sequencing (server_commands.cc), credential
// storage (mta/server/credentials.h), or SASL security layers (none).
#ifndef RINGMTA_MTA_SMTP_SERVER_AUTH_H_
#define RINGMTA_MTA_SMTP_SERVER_AUTH_H_

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace ringmta::smtp {

// An authentication identity is stored with the message (queue's
// kAuthUserBytesMax); a password longer than this is not one we issued.
inline constexpr size_t kAuthUserBytesMax = 255;
inline constexpr size_t kAuthPasswordBytesMax = 255;

// Checks a user's password. Synchronous, on the shard's thread: a slow
// hash (yescrypt, SHA-512 crypt) costs milliseconds of CPU per call, which
// stalls that shard's other sessions meanwhile; the per-session failure
// limit (ServerConfig::auth_failures_max) bounds what one client can cost.
// Implementations must be safe to call from every shard at once.
class Authenticator {
 public:
  virtual ~Authenticator() = default;
  // OK: the password is right. kUnauthenticated: unknown user or wrong
  // password (535 5.7.8). Anything else: our trouble (454 4.7.0).
  virtual absl::Status Check(std::string_view user, std::string_view password) = 0;
};

enum class SaslMechanism { kPlain, kLogin };

// Case-insensitive (RFC 4954 §4: mechanism names are case-insensitive).
std::optional<SaslMechanism> ParseSaslMechanism(std::string_view name);

// Strict RFC 4648 §4 base64: padding required, no whitespace, no other
// characters. False on anything else (the server answers 501).
bool DecodeBase64Strict(std::string_view text, std::string* out);

struct SaslStep {
  enum class Kind {
    kChallenge,    // send "334 <challenge>", read one response line
    kCredentials,  // check `user` and `password`
    kCancelled,    // the client sent "*" (RFC 4954 §4): 501
    kMalformed,    // bad base64 or a malformed PLAIN message: 501
    kRefused,      // well-formed but never valid (proxy authzid, too long): 535
  };
  Kind kind = Kind::kChallenge;
  std::string challenge;  // base64, possibly empty
  std::string user;
  std::string password;
};

// One AUTH exchange, from the AUTH command to its outcome.
class SaslExchange {
 public:
  explicit SaslExchange(SaslMechanism mechanism) : mechanism_(mechanism) {}

  // `initial` is the initial response on the AUTH line, base64 or "=" for
  // an empty one (RFC 4954 §4), or nullopt when none was given.
  SaslStep Start(std::optional<std::string_view> initial);
  // One response line from the client (without CRLF).
  SaslStep Respond(std::string_view line);

 private:
  SaslStep Plain(std::string_view base64);
  SaslStep LoginUser(std::string_view base64);
  SaslStep LoginPassword(std::string_view base64);

  const SaslMechanism mechanism_;
  bool have_user_ = false;  // LOGIN: the user name has been given
  std::string user_;
};

}  // namespace ringmta::smtp

#endif  // RINGMTA_MTA_SMTP_SERVER_AUTH_H_
