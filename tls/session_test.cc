// TlsSession in memory: a client and a server session pumped back to back,
// with certificates made at test time (tls/test_certs.h).
#include "tls/session.h"

#include <random>
#include <string>

#include "gtest/gtest.h"
#include "tls/context.h"
#include "tls/test_certs.h"
#include "tls/test_pump.h"
#include "tls/tls_limits.h"

namespace ringmta::tls {
namespace {

using testing::Endpoint;
using testing::KeyType;
using State = TlsSession::State;

constexpr char kHost[] = "mx.example.test";

struct Files {
  std::string ca, other_ca, cert, key, rsa_cert, rsa_key, new_cert, new_key;
};

class SessionTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::string dir = testing::MakeScratchDir();
    testing::Credential ca = testing::MakeCa("Test CA");
    testing::Credential other_ca = testing::MakeCa("Other CA");
    testing::Credential leaf = testing::MakeLeaf(ca, kHost);
    testing::Credential rsa = testing::MakeLeaf(ca, kHost, KeyType::kRsa2048);
    testing::Credential renewed = testing::MakeLeaf(ca, "mx2.example.test");
    files_ = new Files{
        testing::WriteFile(dir, "ca.pem", ca.cert_pem),
        testing::WriteFile(dir, "other_ca.pem", other_ca.cert_pem),
        testing::WriteFile(dir, "cert.pem", leaf.cert_pem),
        testing::WriteFile(dir, "key.pem", leaf.key_pem),
        testing::WriteFile(dir, "rsa_cert.pem", rsa.cert_pem),
        testing::WriteFile(dir, "rsa_key.pem", rsa.key_pem),
        testing::WriteFile(dir, "new_cert.pem", renewed.cert_pem),
        testing::WriteFile(dir, "new_key.pem", renewed.key_pem),
    };
  }
  static void TearDownTestSuite() { delete files_; }

  static std::shared_ptr<const ServerContext> Server(
      MaxVersion max = MaxVersion::kTls13, bool rsa = false) {
    ServerOptions options{rsa ? files_->rsa_cert : files_->cert,
                          rsa ? files_->rsa_key : files_->key, max};
    absl::StatusOr<std::shared_ptr<const ServerContext>> context = ServerContext::Create(options);
    EXPECT_TRUE(context.ok()) << context.status();
    return *context;
  }

  static std::shared_ptr<ClientContext> Client(ClientPolicy policy, const std::string& ca_file,
                                               MaxVersion max = MaxVersion::kTls13) {
    absl::StatusOr<std::shared_ptr<ClientContext>> context =
        ClientContext::Create(ClientOptions{policy, ca_file, max});
    EXPECT_TRUE(context.ok()) << context.status();
    return *context;
  }

  // A connected (or failed) pair; sessions live on the heap, so endpoints
  // keep pointing at them when the struct moves.
  struct Connection {
    std::unique_ptr<TlsSession> client_session, server_session;
    Endpoint client, server;
    TlsSession& c() { return *client_session; }
    TlsSession& s() { return *server_session; }
  };

  static Connection Connect(std::shared_ptr<const ServerContext> server,
                            std::shared_ptr<ClientContext> client, std::string_view host = kHost) {
    Connection connection;
    connection.client_session = *TlsSession::NewClient(std::move(client), host);
    connection.server_session = *TlsSession::NewServer(std::move(server));
    connection.client.session = connection.client_session.get();
    connection.server.session = connection.server_session.get();
    EXPECT_TRUE(connection.c().Handshake().ok());
    testing::Pump(connection.client, connection.server);
    return connection;
  }

  static void Send(TlsSession& from, std::string_view bytes) {
    absl::StatusOr<size_t> accepted = from.Write(bytes);
    ASSERT_TRUE(accepted.ok()) << accepted.status();
    ASSERT_EQ(*accepted, bytes.size());
  }

  static Files* files_;
};

Files* SessionTest::files_ = nullptr;

TEST_F(SessionTest, HandshakeTls13) {
  Connection x = Connect(Server(), Client(ClientPolicy::kVerify, files_->ca));
  ASSERT_EQ(x.c().state(), State::kOpen) << x.c().failure();
  ASSERT_EQ(x.s().state(), State::kOpen) << x.s().failure();
  EXPECT_EQ(x.c().version(), "TLSv1.3");
  EXPECT_EQ(x.s().version(), "TLSv1.3");
  EXPECT_EQ(x.c().cipher(), x.s().cipher());
  EXPECT_FALSE(x.c().cipher().empty());
  EXPECT_EQ(x.c().group(), "X25519");
  EXPECT_TRUE(x.c().peer_verified());
  EXPECT_EQ(x.c().verify_result_text(), "ok");
  EXPECT_FALSE(x.c().session_reused());
}

TEST_F(SessionTest, HandshakeForcedTls12) {
  Connection x = Connect(Server(MaxVersion::kTls12), Client(ClientPolicy::kVerify, files_->ca));
  ASSERT_EQ(x.c().state(), State::kOpen) << x.c().failure();
  EXPECT_EQ(x.c().version(), "TLSv1.2");
  EXPECT_EQ(x.s().version(), "TLSv1.2");
  EXPECT_EQ(x.c().cipher().substr(0, 12), "ECDHE-ECDSA-");
  EXPECT_TRUE(x.c().peer_verified());
}

TEST_F(SessionTest, HandshakeWithRsaCertificate) {
  Connection x = Connect(Server(MaxVersion::kTls12, /*rsa=*/true),
                         Client(ClientPolicy::kVerify, files_->ca));
  ASSERT_EQ(x.c().state(), State::kOpen) << x.c().failure();
  EXPECT_EQ(x.c().cipher().substr(0, 10), "ECDHE-RSA-");
  Connection y = Connect(Server(MaxVersion::kTls13, true), Client(ClientPolicy::kVerify, files_->ca));
  ASSERT_EQ(y.c().state(), State::kOpen) << y.c().failure();
}

TEST_F(SessionTest, DataBothWays) {
  Connection x = Connect(Server(), Client(ClientPolicy::kMay, files_->ca));
  Send(x.c(), "EHLO client.example\r\n");
  testing::Pump(x.client, x.server);
  EXPECT_EQ(x.server.received, "EHLO client.example\r\n");
  Send(x.s(), "250 mx.example.test\r\n");
  testing::Pump(x.client, x.server);
  EXPECT_EQ(x.client.received, "250 mx.example.test\r\n");
}

TEST_F(SessionTest, ClientDataRightBehindFinishedArrives) {
  // The client's Finished and its first command reach the server in one Feed.
  Connection x;
  x.client_session = *TlsSession::NewClient(Client(ClientPolicy::kMay, ""), kHost);
  x.server_session = *TlsSession::NewServer(Server());
  x.client.session = x.client_session.get();
  x.server.session = x.server_session.get();
  ASSERT_TRUE(x.c().Handshake().ok());
  testing::MoveBytes(x.c(), x.server);  // ClientHello
  testing::MoveBytes(x.s(), x.client);  // ServerHello .. Finished
  ASSERT_EQ(x.c().state(), State::kOpen);
  Send(x.c(), "MAIL FROM:<a@b>\r\n");
  testing::MoveBytes(x.c(), x.server);
  EXPECT_EQ(x.s().state(), State::kOpen);
  EXPECT_EQ(x.server.received, "MAIL FROM:<a@b>\r\n");
}

std::string RandomBytes(size_t size, uint32_t seed) {
  std::mt19937 random(seed);
  std::string bytes(size, '\0');
  for (char& byte : bytes) byte = static_cast<char>(random());
  return bytes;
}

TEST_F(SessionTest, OneMegabyteInPiecesEachWay) {
  Connection x = Connect(Server(), Client(ClientPolicy::kMay, files_->ca));
  std::string data = RandomBytes(1 << 20, 7);
  std::mt19937 random(11);
  for (TlsSession* from : {&x.c(), &x.s()}) {
    size_t offset = 0;
    while (offset < data.size()) {
      size_t piece = std::min<size_t>(1 + random() % 40000, data.size() - offset);
      absl::StatusOr<size_t> accepted = from->Write(std::string_view(data).substr(offset, piece));
      ASSERT_TRUE(accepted.ok()) << accepted.status();
      offset += *accepted;
      testing::Pump(x.client, x.server);
    }
  }
  EXPECT_EQ(x.server.received.size(), data.size());
  EXPECT_TRUE(x.server.received == data);
  EXPECT_TRUE(x.client.received == data);
}

TEST_F(SessionTest, VerifyFailsOnWrongHostName) {
  Connection x = Connect(Server(), Client(ClientPolicy::kVerify, files_->ca), "other.example.test");
  ASSERT_EQ(x.c().state(), State::kFailed);
  EXPECT_TRUE(absl::IsUnavailable(x.c().failure()));
  EXPECT_NE(x.c().failure().message().find("certificate verification failed"), std::string::npos)
      << x.c().failure();
  EXPECT_NE(x.c().failure().message().find("ostname mismatch"), std::string::npos)
      << x.c().failure();
  EXPECT_EQ(x.s().state(), State::kFailed);  // it got the client's alert
}

TEST_F(SessionTest, VerifyFailsOnUntrustedCa) {
  Connection x = Connect(Server(), Client(ClientPolicy::kVerify, files_->other_ca));
  ASSERT_EQ(x.c().state(), State::kFailed);
  EXPECT_NE(x.c().failure().message().find("certificate verification failed"), std::string::npos)
      << x.c().failure();
  EXPECT_FALSE(x.c().peer_verified());
}

TEST_F(SessionTest, MayAcceptsUntrustedCertificate) {
  Connection x = Connect(Server(), Client(ClientPolicy::kMay, files_->other_ca));
  ASSERT_EQ(x.c().state(), State::kOpen) << x.c().failure();
  EXPECT_FALSE(x.c().peer_verified());
  EXPECT_NE(x.c().verify_result_text(), "ok");
}

TEST_F(SessionTest, EncryptAcceptsWrongHostButReportsIt) {
  Connection x = Connect(Server(), Client(ClientPolicy::kEncrypt, files_->ca), "wrong.example");
  ASSERT_EQ(x.c().state(), State::kOpen) << x.c().failure();
  EXPECT_FALSE(x.c().peer_verified());
}

TEST_F(SessionTest, MayReportsVerifiedChain) {
  Connection x = Connect(Server(), Client(ClientPolicy::kMay, files_->ca));
  EXPECT_TRUE(x.c().peer_verified());
}

TEST_F(SessionTest, PolicyNoneMakesNoSession) {
  absl::StatusOr<std::unique_ptr<TlsSession>> session =
      TlsSession::NewClient(Client(ClientPolicy::kNone, ""), kHost);
  EXPECT_TRUE(absl::IsFailedPrecondition(session.status())) << session.status();
}

}  // namespace
}  // namespace ringmta::tls
