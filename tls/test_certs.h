// Test-only: a throwaway CA and leaf certificates made at run time with
// BoringSSL, written to a scratch directory. Nothing here is committed or
// trusted outside one test process.
#ifndef RINGMTA_TLS_TEST_CERTS_H_
#define RINGMTA_TLS_TEST_CERTS_H_

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <string>
#include <string_view>

namespace ringmta::tls::testing {

enum class KeyType { kEcdsaP256, kRsa2048 };

struct Credential {
  bssl::UniquePtr<X509> cert;
  bssl::UniquePtr<EVP_PKEY> key;
  std::string cert_pem;
  std::string key_pem;
};

// A self-signed CA ("CA:TRUE", keyCertSign), valid from an hour ago for a day.
Credential MakeCa(std::string_view common_name, KeyType type = KeyType::kEcdsaP256);

// A server certificate for `dns_name` (subjectAltName, serverAuth) issued by `ca`.
Credential MakeLeaf(const Credential& ca, std::string_view dns_name,
                    KeyType type = KeyType::kEcdsaP256);

// A fresh directory under $TEST_TMPDIR (or /tmp) and a file written in it.
std::string MakeScratchDir();
std::string WriteFile(const std::string& dir, std::string_view name, std::string_view bytes);

}  // namespace ringmta::tls::testing

#endif  // RINGMTA_TLS_TEST_CERTS_H_
