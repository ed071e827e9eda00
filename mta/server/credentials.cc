#include "mta/server/credentials.h"

#include <crypt.h>
#include <string.h>  // explicit_bzero
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "mta/base/status.h"

namespace ringmta::server {
namespace {

absl::Status LineError(const std::string& origin, int line, const std::string& problem) {
  return absl::InvalidArgumentError(origin + ":" + std::to_string(line) + ": " + problem);
}

bool ValidUser(std::string_view user) {
  if (user.empty() || user.size() > smtp::kAuthUserBytesMax) return false;
  for (unsigned char c : user) {
    if (c <= 0x20 || c == 0x7f || c == ':') return false;
  }
  return true;
}

// Only slow, salted schemes: SHA-512 crypt and yescrypt. MD5 ("$1$") and
// DES crypt are fast enough to brute-force from a stolen file.
absl::Status CheckHash(std::string_view hash) {
  if (hash.rfind("$6$", 0) != 0 && hash.rfind("$y$", 0) != 0) {
    return absl::InvalidArgumentError(
        "unsupported hash: use SHA-512 crypt ($6$) or yescrypt ($y$)");
  }
  if (hash.size() >= CRYPT_OUTPUT_SIZE) return absl::InvalidArgumentError("hash too long");
  for (unsigned char c : hash) {
    const bool allowed = (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') ||
                         (c >= 'a' && c <= 'z') || c == '.' || c == '/' || c == '$' || c == '=';
    if (!allowed) return absl::InvalidArgumentError("hash holds characters crypt(3) never writes");
  }
  // "$id$[params$]salt$hash": a setting without its hash part never matches.
  const size_t last = hash.rfind('$');
  if (last + 1 == hash.size() || std::count(hash.begin(), hash.end(), '$') < 3) {
    return absl::InvalidArgumentError("hash is incomplete (a salt without the hash part?)");
  }
  if (crypt_checksalt(std::string(hash).c_str()) != CRYPT_SALT_OK) {
    return absl::InvalidArgumentError("hash parameters refused by libxcrypt");
  }
  return absl::OkStatus();
}

// Compares every byte whatever the first difference, so timing does not
// reveal how much of a guess was right.
bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char difference = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    difference = static_cast<unsigned char>(difference | (a[i] ^ b[i]));
    // An optimisation barrier: the compiler may not exit the loop early.
    asm volatile("" : "+r"(difference));
  }
  return difference == 0;
}

}  // namespace

absl::StatusOr<std::unique_ptr<CredentialsFile>> CredentialsFile::Parse(
    std::string_view text, const std::string& origin) {
  std::unique_ptr<CredentialsFile> file(new CredentialsFile());
  int number = 0;
  while (!text.empty()) {
    ++number;
    const size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || line.front() == '#') continue;
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) return LineError(origin, number, "expected user:hash");
    const std::string user(line.substr(0, colon));
    const std::string hash(line.substr(colon + 1));
    if (!ValidUser(user)) {
      return LineError(origin, number,
                       "user must be 1 to 255 bytes without ':', spaces or control characters");
    }
    if (absl::Status valid = CheckHash(hash); !valid.ok()) {
      return LineError(origin, number, std::string(valid.message()));
    }
    if (file->hashes_.size() >= kCredentialsUsersMax) {
      return LineError(origin, number, "too many users");
    }
    if (!file->hashes_.emplace(user, hash).second) {
      return LineError(origin, number, "user \"" + user + "\" appears twice");
    }
    if (file->decoy_hash_.empty()) file->decoy_hash_ = hash;
  }
  if (file->hashes_.empty()) return absl::InvalidArgumentError(origin + ": no users");
  return file;
}

absl::StatusOr<std::unique_ptr<CredentialsFile>> CredentialsFile::Load(
    const std::string& path, std::vector<std::string>* warnings) {
  struct stat info;
  if (stat(path.c_str(), &info) != 0) return ErrnoToStatus(errno, "credentials file " + path);
  if (!S_ISREG(info.st_mode)) return absl::InvalidArgumentError(path + ": not a regular file");
  if (info.st_size > static_cast<off_t>(kCredentialsFileBytesMax)) {
    return absl::InvalidArgumentError(path + ": larger than 16 MiB");
  }
  if ((info.st_mode & 0044) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(info.st_mode & 07777));
    warnings->push_back(path + " is readable by group or others (mode " + mode +
                        "); it holds password hashes: chmod 600 it");
  }
  std::ifstream input(path, std::ios::binary);
  if (!input) return absl::PermissionDeniedError("cannot read credentials file " + path);
  std::ostringstream text;
  text << input.rdbuf();
  return Parse(text.str(), path);
}

absl::Status CredentialsFile::Check(std::string_view user, std::string_view password) {
  const auto found = hashes_.find(std::string(user));
  const std::string& hash = found == hashes_.end() ? decoy_hash_ : found->second;
  // crypt_rn's state is large (~32 KiB) and reused: one per thread (shard).
  thread_local std::unique_ptr<crypt_data> data = std::make_unique<crypt_data>();
  std::string phrase(password);
  if (phrase.find('\0') != std::string::npos) return absl::UnauthenticatedError("bad password");
  const char* result = crypt_rn(phrase.c_str(), hash.c_str(), data.get(), sizeof(crypt_data));
  const bool match = result != nullptr && ConstantTimeEquals(result, hash);
  // Both hold traces of the password.
  explicit_bzero(phrase.data(), phrase.size());
  explicit_bzero(data.get(), sizeof(crypt_data));
  if (result == nullptr) return absl::InternalError("crypt_rn failed for a validated hash");
  if (!match || found == hashes_.end()) return absl::UnauthenticatedError("bad credentials");
  return absl::OkStatus();
}

}  // namespace ringmta::server
