// Tests for the server's defences against clients that are not sending mail:
// the junk-command counter (apart from the error counter), the immediate end
// of an HTTP request aimed at the SMTP port, the input stage the I/O layer
// picks its timeout by, and the TLS details carried into the envelope.
#include <string>

#include <gtest/gtest.h>

#include "mta/smtp/command.h"
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

ServerConfig JunkConfig(int junk_commands_max) {
  ServerConfig config = TestConfig();
  config.junk_commands_max = junk_commands_max;
  return config;
}

// MAIL and RCPT (after an EHLO given elsewhere), then `rest`.
std::string Transaction(std::string_view rest) {
  return "MAIL FROM:<a@x.example>\r\nRCPT TO:<b@y.example>\r\n" + std::string(rest);
}

std::string Repeat(std::string_view line, int times) {
  std::string out;
  for (int i = 0; i < times; ++i) out += line;
  return out;
}

TEST(ServerJunk, NoopFloodPastTheLimitCloses) {
  const Result r = RunAllChunkings("EHLO c\r\n" + Repeat("NOOP\r\n", 7), JunkConfig(5));
  EXPECT_EQ(Codes(r.output), "220 250 250 250 250 250 250 421");
  EXPECT_NE(r.output.find("421 4.7.0 mx.example Error: too many junk commands\r\n"),
            std::string::npos);
  EXPECT_TRUE(r.closed);
}

TEST(ServerJunk, UpToTheLimitIsFine) {
  const Result r = RunAllChunkings("EHLO c\r\n" + Repeat("NOOP\r\n", 5), JunkConfig(5));
  EXPECT_EQ(Codes(r.output), "220 250 250 250 250 250 250");
  EXPECT_FALSE(r.closed);
}

TEST(ServerJunk, EveryJunkVerbCounts) {
  const Result r = RunAllChunkings(
      "EHLO c\r\nRSET\r\nVRFY postmaster\r\nEXPN list\r\nHELP\r\nNOOP\r\nRSET\r\n", JunkConfig(5));
  EXPECT_EQ(Codes(r.output), "220 250 250 252 502 214 250 421");
  EXPECT_TRUE(r.closed);
}

TEST(ServerJunk, MailCommandsAreNotJunk) {
  // Of the ten commands before the NOOPs only the three RSETs are junk.
  const Result r = Play("EHLO c\r\n" + Repeat("EHLO c\r\nMAIL FROM:<a@b.c>\r\nRSET\r\n", 3) +
                            "NOOP\r\nNOOP\r\n",
                        1000, JunkConfig(4));
  EXPECT_EQ(Codes(r.output), "220 250 250 250 250 250 250 250 250 250 250 250 421");
}

TEST(ServerJunk, AcceptedMessageRenewsTheAllowance) {
  const std::string script = "EHLO c\r\nNOOP\r\nNOOP\r\nNOOP\r\n" +
                             Transaction("DATA\r\nx\r\n.\r\n") +
                             "NOOP\r\nNOOP\r\nNOOP\r\nNOOP\r\n";
  const Result r = RunAllChunkings(script, JunkConfig(3));
  // Three before the message, three after it are fine; the fourth is not.
  EXPECT_EQ(Codes(r.output), "220 250 250 250 250 250 250 354 250 250 250 250 421");
  ASSERT_EQ(r.bodies.size(), 1u);
}

TEST(ServerJunk, RefusedMessageDoesNotRenewTheAllowance) {
  const std::string script =
      "EHLO c\r\nNOOP\r\nNOOP\r\n" + Transaction("DATA\r\nx\r\n.\r\n") + "NOOP\r\n";
  const Result r = Play(script, 1000, JunkConfig(2), absl::UnavailableError("disk"));
  EXPECT_EQ(Codes(r.output), "220 250 250 250 250 250 354 451 421");
  EXPECT_TRUE(r.closed);
}

TEST(ServerJunk, UnknownVerbsCountTowardBothLimits) {
  ServerConfig config = JunkConfig(3);
  const Result junk = RunAllChunkings(Repeat("XYZZY\r\n", 4), config);
  EXPECT_EQ(Codes(junk.output), "220 500 500 500 421");
  EXPECT_NE(junk.output.find("too many junk commands"), std::string::npos);

  config = JunkConfig(100);
  config.errors_max = 2;
  const Result errors = RunAllChunkings(Repeat("XYZZY\r\n", 4), config);
  EXPECT_EQ(Codes(errors.output), "220 500 500 421");
  EXPECT_NE(errors.output.find("too many errors"), std::string::npos);
}

TEST(ServerJunk, ErrorsThatAreNotJunkLeaveTheJunkCounterAlone) {
  const Result r = RunAllChunkings(
      "EHLO c\r\n" + Repeat("MAIL FROM:nobrackets\r\n", 5) + "NOOP\r\nNOOP\r\n", JunkConfig(1));
  EXPECT_EQ(Codes(r.output), "220 250 501 501 501 501 501 250 421");
}

TEST(ServerJunk, HttpRequestEndsTheSessionAtOnce) {
  const Result r = RunAllChunkings(
      "GET / HTTP/1.1\r\nHost: mx.example\r\nUser-Agent: probe\r\n\r\n");
  EXPECT_EQ(Codes(r.output), "220 421");
  EXPECT_NE(r.output.find("421 4.7.0 "), std::string::npos) << r.output;
  EXPECT_TRUE(r.closed);
}

TEST(ServerJunk, EveryHttpMethodIsRecognisedAfterEhloToo) {
  for (const char* line : {"POST /cgi HTTP/1.0", "CONNECT mx.example:25 HTTP/1.1",
                           "head / HTTP/1.1", "PUT /x HTTP/1.1", "OPTIONS * HTTP/1.1"}) {
    const Result r = Play(std::string("EHLO c\r\n") + line + "\r\nNOOP\r\n", 1000);
    EXPECT_EQ(Codes(r.output), "220 250 421") << line;
    EXPECT_TRUE(r.closed) << line;
  }
}

TEST(ServerJunk, HttpInsideDataIsJustBody) {
  const Result r = RunAllChunkings(WithEnvelope("DATA\r\nGET / HTTP/1.1\r\n.\r\nQUIT\r\n"));
  EXPECT_EQ(Codes(r.output), "220 250 250 250 354 250 221");
  ASSERT_EQ(r.bodies.size(), 1u);
  EXPECT_EQ(r.bodies[0], "GET / HTTP/1.1\r\n");
}

TEST(ServerJunk, LooksLikeHttpRequestNeedsAMethodAndASpace) {
  EXPECT_TRUE(LooksLikeHttpRequest("GET / HTTP/1.1"));
  EXPECT_TRUE(LooksLikeHttpRequest("delete /x"));
  EXPECT_FALSE(LooksLikeHttpRequest("GET"));
  EXPECT_FALSE(LooksLikeHttpRequest("GETX / HTTP/1.1"));
  EXPECT_FALSE(LooksLikeHttpRequest("HELO GET"));
  EXPECT_FALSE(LooksLikeHttpRequest(""));
}

TEST(ServerInputStage, BodyInsideDataAndBdatOnly) {
  FakeSink sink;
  ServerProtocol server(TestConfig(), &sink, PeerInfo("192.0.2.1"));
  server.Start();
  EXPECT_EQ(server.input_stage(), InputStage::kCommand);
  server.Feed(WithEnvelope("DATA\r\nhalf"));
  EXPECT_EQ(server.input_stage(), InputStage::kBody);
  server.Feed(" a body\r\n.\r\n");
  EXPECT_EQ(server.TakeAction(), Action::kCommit);
  sink.open = false;
  server.OnCommitted(absl::OkStatus());
  EXPECT_EQ(server.input_stage(), InputStage::kCommand);
  server.Feed("MAIL FROM:<a@b.c>\r\nRCPT TO:<d@e.f>\r\nBDAT 10\r\n12345");
  EXPECT_EQ(server.input_stage(), InputStage::kBody);
  server.Feed("67890");
  EXPECT_EQ(server.input_stage(), InputStage::kCommand);  // waiting for the next BDAT
  server.OnTimeout();
  EXPECT_EQ(server.TakeAction(), Action::kClose);
  EXPECT_NE(server.output().find("421 4.4.2 mx.example Error: timeout exceeded\r\n"),
            std::string::npos);
}

TEST(ServerTlsInfo, StartTlsDetailsReachTheEnvelope) {
  ServerConfig config = TestConfig();
  config.advertise_starttls = true;
  FakeSink sink;
  ServerProtocol server(config, &sink, PeerInfo("192.0.2.1"));
  server.Start();
  server.Feed("EHLO c\r\nSTARTTLS\r\n");
  EXPECT_EQ(server.TakeAction(), Action::kStartTls);
  server.OnTlsEstablished(TlsInfo{"TLSv1.3", "TLS_AES_128_GCM_SHA256"});
  server.Feed(WithEnvelope("DATA\r\n"));
  EXPECT_TRUE(sink.envelope.tls);
  EXPECT_EQ(sink.envelope.tls_version, "TLSv1.3");
  EXPECT_EQ(sink.envelope.tls_cipher, "TLS_AES_128_GCM_SHA256");
}

TEST(ServerTlsInfo, ImplicitTlsOffersAuthButNotStartTls) {
  ServerConfig config = TestConfig();
  config.advertise_starttls = true;  // even if asked: TLS is already on
  config.auth_enabled = true;
  struct AcceptAll : Authenticator {
    absl::Status Check(std::string_view, std::string_view) override { return absl::OkStatus(); }
  } authenticator;
  FakeSink sink;
  ServerProtocol server(config, &sink, PeerInfo("192.0.2.1", true, {"TLSv1.2", "ECDHE-X"}),
                        nullptr, &authenticator);
  server.Start();
  server.Feed("EHLO c\r\nSTARTTLS\r\n");
  EXPECT_EQ(server.output().find("STARTTLS\r\n"), std::string::npos);
  EXPECT_NE(server.output().find("250 AUTH PLAIN LOGIN\r\n"), std::string::npos) << server.output();
  EXPECT_NE(server.output().find("503 5.5.1 Error: TLS already active\r\n"), std::string::npos);
  server.Feed(Transaction("DATA\r\n"));
  EXPECT_EQ(sink.envelope.tls_version, "TLSv1.2");
  EXPECT_EQ(sink.envelope.tls_cipher, "ECDHE-X");
}

TEST(ServerTlsInfo, NoDetailsWithoutTls) {
  const Result r = Play(WithEnvelope("DATA\r\nx\r\n.\r\n"), 1000);
  ASSERT_EQ(r.envelopes.size(), 1u);
  EXPECT_FALSE(r.envelopes[0].tls);
  EXPECT_TRUE(r.envelopes[0].tls_version.empty());
  EXPECT_TRUE(r.envelopes[0].tls_cipher.empty());
}

}  // namespace
}  // namespace ringmta::smtp
