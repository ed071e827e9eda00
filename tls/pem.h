// Reads certificates, private keys and CA bundles from PEM files, with errors
// that name the file. Not policy: contexts decide what a file must contain.
#ifndef RINGMTA_TLS_PEM_H_
#define RINGMTA_TLS_PEM_H_

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace ringmta::tls {

// The whole file, refused past bytes_max (a PEM file is small; a huge one is a
// mistake such as a log file given as a certificate).
absl::StatusOr<std::string> ReadSmallFile(const std::string& path, size_t bytes_max);

// Every certificate in `pem`, in order; an error if there is none. `origin`
// (the file name) goes into error messages.
absl::StatusOr<std::vector<bssl::UniquePtr<X509>>> ParseCertificates(
    std::string_view pem, std::string_view origin);

// The first private key in `pem`: PKCS#8 "PRIVATE KEY" or the traditional
// "RSA PRIVATE KEY" / "EC PRIVATE KEY" forms. Encrypted keys are refused
// (a daemon has nobody to type a passphrase).
absl::StatusOr<bssl::UniquePtr<EVP_PKEY>> ParsePrivateKey(std::string_view pem,
                                                          std::string_view origin);

}  // namespace ringmta::tls

#endif  // RINGMTA_TLS_PEM_H_
