// Test-only certificate factory (see test_certs.h). Failures are CHECKs:
// a test that cannot make its certificates cannot test anything.
#include "tls/test_certs.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec_key.h>
#include <openssl/evp.h>
#include <openssl/nid.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdlib.h>

#include <cstdio>

#include "mta/base/check.h"

namespace ringmta::tls::testing {
namespace {

bssl::UniquePtr<EVP_PKEY> MakeKey(KeyType type) {
  bssl::UniquePtr<EVP_PKEY> key(EVP_PKEY_new());
  if (type == KeyType::kEcdsaP256) {
    bssl::UniquePtr<EC_KEY> ec(EC_KEY_new_by_curve_name(NID_X9_62_prime256v1));
    CHECK(ec != nullptr && EC_KEY_generate_key(ec.get()));
    CHECK(EVP_PKEY_assign_EC_KEY(key.get(), ec.release()));
  } else {
    bssl::UniquePtr<RSA> rsa(RSA_new());
    bssl::UniquePtr<BIGNUM> e(BN_new());
    CHECK(BN_set_word(e.get(), RSA_F4));
    CHECK(RSA_generate_key_ex(rsa.get(), 2048, e.get(), nullptr));
    CHECK(EVP_PKEY_assign_RSA(key.get(), rsa.release()));
  }
  return key;
}

void AddExtension(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_nconf_nid(nullptr, &ctx, nid, value);
  CHECK(ext != nullptr);
  CHECK(X509_add_ext(cert, ext, -1));
  X509_EXTENSION_free(ext);
}

std::string ToPem(X509* cert, EVP_PKEY* key) {
  bssl::UniquePtr<BIO> bio(BIO_new(BIO_s_mem()));
  if (cert != nullptr) CHECK(PEM_write_bio_X509(bio.get(), cert));
  if (key != nullptr) {
    CHECK(PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr));
  }
  const uint8_t* data;
  size_t length;
  CHECK(BIO_mem_contents(bio.get(), &data, &length));
  return std::string(reinterpret_cast<const char*>(data), length);
}

// An unsigned v3 certificate for `key` named `common_name`, valid from an hour
// ago for a day; the caller sets the issuer, adds extensions and signs.
bssl::UniquePtr<X509> NewCert(std::string_view common_name, EVP_PKEY* key) {
  bssl::UniquePtr<X509> cert(X509_new());
  CHECK(X509_set_version(cert.get(), X509_VERSION_3));
  uint64_t serial;
  RAND_bytes(reinterpret_cast<uint8_t*>(&serial), sizeof(serial));
  CHECK(ASN1_INTEGER_set_uint64(X509_get_serialNumber(cert.get()), serial >> 1));
  CHECK(X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600));
  CHECK(X509_gmtime_adj(X509_getm_notAfter(cert.get()), 24 * 3600));
  X509_NAME* name = X509_get_subject_name(cert.get());
  std::string cn(common_name);
  CHECK(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                   reinterpret_cast<const uint8_t*>(cn.c_str()), -1, -1, 0));
  CHECK(X509_set_pubkey(cert.get(), key));
  return cert;
}

}  // namespace

Credential MakeCa(std::string_view common_name, KeyType type) {
  Credential ca;
  ca.key = MakeKey(type);
  ca.cert = NewCert(common_name, ca.key.get());
  CHECK(X509_set_issuer_name(ca.cert.get(), X509_get_subject_name(ca.cert.get())));
  AddExtension(ca.cert.get(), ca.cert.get(), NID_basic_constraints, "critical,CA:TRUE");
  AddExtension(ca.cert.get(), ca.cert.get(), NID_key_usage, "critical,keyCertSign,cRLSign");
  AddExtension(ca.cert.get(), ca.cert.get(), NID_subject_key_identifier, "hash");
  CHECK(X509_sign(ca.cert.get(), ca.key.get(), EVP_sha256()));
  ca.cert_pem = ToPem(ca.cert.get(), nullptr);
  ca.key_pem = ToPem(nullptr, ca.key.get());
  return ca;
}

Credential MakeLeaf(const Credential& ca, std::string_view dns_name, KeyType type) {
  Credential leaf;
  leaf.key = MakeKey(type);
  leaf.cert = NewCert(dns_name, leaf.key.get());
  CHECK(X509_set_issuer_name(leaf.cert.get(), X509_get_subject_name(ca.cert.get())));
  std::string san = "DNS:" + std::string(dns_name);
  AddExtension(leaf.cert.get(), ca.cert.get(), NID_subject_alt_name, san.c_str());
  AddExtension(leaf.cert.get(), ca.cert.get(), NID_basic_constraints, "critical,CA:FALSE");
  AddExtension(leaf.cert.get(), ca.cert.get(), NID_ext_key_usage, "serverAuth");
  AddExtension(leaf.cert.get(), ca.cert.get(), NID_authority_key_identifier, "keyid");
  CHECK(X509_sign(leaf.cert.get(), ca.key.get(), EVP_sha256()));
  leaf.cert_pem = ToPem(leaf.cert.get(), nullptr);
  leaf.key_pem = ToPem(nullptr, leaf.key.get());
  return leaf;
}

std::string MakeScratchDir() {
  const char* base = getenv("TEST_TMPDIR");
  std::string pattern = std::string(base != nullptr ? base : "/tmp") + "/tls_test_XXXXXX";
  CHECK(mkdtemp(pattern.data()) != nullptr);
  return pattern;
}

std::string WriteFile(const std::string& dir, std::string_view name, std::string_view bytes) {
  std::string path = dir + "/" + std::string(name);
  FILE* file = fopen(path.c_str(), "we");
  CHECK(file != nullptr);
  CHECK(fwrite(bytes.data(), 1, bytes.size(), file) == bytes.size());
  CHECK(fclose(file) == 0);
  return path;
}

}  // namespace ringmta::tls::testing
