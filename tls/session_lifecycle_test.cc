// TlsSession beyond the first handshake: resumption, certificate reload,
// hostile input, close_notify, and the bounds on its buffers.
#include <random>
#include <string>

#include "gtest/gtest.h"
#include "tls/session.h"
#include "tls/session_fixture.h"
#include "tls/tls_limits.h"

namespace ringmta::tls {
namespace {

TEST_F(SessionTest, ResumesSecondConnectionTls13) {
  std::shared_ptr<const ServerContext> server = Server();
  std::shared_ptr<ClientContext> client = Client(ClientPolicy::kVerify, files_->ca);
  Connection first = Connect(server, client);
  ASSERT_EQ(first.c().state(), State::kOpen) << first.c().failure();
  EXPECT_FALSE(first.c().session_reused());
  EXPECT_EQ(client->session_cache().size(), 1u);
  Connection second = Connect(server, client);
  ASSERT_EQ(second.c().state(), State::kOpen) << second.c().failure();
  EXPECT_TRUE(second.c().session_reused());
  EXPECT_TRUE(second.s().session_reused());
  EXPECT_TRUE(second.c().peer_verified());  // carried in the resumed session
}

TEST_F(SessionTest, ResumesSecondConnectionTls12) {
  std::shared_ptr<const ServerContext> server = Server(MaxVersion::kTls12);
  std::shared_ptr<ClientContext> client = Client(ClientPolicy::kVerify, files_->ca);
  Connection first = Connect(server, client);
  ASSERT_EQ(first.c().state(), State::kOpen) << first.c().failure();
  Connection second = Connect(server, client);
  ASSERT_EQ(second.c().state(), State::kOpen) << second.c().failure();
  EXPECT_EQ(second.c().version(), "TLSv1.2");
  EXPECT_TRUE(second.c().session_reused());
}

TEST_F(SessionTest, OtherHostDoesNotResume) {
  std::shared_ptr<const ServerContext> server = Server();
  std::shared_ptr<ClientContext> client = Client(ClientPolicy::kMay, files_->ca);
  Connection first = Connect(server, client);
  Connection second = Connect(server, client, "mx-b.example.test");
  ASSERT_EQ(second.c().state(), State::kOpen) << second.c().failure();
  EXPECT_FALSE(second.c().session_reused());
}

TEST_F(SessionTest, ReloadServesNewCertificateAndOldSessionsGoOn) {
  std::shared_ptr<const ServerContext> live = Server();
  Connection old = Connect(live, Client(ClientPolicy::kVerify, files_->ca));
  ASSERT_EQ(old.c().state(), State::kOpen);
  // SIGHUP: build the new context, then swap the pointer the listener uses.
  absl::StatusOr<std::shared_ptr<const ServerContext>> reloaded =
      ServerContext::Create({files_->new_cert, files_->new_key});
  ASSERT_TRUE(reloaded.ok()) << reloaded.status();
  live = *reloaded;
  Connection fresh =
      Connect(live, Client(ClientPolicy::kVerify, files_->ca), "mx2.example.test");
  EXPECT_EQ(fresh.c().state(), State::kOpen) << fresh.c().failure();
  Connection stale = Connect(live, Client(ClientPolicy::kVerify, files_->ca), kHost);
  EXPECT_EQ(stale.c().state(), State::kFailed);  // the old name is gone
  Send(old.c(), "still here\r\n");
  testing::Pump(old.client, old.server);
  EXPECT_EQ(old.server.received, "still here\r\n");
}

TEST_F(SessionTest, CleartextSmtpIntoServerFailsWithReason) {
  std::unique_ptr<TlsSession> server = *TlsSession::NewServer(Server());
  absl::StatusOr<size_t> fed = server->Feed("EHLO attacker.example\r\n");
  ASSERT_FALSE(fed.ok());
  EXPECT_EQ(server->state(), State::kFailed);
  EXPECT_TRUE(absl::IsUnavailable(server->failure()));
  EXPECT_NE(server->failure().message().find("handshake failed: error:"), std::string::npos)
      << server->failure();
  EXPECT_EQ(server->Feed("more").status(), server->failure());  // sticky
  EXPECT_FALSE(server->Write("x").ok());
}

TEST_F(SessionTest, RandomBytesNeverCrashEitherSide) {
  std::mt19937 random(3);
  for (int round = 0; round < 200; ++round) {
    std::string junk(1 + random() % 3000, '\0');
    for (char& byte : junk) byte = static_cast<char>(random());
    if (round % 2 == 0) junk[0] = 0x16;  // look like a handshake record
    std::unique_ptr<TlsSession> server = *TlsSession::NewServer(Server());
    std::unique_ptr<TlsSession> client =
        *TlsSession::NewClient(Client(ClientPolicy::kMay, files_->ca), kHost);
    ASSERT_TRUE(client->Handshake().ok());
    for (TlsSession* session : {server.get(), client.get()}) {
      absl::StatusOr<size_t> fed = session->Feed(junk);
      EXPECT_TRUE(!fed.ok() || session->state() == State::kHandshaking);
      EXPECT_TRUE(fed.ok() || !session->failure().message().empty());
    }
  }
}

TEST_F(SessionTest, TamperedRecordFailsTheReceiver) {
  Connection x = Connect(Server(), Client(ClientPolicy::kMay, files_->ca));
  Send(x.c(), "DATA\r\n");
  std::string record;
  x.c().TakeOutput(&record);
  record[record.size() - 3] ^= 0x40;  // inside the AEAD tag
  EXPECT_FALSE(x.s().Feed(record).ok());
  EXPECT_EQ(x.s().state(), State::kFailed);
  EXPECT_FALSE(x.s().output().empty());  // a fatal alert to send before closing
}

TEST_F(SessionTest, CloseNotifyBothWays) {
  Connection x = Connect(Server(), Client(ClientPolicy::kMay, files_->ca));
  Send(x.c(), "QUIT\r\n");
  x.c().Shutdown();
  EXPECT_EQ(x.c().state(), State::kClosed);
  EXPECT_TRUE(absl::IsFailedPrecondition(x.c().Write("late").status()));
  testing::Pump(x.client, x.server);
  EXPECT_EQ(x.server.received, "QUIT\r\n");
  EXPECT_TRUE(x.s().peer_closed());
  EXPECT_EQ(x.s().state(), State::kClosed);
  Send(x.s(), "221 bye\r\n");  // half-close: the server may still answer
  x.s().Shutdown();
  testing::Pump(x.client, x.server);
  EXPECT_EQ(x.client.received, "221 bye\r\n");
  EXPECT_TRUE(x.c().peer_closed());
  EXPECT_EQ(x.c().Feed("after close").value(), 11u);  // ignored
}

TEST_F(SessionTest, WriteBeforeHandshakeIsRefused) {
  std::unique_ptr<TlsSession> client =
      *TlsSession::NewClient(Client(ClientPolicy::kMay, files_->ca), kHost);
  EXPECT_TRUE(absl::IsFailedPrecondition(client->Write("MAIL").status()));
  EXPECT_EQ(client->state(), State::kHandshaking);
}

TEST_F(SessionTest, WriteStopsAtTheOutputBound) {
  Connection x = Connect(Server(), Client(ClientPolicy::kMay, files_->ca));
  std::string big(1 << 20, 'a');
  absl::StatusOr<size_t> accepted = x.c().Write(big);
  ASSERT_TRUE(accepted.ok());
  EXPECT_LT(*accepted, big.size());
  EXPECT_GT(*accepted, 0u);
  EXPECT_LE(x.c().output().size(), limits::kCiphertextOutBytesMax);
  EXPECT_EQ(x.c().Write(big).value(), 0u);  // full until drained
}

TEST_F(SessionTest, FeedStopsAtThePlaintextBound) {
  Connection x = Connect(Server(), Client(ClientPolicy::kMay, files_->ca));
  std::string big(200000, 'b');
  size_t offset = 0;
  std::string ciphertext;
  while (offset < big.size()) {
    offset += x.c().Write(std::string_view(big).substr(offset)).value();
    x.c().TakeOutput(&ciphertext);
  }
  size_t consumed = x.s().Feed(ciphertext).value();
  EXPECT_LT(consumed, ciphertext.size());
  EXPECT_EQ(x.s().plaintext().size(), limits::kPlaintextInBytesMax);
  std::string received;
  while (consumed < ciphertext.size()) {
    received.append(x.s().plaintext());
    x.s().ConsumePlaintext(x.s().plaintext().size());
    size_t more = x.s().Feed(std::string_view(ciphertext).substr(consumed)).value();
    ASSERT_GT(more, 0u);
    consumed += more;
  }
  received.append(x.s().plaintext());
  EXPECT_TRUE(received == big);
}

}  // namespace
}  // namespace ringmta::tls
