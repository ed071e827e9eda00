#include "mta/smtp/server_protocol.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace ringmta::smtp {
namespace {

class FakeSink : public MessageSink {
 public:
  absl::Status Begin(const Envelope& envelope) override {
    EXPECT_FALSE(open) << "Begin while a message is open";
    ++begins;
    this->envelope = envelope;
    body.clear();
    if (!begin_status.ok()) return begin_status;
    open = true;
    return absl::OkStatus();
  }
  absl::Status Append(std::string_view bytes) override {
    EXPECT_TRUE(open) << "Append outside a message";
    body.append(bytes.data(), bytes.size());
    return append_status;
  }
  void Abort() override {
    EXPECT_TRUE(open) << "Abort outside a message";
    open = false;
    ++aborts;
  }

  absl::Status begin_status;
  absl::Status append_status;
  int begins = 0;
  int aborts = 0;
  bool open = false;
  Envelope envelope;
  std::string body;
};

struct Result {
  std::string output;
  std::vector<std::string> bodies;  // committed messages
  std::vector<Envelope> envelopes;
  bool closed = false;
  int aborts = 0;
};

ServerConfig TestConfig() {
  ServerConfig config;
  config.hostname = "mx.example";
  config.message_bytes_max = 1000;
  return config;
}

// Plays `input` to a server in chunks of `chunk` bytes, as the I/O layer
// would: re-feeding unconsumed bytes, committing on kCommit.
Result Play(std::string_view input, size_t chunk, const ServerConfig& config = TestConfig(),
           absl::Status commit_status = absl::OkStatus(), FakeSink* sink = nullptr) {
  FakeSink local_sink;
  if (sink == nullptr) sink = &local_sink;
  ServerProtocol server(config, sink, PeerInfo{"192.0.2.1", false});
  server.Start();
  Result result;
  std::string pending;
  size_t at = 0;
  while (true) {
    const size_t used = server.Feed(pending);
    pending.erase(0, used);
    result.output += server.output();
    server.output().clear();
    const Action action = server.TakeAction();
    if (action == Action::kClose) break;
    if (action == Action::kCommit) {
      EXPECT_TRUE(sink->open);
      sink->open = false;
      result.bodies.push_back(sink->body);
      result.envelopes.push_back(sink->envelope);
      server.OnCommitted(commit_status);
      continue;
    }
    EXPECT_NE(action, Action::kStartTls);  // STARTTLS is tested step by step
    if (!pending.empty() && used > 0) continue;
    if (at >= input.size()) break;
    pending.append(input.substr(at, chunk));
    at += chunk;
  }
  result.output += server.output();
  result.closed = server.closed();
  result.aborts = sink->aborts;
  return result;
}

// The reply codes in order, one per reply ("250-" continuation lines skipped).
std::string Codes(std::string_view output) {
  std::string codes;
  while (!output.empty()) {
    const size_t end = output.find("\r\n");
    const std::string_view line = output.substr(0, end);
    if (line.size() < 4 || line[3] != '-') {
      if (!codes.empty()) codes += ' ';
      codes += std::string(line.substr(0, 3));
    }
    if (end == std::string_view::npos) break;
    output.remove_prefix(end + 2);
  }
  return codes;
}

// Runs the script whole and in every listed chunk size; all must agree.
Result RunAllChunkings(std::string_view input, const ServerConfig& config = TestConfig()) {
  const Result whole = Play(input, input.size() + 1, config);
  for (size_t chunk : {1, 2, 3, 5, 7, 13, 64}) {
    const Result split = Play(input, chunk, config);
    EXPECT_EQ(split.output, whole.output) << "chunk " << chunk;
    EXPECT_EQ(split.bodies, whole.bodies) << "chunk " << chunk;
    EXPECT_EQ(split.closed, whole.closed) << "chunk " << chunk;
  }
  return whole;
}

constexpr std::string_view kEnvelope =
    "EHLO client.example\r\nMAIL FROM:<a@x.example>\r\nRCPT TO:<b@y.example>\r\n";

std::string WithEnvelope(std::string_view rest) { return std::string(kEnvelope) + std::string(rest); }

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
  config.auth_enabled = true;
  const Result tls = Play("EHLO c\r\n", 100, config);
  EXPECT_NE(tls.output.find("250-STARTTLS\r\n250 AUTH PLAIN LOGIN\r\n"), std::string::npos);
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

TEST(ServerProtocol, SequenceErrors) {
  EXPECT_EQ(Codes(Play("MAIL FROM:<a@b.c>\r\n", 100).output), "220 503");
  EXPECT_EQ(Codes(Play("EHLO c\r\nRCPT TO:<a@b.c>\r\n", 100).output), "220 250 503");
  EXPECT_EQ(Codes(Play("EHLO c\r\nDATA\r\n", 100).output), "220 250 503");
  EXPECT_EQ(Codes(Play("EHLO c\r\nMAIL FROM:<a@b.c>\r\nDATA\r\n", 100).output), "220 250 250 554");
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

TEST(ServerProtocol, ErrorCounterCloses) {
  ServerConfig config = TestConfig();
  config.errors_max = 3;
  const Result r = RunAllChunkings("A\r\nB\r\nNOOP\r\nC\r\nNOOP\r\n", config);
  EXPECT_EQ(Codes(r.output), "220 500 500 250 500 421");
  EXPECT_TRUE(r.closed);
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

TEST(ServerProtocol, BdatChunksAnyChunking) {
  const Result r = RunAllChunkings(WithEnvelope("BDAT 7\r\nhello\r\nBDAT 6 LAST\r\n.end\r\nQUIT\r\n"));
  EXPECT_EQ(Codes(r.output), "220 250 250 250 250 250 221");
  EXPECT_NE(r.output.find("250 2.0.0 7 octets received"), std::string::npos);
  ASSERT_EQ(r.bodies.size(), 1u);
  EXPECT_EQ(r.bodies[0], "hello\r\n.end\r\n");  // no unstuffing in BDAT (RFC 3030)
}

TEST(ServerProtocol, BdatZeroLast) {
  const Result r = RunAllChunkings(WithEnvelope("BDAT 3\r\na\r\nBDAT 0 LAST\r\n"));
  EXPECT_EQ(Codes(r.output), "220 250 250 250 250 250");
  ASSERT_EQ(r.bodies.size(), 1u);
  EXPECT_EQ(r.bodies[0], "a\r\n");
  EXPECT_EQ(RunAllChunkings(WithEnvelope("BDAT 0 last\r\n")).bodies.size(), 1u);
}

TEST(ServerProtocol, RefusedBdatChunkIsSkippedNotParsed) {
  // Without MAIL the chunk is refused, but its bytes are never commands.
  const Result r = RunAllChunkings("EHLO c\r\nBDAT 12\r\nQUIT\r\nQUIT\r\nNOOP\r\n");
  EXPECT_EQ(Codes(r.output), "220 250 503 250");
  EXPECT_FALSE(r.closed);
}

TEST(ServerProtocol, BdatSyntax) {
  EXPECT_EQ(Codes(Play(WithEnvelope("BDAT\r\nBDAT x\r\nBDAT 1 FIRST\r\nBDAT -1\r\n"), 100).output),
            "220 250 250 250 501 501 501 501");
}

TEST(ServerProtocol, DataAfterBdatIs503) {
  const Result r = RunAllChunkings(WithEnvelope("BDAT 3\r\nabcDATA\r\nRCPT TO:<x@y.z>\r\n"));
  EXPECT_EQ(Codes(r.output), "220 250 250 250 250 503 503");
}

TEST(ServerProtocol, BdatOverSizeFailsTransaction) {
  FakeSink sink;
  std::string chunk;
  for (int i = 0; i < 6; ++i) chunk += std::string(98, 'x') + "\r\n";
  const Result r = Play(WithEnvelope("BDAT 600\r\n" + chunk + "BDAT 600\r\n" + chunk +
                                    "BDAT 600 LAST\r\n" + chunk + "NOOP\r\n"),
                       100, TestConfig(), absl::OkStatus(), &sink);
  EXPECT_EQ(Codes(r.output), "220 250 250 250 250 552 503 250");
  EXPECT_EQ(sink.aborts, 1);
  EXPECT_TRUE(r.bodies.empty());
}

TEST(ServerProtocol, BdatBareLfRejected) {
  const Result r = RunAllChunkings(WithEnvelope("BDAT 4\r\na\nb\nBDAT 0 LAST\r\n"));
  EXPECT_EQ(Codes(r.output), "220 250 250 250 550 503");
  EXPECT_TRUE(r.bodies.empty());
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

TEST(ServerProtocol, AuthPlaceholder) {
  EXPECT_EQ(Codes(Play("EHLO c\r\nAUTH PLAIN\r\n", 100).output), "220 250 502");
  ServerConfig config = TestConfig();
  config.auth_enabled = true;
  EXPECT_EQ(Codes(Play("HELO c\r\nAUTH PLAIN\r\nEHLO c\r\nAUTH\r\nAUTH PLAIN\r\n"
                      "MAIL FROM:<a@b.c>\r\nAUTH PLAIN\r\n", 100, config).output),
            "220 250 503 250 501 454 250 503");
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
  for (int i = 0; i < 10000; ++i) input += "NOOP\r\n";
  const size_t used = server.Feed(input);
  EXPECT_LT(used, input.size());
  EXPECT_LE(server.output().size(), 64u * 1024 + 64);
  server.output().clear();
  EXPECT_GT(server.Feed(std::string_view(input).substr(used)), 0u);
}

}  // namespace
}  // namespace ringmta::smtp
