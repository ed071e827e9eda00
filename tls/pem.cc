// PEM file loading for tls/: bounded reads, parse errors that name the file.
// Keys are read before privileges drop (DESIGN §7); nothing here caches them.
#include "tls/pem.h"

#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "mta/base/status.h"
#include "tls/ssl_error.h"

namespace ringmta::tls {
namespace {

bssl::UniquePtr<BIO> MemoryBio(std::string_view bytes) {
  return bssl::UniquePtr<BIO>(BIO_new_mem_buf(bytes.data(), bytes.size()));
}

// True when the only queued error is the end-of-input PEM_R_NO_START_LINE,
// which is how a PEM reader says "no more objects".
bool OnlyEndOfInput() {
  uint32_t error = ERR_peek_last_error();
  if (ERR_GET_LIB(error) != ERR_LIB_PEM || ERR_GET_REASON(error) != PEM_R_NO_START_LINE) {
    return false;
  }
  ERR_clear_error();
  return true;
}

}  // namespace

absl::StatusOr<std::string> ReadSmallFile(const std::string& path, size_t bytes_max) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoToStatus(errno, absl::StrCat("tls: cannot open ", path));
  std::string bytes;
  char chunk[16384];
  absl::Status status;
  for (;;) {
    ssize_t n = read(fd, chunk, sizeof(chunk));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      status = ErrnoToStatus(errno, absl::StrCat("tls: cannot read ", path));
      break;
    }
    if (n == 0) break;
    if (bytes.size() + n > bytes_max) {
      status = absl::InvalidArgumentError(
          absl::StrCat("tls: ", path, " is larger than ", bytes_max, " bytes"));
      break;
    }
    bytes.append(chunk, n);
  }
  close(fd);
  if (!status.ok()) return status;
  return bytes;
}

absl::StatusOr<std::vector<bssl::UniquePtr<X509>>> ParseCertificates(
    std::string_view pem, std::string_view origin) {
  ERR_clear_error();
  bssl::UniquePtr<BIO> bio = MemoryBio(pem);
  std::vector<bssl::UniquePtr<X509>> certs;
  for (;;) {
    bssl::UniquePtr<X509> cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    if (cert == nullptr) break;
    certs.push_back(std::move(cert));
  }
  if (!OnlyEndOfInput()) {
    return SslErrorStatus(absl::StatusCode::kInvalidArgument,
                          absl::StrCat("tls: bad certificate in ", std::string(origin)));
  }
  if (certs.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("tls: no PEM certificate in ", std::string(origin)));
  }
  return certs;
}

absl::StatusOr<bssl::UniquePtr<EVP_PKEY>> ParsePrivateKey(std::string_view pem,
                                                          std::string_view origin) {
  ERR_clear_error();
  bssl::UniquePtr<BIO> bio = MemoryBio(pem);
  // A null password callback with an empty password makes encrypted keys fail
  // instead of prompting on a terminal.
  static char kNoPassword[] = "";
  bssl::UniquePtr<EVP_PKEY> key(
      PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, kNoPassword));
  if (key == nullptr) {
    return SslErrorStatus(absl::StatusCode::kInvalidArgument,
                          absl::StrCat("tls: no usable private key in ", std::string(origin)));
  }
  return key;
}

}  // namespace ringmta::tls
