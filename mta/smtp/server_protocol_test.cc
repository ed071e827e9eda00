// Tests for the server state machine: greeting, EHLO/HELO, MAIL/RCPT/DATA and
// their errors. Each script is played whole and in small chunks
// (RunAllChunkings) to prove the replies do not depend on chunking.
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

TEST(ServerProtocol, Greeting) {
  FakeSink sink;
  ServerProtocol server(TestConfig(), &sink, PeerInfo{"192.0.2.1", false});
  server.Start();
  EXPECT_EQ(server.output(), "220 mx.example ESMTP ringmta\r\n");
  EXPECT_EQ(server.TakeAction(), Action::kNone);
}

TEST(ServerProtocol, EhloAdvertisesExtensions) {
  const Result r = Play("EHLO c\r\n", 100);
  EXPECT_EQ(r.output,
            "220 mx.example ESMTP ringmta\r\n"
            "250-mx.example\r\n250-PIPELINING\r\n250-SIZE 1000\r\n250-8BITMIME\r\n"
            "250-ENHANCEDSTATUSCODES\r\n250-SMTPUTF8\r\n250-CHUNKING\r\n250 DSN\r\n");
  ServerConfig config = TestConfig();
  config.advertise_starttls = true;
  const Result tls = Play("EHLO c\r\n", 100, config);
  EXPECT_NE(tls.output.find("250-DSN\r\n250 STARTTLS\r\n"), std::string::npos);
  // AUTH's advertisement is tested in server_auth_test.cc.
}

TEST(ServerProtocol, HeloIsPlainSmtp) {
  const Result r = RunAllChunkings(
      "HELO c\r\nMAIL FROM:<a@x.example> SIZE=10\r\nMAIL FROM:<a@x.example>\r\n");
  EXPECT_EQ(Codes(r.output), "220 250 555 250");
  EXPECT_NE(r.output.find("250 mx.example\r\n"), std::string::npos);
}

TEST(ServerProtocol, HelloNeedsArgument) {
  EXPECT_EQ(Codes(Play("EHLO\r\nHELO \r\n", 100).output), "220 501 501");
}

TEST(ServerProtocol, FullTransactionAnyChunking) {
  const Result r = RunAllChunkings(WithEnvelope(
      "RCPT TO:<c@y.example>\r\nDATA\r\nSubject: hi\r\n\r\n..dot\r\nbody\r\n.\r\nQUIT\r\n"));
  EXPECT_EQ(Codes(r.output), "220 250 250 250 250 354 250 221");
  ASSERT_EQ(r.bodies.size(), 1u);
  EXPECT_EQ(r.bodies[0], "Subject: hi\r\n\r\n.dot\r\nbody\r\n");
  EXPECT_EQ(r.envelopes[0].mail_from, "a@x.example");
  ASSERT_EQ(r.envelopes[0].recipients.size(), 2u);
  EXPECT_EQ(r.envelopes[0].recipients[1].mailbox, "c@y.example");
  EXPECT_EQ(r.envelopes[0].helo, "client.example");
  EXPECT_TRUE(r.envelopes[0].esmtp);
  EXPECT_TRUE(r.closed);
}

TEST(ServerProtocol, TwoMessagesOnOneConnection) {
  const Result r = RunAllChunkings(WithEnvelope(
      "DATA\r\none\r\n.\r\nMAIL FROM:<>\r\nRCPT TO:<Postmaster>\r\nDATA\r\ntwo\r\n.\r\n"));
  EXPECT_EQ(Codes(r.output), "220 250 250 250 354 250 250 250 354 250");
  ASSERT_EQ(r.bodies.size(), 2u);
  EXPECT_EQ(r.bodies[1], "two\r\n");
  EXPECT_EQ(r.envelopes[1].mail_from, "");
  EXPECT_EQ(r.envelopes[1].recipients[0].mailbox, "Postmaster");
}

TEST(ServerProtocol, SequenceErrors) {
  EXPECT_EQ(Codes(Play("MAIL FROM:<a@b.c>\r\n", 100).output), "220 503");
  EXPECT_EQ(Codes(Play("EHLO c\r\nRCPT TO:<a@b.c>\r\n", 100).output), "220 250 503");
  EXPECT_EQ(Codes(Play("EHLO c\r\nDATA\r\n", 100).output), "220 250 503");
  EXPECT_EQ(Codes(Play("EHLO c\r\nMAIL FROM:<a@b.c>\r\nDATA\r\n", 100).output), "220 250 250 503");
  EXPECT_EQ(Codes(Play("EHLO c\r\nMAIL FROM:<a@b.c>\r\nRCPT TO:<>\r\nDATA\r\n", 100).output),
            "220 250 250 501 554");  // RFC 5321 §3.3: all recipients refused
  EXPECT_EQ(Codes(Play("EHLO c\r\nMAIL FROM:<a@b.c>\r\nMAIL FROM:<a@b.c>\r\n", 100).output),
            "220 250 250 503");
  EXPECT_EQ(Codes(Play(WithEnvelope("DATA now\r\n"), 100).output), "220 250 250 250 501");
}

TEST(ServerProtocol, SyntaxErrors) {
  const Result r = RunAllChunkings(
      "EHLO c\r\nMAIL FROM:a@b.c\r\nMAIL FROM:<a..b@c>\r\nMAIL FROM:<a@b.c>\r\n"
      "RCPT TO:<>\r\nRCPT <x@y.z>\r\nRSET now\r\nQUIT now\r\nVRFY\r\n");
  EXPECT_EQ(Codes(r.output), "220 250 501 501 250 501 501 501 501 501");
  EXPECT_NE(r.output.find("501 5.1.7"), std::string::npos);
  EXPECT_NE(r.output.find("501 5.1.3"), std::string::npos);
}

TEST(ServerProtocol, UnknownAndMalformedCommands) {
  const Result r = RunAllChunkings("XYZZY\r\nNOOP \x01\r\n" + std::string(600, 'A') + "\r\nNOOP\r\n");
  EXPECT_EQ(Codes(r.output), "220 500 500 500 250");
  EXPECT_NE(r.output.find("500 5.5.2 Line too long"), std::string::npos);
}

TEST(ServerProtocol, BareLfCommandPerPolicy) {
  EXPECT_EQ(Codes(Play("NOOP\nNOOP\r\n", 100).output), "220 500 250");
  ServerConfig config = TestConfig();
  config.bare_line_policy = BareLinePolicy::kNormalize;
  EXPECT_EQ(Codes(Play("NOOP\nNOOP\r\n", 100, config).output), "220 250 250");
}

TEST(ServerProtocol, SimpleCommands) {
  const Result r = RunAllChunkings("NOOP hello\r\nVRFY bob\r\nEXPN list\r\nHELP\r\nRSET\r\n");
  EXPECT_EQ(Codes(r.output), "220 250 252 502 214 250");
}

TEST(ServerProtocol, QuitClosesAndIgnoresTheRest) {
  const Result r = RunAllChunkings("QUIT\r\nNOOP\r\n");
  EXPECT_EQ(Codes(r.output), "220 221");
  EXPECT_TRUE(r.closed);
}

TEST(ServerProtocol, RsetAndEhloEndTheTransaction) {
  EXPECT_EQ(Codes(Play(WithEnvelope("RSET\r\nRCPT TO:<b@y.example>\r\n"), 100).output),
            "220 250 250 250 250 503");
  EXPECT_EQ(Codes(Play(WithEnvelope("EHLO again\r\nDATA\r\n"), 100).output),
            "220 250 250 250 250 503");
}

TEST(ServerProtocol, UnknownParameterIs555) {
  EXPECT_EQ(Codes(Play("EHLO c\r\nMAIL FROM:<a@b.c> FOO=1\r\n", 100).output), "220 250 555");
  EXPECT_EQ(Codes(Play(WithEnvelope("RCPT TO:<c@d.e> BAR\r\n"), 100).output),
            "220 250 250 250 555");
}

TEST(ServerProtocol, DeclaredSizeOverLimitIs552) {
  const Result r = Play("EHLO c\r\nMAIL FROM:<a@b.c> SIZE=1001\r\nMAIL FROM:<a@b.c> SIZE=1000\r\n", 100);
  EXPECT_EQ(Codes(r.output), "220 250 552 250");
}

TEST(ServerProtocol, SizeEnforcedWhileStreaming) {
  FakeSink sink;
  const std::string big = std::string(900, 'x') + "\r\n" + std::string(200, 'y') + "\r\n";
  const Result r = Play(WithEnvelope("DATA\r\n" + big + ".\r\nNOOP\r\n"), 64, TestConfig(),
                       absl::OkStatus(), &sink);
  EXPECT_EQ(Codes(r.output), "220 250 250 250 354 552 250");
  EXPECT_TRUE(r.bodies.empty());
  EXPECT_EQ(sink.aborts, 1);
  EXPECT_LE(sink.body.size(), 1000u);  // never more than the limit passed on
}

TEST(ServerProtocol, TooManyRecipients) {
  ServerConfig config = TestConfig();
  config.recipients_max = 2;
  const Result r = RunAllChunkings(
      WithEnvelope("RCPT TO:<c@y.example>\r\nRCPT TO:<d@y.example>\r\nDATA\r\nx\r\n.\r\n"), config);
  EXPECT_EQ(Codes(r.output), "220 250 250 250 250 452 354 250");
  EXPECT_NE(r.output.find("452 4.5.3"), std::string::npos);
  EXPECT_EQ(r.envelopes[0].recipients.size(), 2u);
}

TEST(ServerProtocol, BareLfInDataRejectedNeverPassedOn) {
  FakeSink sink;
  const Result r = Play(WithEnvelope("DATA\r\nok\r\nevil\n.\nMAIL FROM:<x@y.z>\r\n.\r\nNOOP\r\n"),
                       1000, TestConfig(), absl::OkStatus(), &sink);
  // The smuggled "MAIL" is body, not a command; the message is refused.
  EXPECT_EQ(Codes(r.output), "220 250 250 250 354 550 250");
  EXPECT_NE(r.output.find("550 5.6.0"), std::string::npos);
  EXPECT_TRUE(r.bodies.empty());
  EXPECT_EQ(sink.aborts, 1);
  EXPECT_EQ(RunAllChunkings(WithEnvelope("DATA\r\nevil\r.\rx\r\n.\r\n")).bodies.size(), 0u);
}

TEST(ServerProtocol, BareLfInDataNormalized) {
  ServerConfig config = TestConfig();
  config.bare_line_policy = BareLinePolicy::kNormalize;
  const Result r = RunAllChunkings(WithEnvelope("DATA\r\na\nb\r\n.\r\n"), config);
  ASSERT_EQ(r.bodies.size(), 1u);
  EXPECT_EQ(r.bodies[0], "a\r\nb\r\n");
}

TEST(ServerProtocol, NulInDataRejected) {
  const Result r = Play(WithEnvelope(std::string("DATA\r\na\0b\r\n.\r\n", 14)), 100);
  EXPECT_EQ(Codes(r.output), "220 250 250 250 354 550");
}

TEST(ServerProtocol, Smtputf8) {
  const std::string utf8_rcpt = "RCPT TO:<j\xc3\xb6rg@b\xc3\xbc" "cher.example>\r\n";
  EXPECT_EQ(Codes(Play("EHLO c\r\nMAIL FROM:<a@b.c>\r\n" + utf8_rcpt, 100).output),
            "220 250 250 553");
  EXPECT_EQ(Codes(Play("EHLO c\r\nMAIL FROM:<\xc3\xa9@b.c>\r\n", 100).output), "220 250 553");
  const Result r = Play("EHLO c\r\nMAIL FROM:<a@b.c> SMTPUTF8 BODY=8BITMIME\r\n" + utf8_rcpt +
                           "DATA\r\nx\r\n.\r\n", 100);
  EXPECT_EQ(Codes(r.output), "220 250 250 250 354 250");
  EXPECT_TRUE(r.envelopes[0].smtputf8);
  EXPECT_EQ(r.envelopes[0].body, BodyType::k8BitMime);
}

TEST(ServerProtocol, DsnParametersKeptOnEnvelope) {
  const Result r = Play(
      "EHLO c\r\nMAIL FROM:<a@b.c> RET=HDRS ENVID=abc+2B\r\n"
      "RCPT TO:<d@e.f> NOTIFY=FAILURE,DELAY ORCPT=rfc822;d@e.f\r\nDATA\r\nx\r\n.\r\n", 100);
  ASSERT_EQ(r.envelopes.size(), 1u);
  EXPECT_EQ(r.envelopes[0].ret, DsnRet::kHeaders);
  EXPECT_EQ(r.envelopes[0].envid, "abc+2B");
  EXPECT_EQ(r.envelopes[0].recipients[0].notify, kNotifyFailure | kNotifyDelay);
  EXPECT_EQ(r.envelopes[0].recipients[0].orcpt, "rfc822;d@e.f");
}

TEST(ServerProtocol, SinkRefusesBegin) {
  FakeSink sink;
  sink.begin_status = absl::ResourceExhaustedError("high-water mark");
  Result r = Play(WithEnvelope("DATA\r\nNOOP\r\n"), 100, TestConfig(), absl::OkStatus(), &sink);
  EXPECT_EQ(Codes(r.output), "220 250 250 250 452 250");
  EXPECT_NE(r.output.find("452 4.3.1"), std::string::npos);
  FakeSink bdat_sink;
  bdat_sink.begin_status = absl::ResourceExhaustedError("high-water mark");
  r = Play(WithEnvelope("BDAT 6\r\nNOOP\r\nNOOP\r\n"), 100, TestConfig(), absl::OkStatus(),
          &bdat_sink);
  EXPECT_EQ(Codes(r.output), "220 250 250 250 452 250");
}

TEST(ServerProtocol, SinkAppendFailure) {
  FakeSink sink;
  sink.append_status = absl::UnavailableError("disk");
  const Result r = Play(WithEnvelope("DATA\r\nline\r\n.\r\n"), 100, TestConfig(), absl::OkStatus(),
                       &sink);
  EXPECT_EQ(Codes(r.output), "220 250 250 250 354 451");
  EXPECT_EQ(sink.aborts, 1);
  EXPECT_TRUE(r.bodies.empty());
}

TEST(ServerProtocol, EnvelopeCarriesSessionFacts) {
  const Result r = Play("EHLO bad\xffname\r\nMAIL FROM:<a@b.c>\r\nRCPT TO:<d@e.f>\r\nDATA\r\n.\r\n",
                        100);
  EXPECT_EQ(Codes(r.output), "220 250 250 250 354 250");
  ASSERT_EQ(r.envelopes.size(), 1u);
  EXPECT_EQ(r.envelopes[0].client_address, "192.0.2.1");
  EXPECT_EQ(r.envelopes[0].helo, "bad\\xffname");  // printable for Received:
  EXPECT_FALSE(r.envelopes[0].tls);
  EXPECT_EQ(r.bodies[0], "");
}

TEST(ServerProtocol, LineBoundFromConfig) {
  ServerConfig config = TestConfig();
  config.command_line_bytes_max = 20;
  EXPECT_EQ(Codes(Play("NOOP 12345678901234\r\nNOOP 1234567890123\r\n", 100, config).output),
            "220 500 250");
}

TEST(ServerProtocol, NoopAndVrfyKeepTheTransaction) {
  const Result r = RunAllChunkings(WithEnvelope("NOOP\r\nVRFY x\r\nHELP\r\nDATA\r\nx\r\n.\r\n"));
  EXPECT_EQ(Codes(r.output), "220 250 250 250 250 252 214 354 250");
  EXPECT_EQ(r.bodies.size(), 1u);
}

}  // namespace
}  // namespace ringmta::smtp
