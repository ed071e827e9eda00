// Tests for the server session lifecycle: pipelining with asynchronous
// commit, STARTTLS, AUTH unavailable, policy seam, error counter, timeouts.
#include <string>

#include <gtest/gtest.h>

#include "mta/smtp/server_protocol.h"
#include "mta/smtp/server_test_util.h"

namespace ringmta::smtp {
namespace {

using test_util::Codes;
using test_util::FakeSink;
using test_util::Play;
using test_util::Result;
using test_util::RunAllChunkings;
using test_util::TestConfig;
using test_util::WithEnvelope;

TEST(ServerProtocol, PipelinedGroupInOneFeedAndCommitStopsInput) {
  FakeSink sink;
  ServerProtocol server(TestConfig(), &sink, PeerInfo{"192.0.2.1", false});
  server.Start();
  const std::string input = WithEnvelope("DATA\r\nhello\r\n.\r\nNOOP\r\n");
  const size_t used = server.Feed(input);
  EXPECT_EQ(input.substr(used), "NOOP\r\n");  // stopped at the end of the message
  EXPECT_EQ(Codes(server.output()), "220 250 250 250 354");  // no 250 before durability
  EXPECT_EQ(server.TakeAction(), Action::kCommit);
  EXPECT_EQ(server.Feed("NOOP\r\n"), 0u);  // still pending
  server.OnCommitted(absl::OkStatus());
  EXPECT_EQ(server.Feed(input.substr(used)), 6u);
  EXPECT_EQ(Codes(server.output()), "220 250 250 250 354 250 250");
  EXPECT_EQ(sink.body, "hello\r\n");
}

TEST(ServerProtocol, CommitFailureMapsStatus) {
  const std::string script = WithEnvelope("DATA\r\nx\r\n.\r\n");
  EXPECT_EQ(Codes(Play(script, 100, TestConfig(), absl::ResourceExhaustedError("disk")).output),
            "220 250 250 250 354 452");
  EXPECT_EQ(Codes(Play(script, 100, TestConfig(), absl::UnavailableError("io")).output),
            "220 250 250 250 354 451");
}

TEST(ServerProtocol, ErrorCounterCloses) {
  ServerConfig config = TestConfig();
  config.errors_max = 3;
  const Result r = RunAllChunkings("A\r\nB\r\nNOOP\r\nC\r\nNOOP\r\n", config);
  EXPECT_EQ(Codes(r.output), "220 500 500 250 500 421");
  EXPECT_TRUE(r.closed);
}

class DenyRelay : public RecipientPolicy {
 public:
  absl::Status CheckRecipient(const Envelope&, const Recipient& recipient) override {
    if (recipient.mailbox.find("@local.example") != std::string::npos) return absl::OkStatus();
    return absl::PermissionDeniedError("relay");
  }
};

TEST(ServerProtocol, RecipientPolicyRefusal) {
  FakeSink sink;
  DenyRelay policy;
  ServerProtocol server(TestConfig(), &sink, PeerInfo{"192.0.2.1", false}, &policy);
  server.Start();
  server.Feed("EHLO c\r\nMAIL FROM:<a@b.c>\r\nRCPT TO:<x@far.example>\r\nRCPT TO:<y@local.example>\r\n");
  EXPECT_EQ(Codes(server.output()), "220 250 250 554 250");
  EXPECT_NE(server.output().find("554 5.7.1"), std::string::npos);
}

TEST(ServerProtocol, RelayProbingHitsErrorLimit) {
  FakeSink sink;
  DenyRelay policy;
  ServerConfig config = TestConfig();
  config.errors_max = 3;
  ServerProtocol server(config, &sink, PeerInfo{"192.0.2.1", false}, &policy);
  server.Start();
  server.Feed("EHLO c\r\nMAIL FROM:<a@b.c>\r\nRCPT TO:<x@a.example>\r\n"
              "RCPT TO:<x@b.example>\r\nRCPT TO:<x@c.example>\r\nRCPT TO:<y@local.example>\r\n");
  EXPECT_EQ(Codes(server.output()), "220 250 250 554 554 554 421");
  EXPECT_TRUE(server.closed());
}

TEST(ServerProtocol, StartTlsDiscardsPipelinedPlaintext) {
  ServerConfig config = TestConfig();
  config.advertise_starttls = true;
  FakeSink sink;
  ServerProtocol server(config, &sink, PeerInfo{"192.0.2.1", false});
  server.Start();
  const std::string input = "EHLO c\r\nSTARTTLS\r\nMAIL FROM:<inject@evil.example>\r\nRCPT TO:<";
  EXPECT_EQ(server.Feed(input), input.size());
  EXPECT_EQ(Codes(server.output()), "220 250 220");
  EXPECT_EQ(server.TakeAction(), Action::kStartTls);
  EXPECT_EQ(server.Feed("more plaintext\r\n"), 16u);  // still discarded
  server.output().clear();
  server.OnTlsEstablished();
  server.Feed("MAIL FROM:<a@b.c>\r\nEHLO c\r\nSTARTTLS\r\n");
  EXPECT_EQ(Codes(server.output()), "503 250 503");  // new EHLO needed; TLS only once
  EXPECT_EQ(server.output().find("STARTTLS\r\n"), std::string::npos);  // not re-advertised
}

TEST(ServerProtocol, StartTlsNotOffered) {
  EXPECT_EQ(Codes(Play("EHLO c\r\nSTARTTLS\r\n", 100).output), "220 250 502");
  ServerConfig config = TestConfig();
  config.advertise_starttls = true;
  EXPECT_EQ(Codes(Play("EHLO c\r\nSTARTTLS now\r\n", 100, config).output), "220 250 501");
}

// The AUTH exchange is tested in server_auth_test.cc; without an
// Authenticator, AUTH is never available, whatever the config says.
TEST(ServerProtocol, AuthWithoutAuthenticatorIsNotAvailable) {
  EXPECT_EQ(Codes(Play("EHLO c\r\nAUTH PLAIN\r\n", 100).output), "220 250 502");
  ServerConfig config = TestConfig();
  config.auth_enabled = true;
  config.auth_plaintext_allowed = true;
  const Result r = Play("EHLO c\r\nAUTH PLAIN\r\n", 100, config);
  EXPECT_EQ(Codes(r.output), "220 250 502");
  EXPECT_EQ(r.output.find("AUTH PLAIN LOGIN"), std::string::npos);
}

TEST(ServerProtocol, TimeoutDuringDataAbortsAndCloses) {
  FakeSink sink;
  ServerProtocol server(TestConfig(), &sink, PeerInfo{"192.0.2.1", false});
  server.Start();
  server.Feed(WithEnvelope("DATA\r\npartial body"));
  EXPECT_TRUE(sink.open);
  server.OnTimeout();
  EXPECT_EQ(sink.aborts, 1);
  EXPECT_TRUE(server.closed());
  EXPECT_EQ(server.TakeAction(), Action::kClose);
  EXPECT_NE(server.output().find("421 4.4.2"), std::string::npos);
  EXPECT_EQ(server.Feed("NOOP\r\n"), 6u);
  server.OnShutdown();  // no second 421
  EXPECT_EQ(Codes(server.output()), "220 250 250 250 354 421");
}

TEST(ServerProtocol, ShutdownWhileCommitPending) {
  FakeSink sink;
  ServerProtocol server(TestConfig(), &sink, PeerInfo{"192.0.2.1", false});
  server.Start();
  server.Feed(WithEnvelope("DATA\r\nx\r\n.\r\n"));
  EXPECT_EQ(server.TakeAction(), Action::kCommit);
  sink.open = false;  // the queue owns the message now
  server.OnShutdown();
  server.OnCommitted(absl::OkStatus());  // arrives late: ignored
  EXPECT_EQ(Codes(server.output()), "220 250 250 250 354 421");
  EXPECT_EQ(sink.aborts, 0);
}

TEST(ServerProtocol, OutputBoundStopsConsuming) {
  FakeSink sink;
  ServerProtocol server(TestConfig(), &sink, PeerInfo{"192.0.2.1", false});
  server.Start();
  std::string input;
  // EHLO: neither an error nor junk, and its reply is many times its size.
  for (int i = 0; i < 10000; ++i) input += "EHLO c\r\n";
  const size_t used = server.Feed(input);
  EXPECT_LT(used, input.size());
  EXPECT_LE(server.output().size(), 64u * 1024 + 64);
  server.output().clear();
  EXPECT_GT(server.Feed(std::string_view(input).substr(used)), 0u);
}

TEST(ServerProtocol, TlsFlagAfterHandshake) {
  ServerConfig config = TestConfig();
  config.advertise_starttls = true;
  FakeSink sink;
  ServerProtocol server(config, &sink, PeerInfo{"192.0.2.1", false});
  server.Start();
  server.Feed("EHLO c\r\nSTARTTLS\r\n");
  EXPECT_EQ(server.TakeAction(), Action::kStartTls);
  server.OnTlsEstablished();
  server.Feed("EHLO c\r\nMAIL FROM:<a@b.c>\r\nRCPT TO:<d@e.f>\r\nDATA\r\nx\r\n.\r\n");
  EXPECT_EQ(server.TakeAction(), Action::kCommit);
  EXPECT_TRUE(sink.envelope.tls);
}

TEST(ServerProtocol, DestructorAbortsOpenMessage) {
  FakeSink sink;
  {
    ServerProtocol server(TestConfig(), &sink, PeerInfo{"192.0.2.1", false});
    server.Start();
    server.Feed(WithEnvelope("DATA\r\nhalf a messa"));
    EXPECT_TRUE(sink.open);
  }
  EXPECT_EQ(sink.aborts, 1);
}

TEST(ServerProtocol, FeedBeforeStartIsABug) {
  FakeSink sink;
  ServerProtocol server(TestConfig(), &sink, PeerInfo{"192.0.2.1", false});
  EXPECT_DEATH(server.Feed("NOOP\r\n"), "");
}

TEST(ServerProtocol, TransactionsPerConnectionBounded) {
  ServerConfig config = TestConfig();
  config.transactions_max = 2;
  const Result r = RunAllChunkings(
      "EHLO c\r\nMAIL FROM:<a@b.c>\r\nRSET\r\nMAIL FROM:<a@b.c>\r\nRSET\r\n"
      "MAIL FROM:<a@b.c>\r\nNOOP\r\n", config);
  EXPECT_EQ(Codes(r.output), "220 250 250 250 250 250 421");
  EXPECT_TRUE(r.closed);
}

}  // namespace
}  // namespace ringmta::smtp
