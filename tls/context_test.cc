// ServerContext / ClientContext creation: good files load, bad files give
// errors that name the file; policy parsing.
#include "tls/context.h"

#include <unistd.h>

#include <string>

#include "gtest/gtest.h"
#include "tls/test_certs.h"

namespace ringmta::tls {
namespace {

using testing::KeyType;

class ContextTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = testing::MakeScratchDir(); }
  std::string Write(std::string_view name, std::string_view bytes) {
    return testing::WriteFile(dir_, name, bytes);
  }
  std::string dir_;
};

bool Contains(const absl::Status& status, std::string_view text) {
  return std::string(status.message()).find(std::string(text)) != std::string::npos;
}

TEST_F(ContextTest, LoadsEcdsaAndRsaServerCertificates) {
  testing::Credential ca = testing::MakeCa("CA");
  for (KeyType type : {KeyType::kEcdsaP256, KeyType::kRsa2048}) {
    testing::Credential leaf = testing::MakeLeaf(ca, "mx.example.test", type);
    // The chain file carries the leaf and then its issuer.
    ServerOptions options{Write("chain.pem", leaf.cert_pem + ca.cert_pem),
                          Write("key.pem", leaf.key_pem)};
    absl::StatusOr<std::shared_ptr<const ServerContext>> context = ServerContext::Create(options);
    EXPECT_TRUE(context.ok()) << context.status();
  }
}

TEST_F(ContextTest, MissingCertificateFileIsNamed) {
  ServerOptions options{dir_ + "/absent.pem", dir_ + "/absent.key"};
  absl::Status status = ServerContext::Create(options).status();
  EXPECT_TRUE(absl::IsNotFound(status)) << status;
  EXPECT_TRUE(Contains(status, dir_ + "/absent.pem")) << status;
}

TEST_F(ContextTest, GarbageCertificateFileIsNamed) {
  testing::Credential leaf = testing::MakeLeaf(testing::MakeCa("CA"), "mx.example.test");
  ServerOptions options{Write("junk.pem", "not a certificate\n"), Write("key.pem", leaf.key_pem)};
  absl::Status status = ServerContext::Create(options).status();
  EXPECT_TRUE(absl::IsInvalidArgument(status)) << status;
  EXPECT_TRUE(Contains(status, "no PEM certificate in " + dir_ + "/junk.pem")) << status;
}

TEST_F(ContextTest, CorruptPemBodyReportsOpenSslError) {
  testing::Credential leaf = testing::MakeLeaf(testing::MakeCa("CA"), "mx.example.test");
  std::string pem = leaf.cert_pem;
  pem[pem.size() / 2] = '!';  // not base64
  ServerOptions options{Write("bad.pem", pem), Write("key.pem", leaf.key_pem)};
  absl::Status status = ServerContext::Create(options).status();
  EXPECT_TRUE(absl::IsInvalidArgument(status)) << status;
  EXPECT_TRUE(Contains(status, "bad.pem")) << status;
  EXPECT_TRUE(Contains(status, "error:")) << status;
}

TEST_F(ContextTest, KeyThatDoesNotMatchIsRefused) {
  testing::Credential ca = testing::MakeCa("CA");
  testing::Credential leaf = testing::MakeLeaf(ca, "mx.example.test");
  ServerOptions options{Write("cert.pem", leaf.cert_pem), Write("key.pem", ca.key_pem)};
  absl::Status status = ServerContext::Create(options).status();
  EXPECT_TRUE(absl::IsInvalidArgument(status)) << status;
  EXPECT_TRUE(Contains(status, "does not match")) << status;
}

TEST_F(ContextTest, KeyFileWithoutKeyIsNamed) {
  testing::Credential leaf = testing::MakeLeaf(testing::MakeCa("CA"), "mx.example.test");
  ServerOptions options{Write("cert.pem", leaf.cert_pem), Write("key.pem", leaf.cert_pem)};
  absl::Status status = ServerContext::Create(options).status();
  EXPECT_TRUE(Contains(status, "no usable private key in " + dir_ + "/key.pem")) << status;
}

TEST_F(ContextTest, VerifyNeedsItsCaFile) {
  absl::Status status =
      ClientContext::Create({ClientPolicy::kVerify, dir_ + "/no-ca.pem"}).status();
  EXPECT_TRUE(absl::IsNotFound(status)) << status;
  EXPECT_TRUE(Contains(status, "no-ca.pem")) << status;
}

TEST_F(ContextTest, ConfiguredCaFileMustLoadEvenUnderMay) {
  absl::Status status = ClientContext::Create({ClientPolicy::kMay, dir_ + "/no-ca.pem"}).status();
  EXPECT_TRUE(absl::IsNotFound(status)) << status;
}

TEST_F(ContextTest, SystemBundleLoadsWhenPresent) {
  if (access(kSystemCaBundle, R_OK) != 0) GTEST_SKIP() << "no " << kSystemCaBundle;
  absl::StatusOr<std::shared_ptr<ClientContext>> context =
      ClientContext::Create({ClientPolicy::kVerify, ""});
  ASSERT_TRUE(context.ok()) << context.status();
  EXPECT_TRUE((*context)->has_ca_store());
  EXPECT_TRUE((*context)->verifies());
  EXPECT_FALSE((*context)->cleartext_fallback_allowed());
}

TEST(ClientPolicyTest, ParsesEveryNameAndRejectsOthers) {
  for (ClientPolicy policy :
       {ClientPolicy::kNone, ClientPolicy::kMay, ClientPolicy::kEncrypt, ClientPolicy::kVerify}) {
    absl::StatusOr<ClientPolicy> parsed = ParseClientPolicy(ClientPolicyName(policy));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, policy);
  }
  EXPECT_TRUE(absl::IsInvalidArgument(ParseClientPolicy("dane").status()));
}

}  // namespace
}  // namespace ringmta::tls
