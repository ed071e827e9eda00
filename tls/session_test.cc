// TlsSession in memory: a client and a server session pumped back to back,
// with certificates made at test time (tls/test_certs.h).
#include "tls/session.h"

#include <random>
#include <string>

#include "gtest/gtest.h"
#include "tls/context.h"
#include "tls/session_fixture.h"
#include "tls/tls_limits.h"

namespace ringmta::tls {
namespace {

using State = TlsSession::State;

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
