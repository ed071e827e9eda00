// The SASL PLAIN and LOGIN exchanges and strict base64.
#include "mta/smtp/server_auth.h"

#include "absl/strings/escaping.h"
#include "mta/smtp/command.h"

namespace ringmta::smtp {
namespace {

// LOGIN's challenges are fixed by custom (draft-murchison-sasl-login §2.1).
constexpr char kUsernameChallenge[] = "VXNlcm5hbWU6";  // "Username:"
constexpr char kPasswordChallenge[] = "UGFzc3dvcmQ6";  // "Password:"

SaslStep Make(SaslStep::Kind kind) {
  SaslStep step;
  step.kind = kind;
  return step;
}

SaslStep Challenge(std::string challenge) {
  SaslStep step;
  step.challenge = std::move(challenge);
  return step;
}

bool IsBase64Char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
         c == '+' || c == '/';
}

// Identities and passwords are text: a NUL or line break inside one is
// never legitimate and could confuse whatever stores or logs it.
bool HasControlBreak(std::string_view text) {
  return text.find_first_of(std::string_view("\0\r\n", 3)) != std::string_view::npos;
}

SaslStep Credentials(std::string user, std::string password) {
  if (user.empty() || password.empty() || HasControlBreak(user) || HasControlBreak(password)) {
    return Make(SaslStep::Kind::kMalformed);
  }
  if (user.size() > kAuthUserBytesMax || password.size() > kAuthPasswordBytesMax) {
    return Make(SaslStep::Kind::kRefused);
  }
  SaslStep step = Make(SaslStep::Kind::kCredentials);
  step.user = std::move(user);
  step.password = std::move(password);
  return step;
}

}  // namespace

std::optional<SaslMechanism> ParseSaslMechanism(std::string_view name) {
  if (EqualsIgnoreCase(name, "PLAIN")) return SaslMechanism::kPlain;
  if (EqualsIgnoreCase(name, "LOGIN")) return SaslMechanism::kLogin;
  return std::nullopt;
}

bool DecodeBase64Strict(std::string_view text, std::string* out) {
  out->clear();
  if (text.size() % 4 != 0) return false;
  size_t padding = 0;
  while (padding < 2 && padding < text.size() && text[text.size() - 1 - padding] == '=') {
    ++padding;
  }
  for (size_t i = 0; i < text.size() - padding; ++i) {
    if (!IsBase64Char(text[i])) return false;
  }
  // Checked above, so abseil's lenient decoder sees only canonical input.
  return absl::Base64Unescape(absl::string_view(text.data(), text.size()), out);
}

SaslStep SaslExchange::Start(std::optional<std::string_view> initial) {
  switch (mechanism_) {
    case SaslMechanism::kPlain:
      // RFC 4954 §4: no initial response means an empty challenge first.
      if (!initial) return Challenge("");
      return Plain(*initial == "=" ? "" : *initial);
    case SaslMechanism::kLogin:
      // Some clients send the user name as an initial response.
      if (!initial) return Challenge(kUsernameChallenge);
      return LoginUser(*initial == "=" ? "" : *initial);
  }
  return Make(SaslStep::Kind::kMalformed);
}

SaslStep SaslExchange::Respond(std::string_view line) {
  if (line == "*") return Make(SaslStep::Kind::kCancelled);
  if (mechanism_ == SaslMechanism::kPlain) return Plain(line);
  return have_user_ ? LoginPassword(line) : LoginUser(line);
}

// RFC 4616 §2: [authzid] NUL authcid NUL passwd.
SaslStep SaslExchange::Plain(std::string_view base64) {
  std::string message;
  if (!DecodeBase64Strict(base64, &message)) return Make(SaslStep::Kind::kMalformed);
  const size_t first = message.find('\0');
  const size_t second = first == std::string::npos ? first : message.find('\0', first + 1);
  if (second == std::string::npos) return Make(SaslStep::Kind::kMalformed);
  const std::string authzid = message.substr(0, first);
  std::string user = message.substr(first + 1, second - first - 1);
  std::string password = message.substr(second + 1);
  // Acting for another identity (proxy authorization) is not supported:
  // such a request can never succeed, so it fails like a wrong password.
  if (!authzid.empty() && authzid != user) return Make(SaslStep::Kind::kRefused);
  return Credentials(std::move(user), std::move(password));
}

SaslStep SaslExchange::LoginUser(std::string_view base64) {
  if (!DecodeBase64Strict(base64, &user_)) return Make(SaslStep::Kind::kMalformed);
  have_user_ = true;
  return Challenge(kPasswordChallenge);
}

SaslStep SaslExchange::LoginPassword(std::string_view base64) {
  std::string password;
  if (!DecodeBase64Strict(base64, &password)) return Make(SaslStep::Kind::kMalformed);
  return Credentials(std::move(user_), std::move(password));
}

}  // namespace ringmta::smtp
