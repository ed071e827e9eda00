// Tests for the client's session setup: greeting, EHLO and the HELO
// fallback, STARTTLS (with injected plaintext discarded), AUTH PLAIN and
// LOGIN, QUIT, and replies nobody asked for. Scripts run whole and bytewise.
#include <string>

#include <gtest/gtest.h>

#include "mta/smtp/client_protocol.h"
#include "mta/smtp/client_test_util.h"

namespace ringmta::smtp {
namespace {

using client_test::kEhlo;
using client_test::kGreeting;
using client_test::Outcome;
using client_test::RunScript;
using client_test::ClientSetup;
using Phase = ClientProtocol::Phase;

std::string S(std::string_view text) { return std::string(text); }

TEST(ClientSession, GreetingThenEhloThenReadyThenQuit) {
  const Outcome o = RunScript(ClientSetup(), {{S(kGreeting), S(kEhlo)},
                                        {"250 mx.example\r\n", "QUIT\r\n"},
                                        {"221 bye\r\n", ""}});
  EXPECT_TRUE(o.closed);
  EXPECT_EQ(o.close_reason, CloseReason::kQuit);
  EXPECT_EQ(o.close_code, 221);
}

TEST(ClientSession, Greeting421RefusesHostWithoutQuit) {
  const Outcome o = RunScript(ClientSetup(), {{"421 4.3.2 busy\r\n", ""}});
  EXPECT_EQ(o.close_reason, CloseReason::kHostRefused);
  EXPECT_EQ(o.close_code, 421);
}

TEST(ClientSession, Greeting554RefusesHostWithQuit) {
  const Outcome o = RunScript(ClientSetup(), {{"554-go away\r\n554 really\r\n", "QUIT\r\n"}});
  EXPECT_EQ(o.close_reason, CloseReason::kHostRefused);
  EXPECT_EQ(o.close_code, 554);
}

TEST(ClientSession, EhloCapabilitiesParsed) {
  ClientSetup setup;
  setup.quit_when_idle = false;
  client_test::FakeServer server(setup);
  EXPECT_EQ(server.Turn(kGreeting, 1000), kEhlo);
  server.Turn(
      "250-mx.example hello\r\n250-PIPELINING\r\n250-SIZE 10485760\r\n250-8BITMIME\r\n"
      "250-SMTPUTF8\r\n250-CHUNKING\r\n250-DSN\r\n250-ENHANCEDSTATUSCODES\r\n"
      "250 AUTH PLAIN LOGIN CRAM-MD5\r\n",
      1000);
  const ServerCapabilities& caps = server.client().capabilities();
  EXPECT_TRUE(caps.esmtp && caps.pipelining && caps.eightbitmime && caps.smtputf8);
  EXPECT_TRUE(caps.chunking && caps.dsn && caps.enhanced_status_codes);
  EXPECT_TRUE(caps.auth_plain && caps.auth_login);
  EXPECT_FALSE(caps.starttls);
  EXPECT_EQ(caps.size_max, 10485760u);
  EXPECT_EQ(server.client().phase(), Phase::kReady);
}

TEST(ClientSession, HeloFallbackWhenEhloRefused) {
  const Outcome o = RunScript(ClientSetup(), {{S(kGreeting), S(kEhlo)},
                                        {"502 5.5.1 what?\r\n", "HELO relay.example\r\n"},
                                        {"250 mx.example\r\n", "QUIT\r\n"}});
  EXPECT_FALSE(o.closed);
  EXPECT_EQ(o.phase, Phase::kQuitting);
}

TEST(ClientSession, HeloRefusedToo) {
  const Outcome o = RunScript(ClientSetup(), {{S(kGreeting), S(kEhlo)},
                                        {"500 no\r\n", "HELO relay.example\r\n"},
                                        {"550 no\r\n", "QUIT\r\n"}});
  EXPECT_EQ(o.close_reason, CloseReason::kHostRefused);
}

TEST(ClientSession, EhloTransientRefusalGivesUpHost) {
  const Outcome o = RunScript(ClientSetup(), {{S(kGreeting), S(kEhlo)}, {"450 later\r\n", "QUIT\r\n"}});
  EXPECT_EQ(o.close_reason, CloseReason::kHostRefused);
  EXPECT_EQ(o.close_code, 450);
}

TEST(ClientSession, StartTlsThenEhloAgain) {
  ClientSetup setup;
  setup.config.want_starttls = true;
  const Outcome o = RunScript(setup, {{S(kGreeting), S(kEhlo)},
                                      {"250-mx\r\n250 STARTTLS\r\n", "STARTTLS\r\n"},
                                      {"220 go ahead\r\n", S(kEhlo)},
                                      {"250-mx\r\n250 PIPELINING\r\n", "QUIT\r\n"}});
  EXPECT_EQ(o.handshakes, 1);
  EXPECT_FALSE(o.closed);
}

TEST(ClientSession, StartTlsDiscardsInjectedBytes) {
  ClientConfig config = client_test::TestConfig();
  config.want_starttls = true;
  ClientProtocol client(config);
  client.Feed(kGreeting);
  client.Feed("250-mx\r\n250 STARTTLS\r\n");
  client.output().clear();
  // A man in the middle appends a fake EHLO reply and half a line to the 220.
  client.Feed("220 go ahead\r\n250-mx\r\n250 PIPELINING\r\n421 inj");
  EXPECT_EQ(client.TakeAction(), ClientAction::kStartTls);
  EXPECT_EQ(client.phase(), Phase::kTlsHandshake);
  client.Feed("more plaintext\r\n");  // still before the handshake: ignored
  client.OnTlsEstablished();
  EXPECT_TRUE(client.tls());
  EXPECT_EQ(client.output(), kEhlo);
  EXPECT_EQ(client.phase(), Phase::kAwaitingHello);
  client.Feed("250-mx\r\n250 SIZE 100\r\n");
  EXPECT_EQ(client.TakeAction(), ClientAction::kReady);
  EXPECT_FALSE(client.capabilities().pipelining);
  EXPECT_EQ(client.capabilities().size_max, 100u);
}

TEST(ClientSession, StartTlsNotOfferedOpportunisticGoesOn) {
  ClientSetup setup;
  setup.config.want_starttls = true;
  const Outcome o = RunScript(setup, {{S(kGreeting), S(kEhlo)}, {"250 mx\r\n", "QUIT\r\n"}});
  EXPECT_EQ(o.handshakes, 0);
  EXPECT_FALSE(o.closed);
}

TEST(ClientSession, StartTlsRequiredButNotOffered) {
  ClientSetup setup;
  setup.config.require_starttls = true;
  const Outcome o = RunScript(setup, {{S(kGreeting), S(kEhlo)}, {"250 mx\r\n", "QUIT\r\n"}});
  EXPECT_EQ(o.close_reason, CloseReason::kTlsUnavailable);
  EXPECT_EQ(o.close_code, 454);
}

TEST(ClientSession, StartTlsRefused) {
  ClientSetup setup;
  setup.config.want_starttls = true;
  const std::vector<client_test::Step> steps = {
      {S(kGreeting), S(kEhlo)},
      {"250-mx\r\n250 STARTTLS\r\n", "STARTTLS\r\n"},
      {"454 4.7.0 TLS not available\r\n", "QUIT\r\n"}};
  EXPECT_FALSE(RunScript(setup, steps).closed);  // opportunistic: on in clear
  setup.config.require_starttls = true;
  const Outcome o = RunScript(setup, steps);
  EXPECT_EQ(o.close_reason, CloseReason::kTlsUnavailable);
  EXPECT_EQ(o.close_code, 454);
}

TEST(ClientSession, TlsHandshakeFailure) {
  ClientConfig config = client_test::TestConfig();
  config.want_starttls = true;
  ClientProtocol client(config);
  client.Feed(kGreeting);
  client.Feed("250-mx\r\n250 STARTTLS\r\n220 go\r\n");
  EXPECT_EQ(client.TakeAction(), ClientAction::kStartTls);
  client.OnTransportFailure(TransportFailure::kTlsFailed);
  EXPECT_EQ(client.TakeAction(), ClientAction::kClose);
  EXPECT_EQ(client.close_reason(), CloseReason::kTransportFailure);
  EXPECT_TRUE(client.close_reply().local);
}

ClientSetup AuthSetup() {
  ClientSetup setup;
  setup.config.implicit_tls = true;
  setup.config.credentials = ClientCredentials{"user", "secret"};
  return setup;
}

TEST(ClientSession, AuthPlainSuccess) {
  const Outcome o = RunScript(
      AuthSetup(), {{S(kGreeting), S(kEhlo)},
                    {"250-mx\r\n250 AUTH LOGIN PLAIN\r\n", "AUTH PLAIN AHVzZXIAc2VjcmV0\r\n"},
                    {"235 2.7.0 ok\r\n", "QUIT\r\n"}});
  EXPECT_FALSE(o.closed);
}

TEST(ClientSession, AuthLoginSuccess) {
  const Outcome o = RunScript(AuthSetup(), {{S(kGreeting), S(kEhlo)},
                                            {"250-mx\r\n250 AUTH LOGIN\r\n", "AUTH LOGIN\r\n"},
                                            {"334 VXNlcm5hbWU6\r\n", "dXNlcg==\r\n"},
                                            {"334 UGFzc3dvcmQ6\r\n", "c2VjcmV0\r\n"},
                                            {"235 2.7.0 ok\r\n", "QUIT\r\n"}});
  EXPECT_FALSE(o.closed);
}

TEST(ClientSession, AuthPlainRefused) {
  const Outcome o = RunScript(
      AuthSetup(), {{S(kGreeting), S(kEhlo)},
                    {"250-mx\r\n250 AUTH PLAIN\r\n", "AUTH PLAIN AHVzZXIAc2VjcmV0\r\n"},
                    {"535 5.7.8 bad credentials\r\n", "QUIT\r\n"}});
  EXPECT_EQ(o.close_reason, CloseReason::kAuthFailed);
  EXPECT_EQ(o.close_code, 535);
}

TEST(ClientSession, AuthLoginRefusedAfterPassword) {
  const Outcome o = RunScript(AuthSetup(), {{S(kGreeting), S(kEhlo)},
                                            {"250-mx\r\n250 AUTH=LOGIN\r\n", "AUTH LOGIN\r\n"},
                                            {"334 VXNlcm5hbWU6\r\n", "dXNlcg==\r\n"},
                                            {"334 UGFzc3dvcmQ6\r\n", "c2VjcmV0\r\n"},
                                            {"535 5.7.8 no\r\n", "QUIT\r\n"}});
  EXPECT_EQ(o.close_reason, CloseReason::kAuthFailed);
  EXPECT_EQ(o.close_code, 535);
}

TEST(ClientSession, AuthNeverInClear) {
  ClientSetup setup = AuthSetup();
  setup.config.implicit_tls = false;
  const Outcome o =
      RunScript(setup, {{S(kGreeting), S(kEhlo)}, {"250-mx\r\n250 AUTH PLAIN\r\n", "QUIT\r\n"}});
  EXPECT_EQ(o.close_reason, CloseReason::kAuthFailed);
  EXPECT_EQ(o.close_code, 454);
}

TEST(ClientSession, AuthNotOffered) {
  const Outcome o = RunScript(AuthSetup(), {{S(kGreeting), S(kEhlo)},
                                            {"250-mx\r\n250 AUTH CRAM-MD5\r\n", "QUIT\r\n"}});
  EXPECT_EQ(o.close_reason, CloseReason::kAuthFailed);
}

TEST(ClientSession, AuthAcceptedBeforeCredentialsIsProtocolError) {
  const Outcome o = RunScript(AuthSetup(), {{S(kGreeting), S(kEhlo)},
                                            {"250-mx\r\n250 AUTH LOGIN\r\n", "AUTH LOGIN\r\n"},
                                            {"235 ok\r\n", ""}});
  EXPECT_EQ(o.close_reason, CloseReason::kProtocolError);
}

TEST(ClientSession, StartTlsThenAuth) {
  ClientSetup setup;
  setup.config.want_starttls = true;
  setup.config.credentials = ClientCredentials{"user", "secret"};
  const Outcome o = RunScript(
      setup, {{S(kGreeting), S(kEhlo)},
              // AUTH offered in clear is not taken: STARTTLS first.
              {"250-mx\r\n250-STARTTLS\r\n250 AUTH PLAIN\r\n", "STARTTLS\r\n"},
              {"220 go\r\n", S(kEhlo)},
              {"250-mx\r\n250 AUTH PLAIN\r\n", "AUTH PLAIN AHVzZXIAc2VjcmV0\r\n"},
              {"235 ok\r\n", "QUIT\r\n"}});
  EXPECT_EQ(o.handshakes, 1);
  EXPECT_FALSE(o.closed);
}

TEST(ClientSession, AuthTransientFailure) {
  const Outcome o = RunScript(
      AuthSetup(), {{S(kGreeting), S(kEhlo)},
                    {"250-mx\r\n250 AUTH PLAIN\r\n", "AUTH PLAIN AHVzZXIAc2VjcmV0\r\n"},
                    {"454 4.7.0 try later\r\n", "QUIT\r\n"}});
  EXPECT_EQ(o.close_reason, CloseReason::kAuthFailed);
  EXPECT_EQ(o.close_code, 454);
}

TEST(ClientSession, BareLfRepliesOnlyWhenConfigured) {
  EXPECT_EQ(RunScript(ClientSetup(), {{"220 mx\n", ""}}).close_reason,
            CloseReason::kProtocolError);
  ClientSetup lenient;
  lenient.config.reply_limits.accept_bare_lf = true;
  EXPECT_FALSE(RunScript(lenient, {{"220 mx\n", S(kEhlo)}}).closed);
}

TEST(ClientSession, Server421ToRsetCloses) {
  ClientSetup setup;
  setup.messages.push_back(client_test::Message({"b@y.example"}));
  setup.bodies.emplace_back("x\r\n");
  const Outcome o = RunScript(setup, {{S(kGreeting), S(kEhlo)},
                                      {"250 mx\r\n", "MAIL FROM:<a@x.example>\r\n"},
                                      {"451 later\r\n", "RSET\r\n"},
                                      {"421 bye\r\n", ""}});
  EXPECT_EQ(o.close_reason, CloseReason::kServerClosing);
  EXPECT_EQ(o.results, std::vector<std::string>{"451 | 451"});
}

TEST(ClientSession, Unsolicited421WhileIdleCloses) {
  ClientSetup setup;
  setup.quit_when_idle = false;
  const Outcome o = RunScript(setup, {{S(kGreeting), S(kEhlo)},
                                      {"250 mx\r\n", ""},
                                      {"421 4.4.2 idle timeout\r\n", ""}});
  EXPECT_EQ(o.close_reason, CloseReason::kServerClosing);
  EXPECT_EQ(o.close_code, 421);
}

TEST(ClientSession, UnsolicitedReplyIsProtocolError) {
  ClientSetup setup;
  setup.quit_when_idle = false;
  const Outcome o =
      RunScript(setup, {{S(kGreeting), S(kEhlo)}, {"250 mx\r\n250 extra\r\n", ""}});
  EXPECT_EQ(o.close_reason, CloseReason::kProtocolError);
}

TEST(ClientSession, IntermediateReplyToEhloIsProtocolError) {
  const Outcome o = RunScript(ClientSetup(), {{S(kGreeting), S(kEhlo)}, {"354 what\r\n", ""}});
  EXPECT_EQ(o.close_reason, CloseReason::kProtocolError);
}

TEST(ClientSession, GarbageIsProtocolError) {
  ClientProtocol client(client_test::TestConfig());
  client.Feed("SSH-2.0-OpenSSH_9.2\r\n");
  EXPECT_EQ(client.TakeAction(), ClientAction::kClose);
  EXPECT_EQ(client.close_reason(), CloseReason::kProtocolError);
  EXPECT_EQ(client.protocol_error(), "malformed reply code");
  EXPECT_EQ(client.output(), "");
  client.Feed("220 too late\r\n");  // ignored after close
  EXPECT_EQ(client.TakeAction(), ClientAction::kNone);
}

}  // namespace
}  // namespace ringmta::smtp
