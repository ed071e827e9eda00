// The AUTH credentials file: one "user:hash" per line, the hash a crypt(3)
// string (SHA-512 "$6$" or yescrypt "$y$", via libxcrypt), checked with a
// constant-time comparison. Format: docs/config.md. Not here: the SASL
// exchange (mta/smtp/server_auth.h) or reloading on SIGHUP (not yet).
#ifndef RINGMTA_MTA_SERVER_CREDENTIALS_H_
#define RINGMTA_MTA_SERVER_CREDENTIALS_H_

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "absl/status/statusor.h"
#include "mta/smtp/server_auth.h"

namespace ringmta::server {

// A credentials file is small and read once; past these it is a mistake
// (the wrong file), not a user list.
inline constexpr size_t kCredentialsFileBytesMax = 16 << 20;
inline constexpr size_t kCredentialsUsersMax = 100'000;

// Immutable once made, so every shard may call Check at once.
class CredentialsFile : public smtp::Authenticator {
 public:
  // Errors name `origin` and the line: "creds:3: unsupported hash ...".
  static absl::StatusOr<std::unique_ptr<CredentialsFile>> Parse(std::string_view text,
                                                                const std::string& origin);
  // Reads and parses `path`. A file readable by group or others still
  // loads (it holds hashes, not passwords) but adds a line to `warnings`.
  static absl::StatusOr<std::unique_ptr<CredentialsFile>> Load(const std::string& path,
                                                               std::vector<std::string>* warnings);

  // Costs one crypt(3) run, for unknown users too, so that response time
  // does not tell which user names exist.
  absl::Status Check(std::string_view user, std::string_view password) override;
  size_t size() const { return hashes_.size(); }

 private:
  CredentialsFile() = default;

  std::unordered_map<std::string, std::string> hashes_;  // user -> crypt string
  std::string decoy_hash_;  // hashed against for unknown users
};

}  // namespace ringmta::server

#endif  // RINGMTA_MTA_SERVER_CREDENTIALS_H_
