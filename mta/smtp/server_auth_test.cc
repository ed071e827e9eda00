// Tests for AUTH (RFC 4954): the SASL PLAIN and LOGIN exchanges and strict
// base64 on their own, then the server's AUTH command, its replies, the
// failure limit, the MSA's "AUTH before MAIL" rule and the envelope.
#include "mta/smtp/server_auth.h"

#include <string>

#include <gtest/gtest.h>

#include "absl/strings/escaping.h"
#include "mta/smtp/server_protocol.h"
#include "mta/smtp/server_test_util.h"

namespace ringmta::smtp {
namespace {

using test_util::Codes;
using test_util::FakeSink;
using test_util::TestConfig;

std::string B64(std::string_view text) {
  std::string out;
  absl::Base64Escape(absl::string_view(text.data(), text.size()), &out);
  return out;
}

std::string Plain(std::string_view authzid, std::string_view user, std::string_view password) {
  std::string message(authzid);
  message += '\0';
  message += user;
  message += '\0';
  message += password;
  return B64(message);
}

TEST(Base64Strict, AcceptsCanonicalInput) {
  std::string out;
  EXPECT_TRUE(DecodeBase64Strict("YWxpY2U=", &out));
  EXPECT_EQ(out, "alice");
  EXPECT_TRUE(DecodeBase64Strict("", &out));
  EXPECT_EQ(out, "");
}

TEST(Base64Strict, RejectsEverythingElse) {
  std::string out;
  EXPECT_FALSE(DecodeBase64Strict("YWxpY2U", &out));     // padding missing
  EXPECT_FALSE(DecodeBase64Strict("YWxp Y2U=", &out));   // whitespace
  EXPECT_FALSE(DecodeBase64Strict("YWx!Y2U=", &out));    // not base64
  EXPECT_FALSE(DecodeBase64Strict("Y=xpY2U=", &out));    // padding inside
  EXPECT_FALSE(DecodeBase64Strict("Y===", &out));        // too much padding
}

TEST(SaslMechanism, NamesAreCaseInsensitive) {
  EXPECT_EQ(ParseSaslMechanism("plain"), SaslMechanism::kPlain);
  EXPECT_EQ(ParseSaslMechanism("LoGiN"), SaslMechanism::kLogin);
  EXPECT_EQ(ParseSaslMechanism("CRAM-MD5"), std::nullopt);
}

TEST(SaslPlain, InitialResponseGivesCredentials) {
  SaslExchange exchange(SaslMechanism::kPlain);
  const SaslStep step = exchange.Start(Plain("", "alice", "secret"));
  ASSERT_EQ(step.kind, SaslStep::Kind::kCredentials);
  EXPECT_EQ(step.user, "alice");
  EXPECT_EQ(step.password, "secret");
}

TEST(SaslPlain, EmptyChallengeThenResponse) {
  SaslExchange exchange(SaslMechanism::kPlain);
  const SaslStep challenge = exchange.Start(std::nullopt);
  EXPECT_EQ(challenge.kind, SaslStep::Kind::kChallenge);
  EXPECT_EQ(challenge.challenge, "");
  EXPECT_EQ(exchange.Respond(Plain("alice", "alice", "pw")).kind, SaslStep::Kind::kCredentials);
}

TEST(SaslPlain, ProxyAuthorizationIsRefused) {
  SaslExchange exchange(SaslMechanism::kPlain);
  EXPECT_EQ(exchange.Start(Plain("root", "alice", "pw")).kind, SaslStep::Kind::kRefused);
}

TEST(SaslPlain, MalformedMessages) {
  for (const std::string& bad : {B64("alice"), B64(std::string("\0alice", 6)),
                                 Plain("", "", "pw"), Plain("", "alice", ""),
                                 Plain("", "al\nice", "pw"), std::string("!!!!"),
                                 std::string("=")}) {
    SaslExchange exchange(SaslMechanism::kPlain);
    EXPECT_EQ(exchange.Start(bad).kind, SaslStep::Kind::kMalformed) << bad;
  }
}

TEST(SaslPlain, OverlongIdentityIsRefused) {
  SaslExchange exchange(SaslMechanism::kPlain);
  EXPECT_EQ(exchange.Start(Plain("", std::string(kAuthUserBytesMax + 1, 'u'), "pw")).kind,
            SaslStep::Kind::kRefused);
  SaslExchange again(SaslMechanism::kPlain);
  EXPECT_EQ(again.Start(Plain("", "u", std::string(kAuthPasswordBytesMax + 1, 'p'))).kind,
            SaslStep::Kind::kRefused);
}

TEST(SaslLogin, TwoChallenges) {
  SaslExchange exchange(SaslMechanism::kLogin);
  EXPECT_EQ(exchange.Start(std::nullopt).challenge, B64("Username:"));
  EXPECT_EQ(exchange.Respond(B64("alice")).challenge, B64("Password:"));
  const SaslStep step = exchange.Respond(B64("secret"));
  ASSERT_EQ(step.kind, SaslStep::Kind::kCredentials);
  EXPECT_EQ(step.user, "alice");
  EXPECT_EQ(step.password, "secret");
}

TEST(SaslLogin, UserAsInitialResponse) {
  SaslExchange exchange(SaslMechanism::kLogin);
  EXPECT_EQ(exchange.Start(B64("alice")).challenge, B64("Password:"));
  EXPECT_EQ(exchange.Respond(B64("secret")).kind, SaslStep::Kind::kCredentials);
}

TEST(SaslLogin, CancelAndMalformed) {
  SaslExchange exchange(SaslMechanism::kLogin);
  exchange.Start(std::nullopt);
  EXPECT_EQ(exchange.Respond("*").kind, SaslStep::Kind::kCancelled);
  SaslExchange bad(SaslMechanism::kLogin);
  EXPECT_EQ(bad.Start("@@@@").kind, SaslStep::Kind::kMalformed);
  SaslExchange bad_password(SaslMechanism::kLogin);
  bad_password.Start(B64("alice"));
  EXPECT_EQ(bad_password.Respond("abc").kind, SaslStep::Kind::kMalformed);
  SaslExchange empty_user(SaslMechanism::kLogin);
  empty_user.Start("=");
  EXPECT_EQ(empty_user.Respond(B64("pw")).kind, SaslStep::Kind::kMalformed);
}

class FakeAuthenticator : public Authenticator {
 public:
  absl::Status Check(std::string_view user, std::string_view password) override {
    ++checks;
    if (user == "broken") return absl::UnavailableError("credentials store down");
    if (user == "alice" && password == "secret") return absl::OkStatus();
    return absl::UnauthenticatedError("no");
  }
  int checks = 0;
};

ServerConfig AuthConfig() {
  ServerConfig config = TestConfig();
  config.auth_enabled = true;
  config.auth_plaintext_allowed = true;
  return config;
}

struct AuthRun {
  std::string output;
  bool closed = false;
  std::vector<Envelope> envelopes;
};

// Feeds `input` in `chunk`-byte pieces the way the I/O layer would.
AuthRun Play(std::string_view input, size_t chunk, const ServerConfig& config = AuthConfig(),
         bool tls = false) {
  FakeSink sink;
  FakeAuthenticator authenticator;
  ServerProtocol server(config, &sink, PeerInfo{"192.0.2.1", tls}, nullptr, &authenticator);
  server.Start();
  AuthRun run;
  std::string pending;
  size_t at = 0;
  for (;;) {
    pending.erase(0, server.Feed(pending));
    const Action action = server.TakeAction();
    if (action == Action::kClose) break;
    if (action == Action::kCommit) {
      sink.open = false;
      run.envelopes.push_back(sink.envelope);
      server.OnCommitted(absl::OkStatus());
      continue;
    }
    if (at >= input.size() && pending.empty()) break;
    pending.append(input.substr(at, chunk));
    at += chunk;
  }
  run.output = server.output();
  run.closed = server.closed();
  return run;
}

AuthRun PlayAllChunkings(std::string_view input, const ServerConfig& config = AuthConfig()) {
  const AuthRun whole = Play(input, input.size() + 1, config);
  for (size_t chunk : {1, 3, 7, 64}) {
    EXPECT_EQ(Play(input, chunk, config).output, whole.output) << "chunk " << chunk;
  }
  return whole;
}

TEST(ServerAuth, AdvertisedOnlyUnderTlsByDefault) {
  ServerConfig config = AuthConfig();
  config.auth_plaintext_allowed = false;
  EXPECT_EQ(Play("EHLO c\r\n", 100, config).output.find("AUTH"), std::string::npos);
  EXPECT_NE(Play("EHLO c\r\n", 100, config, /*tls=*/true).output.find("250 AUTH PLAIN LOGIN\r\n"),
            std::string::npos);
  EXPECT_NE(Play("EHLO c\r\n", 100).output.find("250 AUTH PLAIN LOGIN\r\n"), std::string::npos);
  // Asked for anyway without TLS: 538 (RFC 4954 §6).
  const AuthRun r = Play("EHLO c\r\nAUTH PLAIN " + Plain("", "alice", "secret") + "\r\n", 100, config);
  EXPECT_EQ(Codes(r.output), "220 250 538");
}

TEST(ServerAuth, PlainWithInitialResponseAuthenticatesTheEnvelope) {
  const AuthRun r = PlayAllChunkings("EHLO c\r\nAUTH PLAIN " + Plain("", "alice", "secret") +
                                 "\r\nMAIL FROM:<a@x.example>\r\nRCPT TO:<b@y.example>\r\n"
                                 "DATA\r\nhi\r\n.\r\n");
  EXPECT_EQ(Codes(r.output), "220 250 235 250 250 354 250");
  EXPECT_NE(r.output.find("235 2.7.0 Authentication successful\r\n"), std::string::npos);
  ASSERT_EQ(r.envelopes.size(), 1u);
  EXPECT_EQ(r.envelopes[0].auth_user, "alice");
}

TEST(ServerAuth, PlainWithEmptyChallenge) {
  const AuthRun r = PlayAllChunkings("EHLO c\r\nAUTH plain\r\n" + Plain("", "alice", "secret") +
                                 "\r\n");
  EXPECT_EQ(Codes(r.output), "220 250 334 235");
  EXPECT_NE(r.output.find("\r\n334 \r\n"), std::string::npos);
}

TEST(ServerAuth, LoginExchange) {
  const AuthRun r = PlayAllChunkings("EHLO c\r\nAUTH LOGIN\r\n" + B64("alice") + "\r\n" +
                                 B64("secret") + "\r\n");
  EXPECT_EQ(Codes(r.output), "220 250 334 334 235");
  EXPECT_NE(r.output.find("334 VXNlcm5hbWU6\r\n334 UGFzc3dvcmQ6\r\n"), std::string::npos);
}

TEST(ServerAuth, WrongPasswordIs535) {
  const AuthRun r = Play("EHLO c\r\nAUTH PLAIN " + Plain("", "alice", "guess") + "\r\n", 100);
  EXPECT_EQ(Codes(r.output), "220 250 535");
  EXPECT_NE(r.output.find("535 5.7.8 "), std::string::npos);
  EXPECT_FALSE(r.closed);
}

TEST(ServerAuth, ProxyAuthorizationFailsLikeAWrongPassword) {
  EXPECT_EQ(Codes(Play("EHLO c\r\nAUTH PLAIN " + Plain("bob", "alice", "secret") + "\r\n", 100)
                      .output),
            "220 250 535");
}

TEST(ServerAuth, RepeatedFailuresEndTheSession) {
  ServerConfig config = AuthConfig();
  config.auth_failures_max = 2;
  const std::string bad = "AUTH PLAIN " + Plain("", "alice", "guess") + "\r\n";
  const AuthRun r = Play("EHLO c\r\n" + bad + bad + "NOOP\r\n", 100, config);
  EXPECT_EQ(Codes(r.output), "220 250 535 535 421");
  EXPECT_TRUE(r.closed);
}

TEST(ServerAuth, TemporaryCheckFailureIs454) {
  const AuthRun r = Play("EHLO c\r\nAUTH PLAIN " + Plain("", "broken", "pw") + "\r\n", 100);
  EXPECT_EQ(Codes(r.output), "220 250 454");
}

TEST(ServerAuth, SequenceAndSyntaxErrors) {
  const std::string good = "AUTH PLAIN " + Plain("", "alice", "secret") + "\r\n";
  EXPECT_EQ(Codes(Play("HELO c\r\n" + good, 100).output), "220 250 503");
  EXPECT_EQ(Codes(Play("EHLO c\r\nAUTH\r\nAUTH CRAM-MD5\r\n", 100).output), "220 250 501 504");
  EXPECT_EQ(Codes(Play("EHLO c\r\n" + good + good, 100).output), "220 250 235 503");
  EXPECT_EQ(Codes(Play("EHLO c\r\nMAIL FROM:<a@b.c>\r\n" + good, 100).output), "220 250 250 503");
  ServerConfig disabled = AuthConfig();
  disabled.auth_enabled = false;
  EXPECT_EQ(Codes(Play("EHLO c\r\n" + good, 100, disabled).output), "220 250 502");
}

TEST(ServerAuth, CancelAndBadBase64Are501) {
  EXPECT_EQ(Codes(Play("EHLO c\r\nAUTH LOGIN\r\n*\r\nNOOP\r\n", 100).output), "220 250 334 501 250");
  EXPECT_EQ(Codes(Play("EHLO c\r\nAUTH PLAIN not-base64\r\nNOOP\r\n", 100).output),
            "220 250 501 250");
  EXPECT_EQ(Codes(Play("EHLO c\r\nAUTH PLAIN\r\n%%%%\r\n", 100).output), "220 250 334 501");
}

TEST(ServerAuth, OverlongOrBareLfResponseEndsTheExchange) {
  const std::string long_line(600, 'A');
  EXPECT_EQ(Codes(Play("EHLO c\r\nAUTH PLAIN\r\n" + long_line + "\r\nNOOP\r\n", 100).output),
            "220 250 334 500 250");
  EXPECT_EQ(Codes(Play("EHLO c\r\nAUTH PLAIN\r\nAAAA\nNOOP\r\n", 100).output),
            "220 250 334 500 250");
}

TEST(ServerAuth, SubmissionRequiresAuthBeforeMail) {
  ServerConfig config = AuthConfig();
  config.auth_required = true;
  const AuthRun r = Play("EHLO c\r\nMAIL FROM:<a@b.c>\r\nAUTH PLAIN " +
                         Plain("", "alice", "secret") + "\r\nMAIL FROM:<a@b.c>\r\n",
                     100, config);
  EXPECT_EQ(Codes(r.output), "220 250 530 235 250");
  EXPECT_NE(r.output.find("530 5.7.0 Authentication required\r\n"), std::string::npos);
}

TEST(ServerAuth, TlsStartsAuthenticationOver) {
  ServerConfig config = AuthConfig();
  config.advertise_starttls = true;
  config.auth_required = true;
  FakeSink sink;
  FakeAuthenticator authenticator;
  ServerProtocol server(config, &sink, PeerInfo{"192.0.2.1", false}, nullptr, &authenticator);
  server.Start();
  server.Feed("EHLO c\r\nAUTH PLAIN " + Plain("", "alice", "secret") + "\r\nSTARTTLS\r\n");
  EXPECT_EQ(server.auth_user(), "alice");
  EXPECT_EQ(server.TakeAction(), Action::kStartTls);
  server.output().clear();
  server.OnTlsEstablished();
  EXPECT_EQ(server.auth_user(), "");  // RFC 3207 §4.2: nothing from before TLS
  server.Feed("EHLO c\r\nMAIL FROM:<a@b.c>\r\n");
  EXPECT_EQ(Codes(server.output()), "250 530");
}

}  // namespace
}  // namespace ringmta::smtp
