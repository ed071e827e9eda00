// Tests for the client's mail transactions with DATA: pipelined and one at a
// time, per-recipient results, refusals at each step, dot-stuffing, several
// messages per connection, 421 and timeouts (delivery uncertain).
#include <string>

#include <gtest/gtest.h>

#include "mta/smtp/client_protocol.h"
#include "mta/smtp/client_test_util.h"

namespace ringmta::smtp {
namespace {

using client_test::kEhlo;
using client_test::kGreeting;
using client_test::Message;
using client_test::Outcome;
using client_test::RunScript;
using client_test::ClientSetup;
using client_test::Step;
using Phase = ClientProtocol::Phase;

constexpr std::string_view kPipelining = "250-mx\r\n250 PIPELINING\r\n";
constexpr std::string_view kBody = "Subject: t\r\n\r\nhello\r\n";
constexpr std::string_view kBatch3 =
    "MAIL FROM:<a@x.example>\r\nRCPT TO:<b@y.example>\r\nRCPT TO:<c@y.example>\r\n"
    "RCPT TO:<d@y.example>\r\nDATA\r\n";

std::string S(std::string_view text) { return std::string(text); }

ClientSetup OneMessage(std::vector<std::string> recipients, std::string_view body = kBody) {
  ClientSetup setup;
  setup.messages.push_back(Message(std::move(recipients)));
  setup.bodies.emplace_back(body);
  return setup;
}

ClientSetup ThreeRecipients() { return OneMessage({"b@y.example", "c@y.example", "d@y.example"}); }

TEST(ClientTransaction, PipelinedBatchIsOneWrite) {
  ClientProtocol client(client_test::TestConfig());
  client.Feed(kGreeting);
  client.Feed("250-mx\r\n250-PIPELINING\r\n250-SIZE 100000\r\n250-8BITMIME\r\n250 DSN\r\n");
  ASSERT_EQ(client.TakeAction(), ClientAction::kReady);
  client.output().clear();
  OutboundMessage m = Message({"b@y.example", "c@y.example"});
  m.size_bytes = 1234;
  m.body = BodyType::k8BitMime;
  m.envid = "q1";
  m.recipients[0].notify = kNotifyFailure;
  client.StartMessage(m);
  EXPECT_EQ(client.output(),
            "MAIL FROM:<a@x.example> SIZE=1234 BODY=8BITMIME ENVID=q1\r\n"
            "RCPT TO:<b@y.example> NOTIFY=FAILURE\r\nRCPT TO:<c@y.example>\r\nDATA\r\n");
  EXPECT_EQ(client.phase(), Phase::kAwaitingReplies);
  EXPECT_EQ(client.TakeAction(), ClientAction::kNone);
}

TEST(ClientTransaction, PipelinedDelivery) {
  const Outcome o = RunScript(
      ThreeRecipients(),
      {{S(kGreeting), S(kEhlo)},
       {S(kPipelining), S(kBatch3)},
       {"250 ok\r\n250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n", S(kBody) + ".\r\n"},
       {"250 2.0.0 queued as X\r\n", "QUIT\r\n"}});
  EXPECT_EQ(o.results, std::vector<std::string>{"250 250 250 | 250"});
}

TEST(ClientTransaction, OneCommandAtATimeWithoutPipelining) {
  const Outcome o = RunScript(ThreeRecipients(), {{S(kGreeting), S(kEhlo)},
                                                  {"250 mx\r\n", "MAIL FROM:<a@x.example>\r\n"},
                                                  {"250 ok\r\n", "RCPT TO:<b@y.example>\r\n"},
                                                  {"250 ok\r\n", "RCPT TO:<c@y.example>\r\n"},
                                                  {"550 no\r\n", "RCPT TO:<d@y.example>\r\n"},
                                                  {"250 ok\r\n", "DATA\r\n"},
                                                  {"354 go\r\n", S(kBody) + ".\r\n"},
                                                  {"250 ok\r\n", "QUIT\r\n"}});
  EXPECT_EQ(o.results, std::vector<std::string>{"250 550 250 | 250"});
}

TEST(ClientTransaction, PipeliningOfferedButDisabled) {
  ClientSetup setup = OneMessage({"b@y.example"});
  setup.config.use_pipelining = false;
  RunScript(setup, {{S(kGreeting), S(kEhlo)},
                    {S(kPipelining), "MAIL FROM:<a@x.example>\r\n"},
                    {"250 ok\r\n", "RCPT TO:<b@y.example>\r\n"}});
}

TEST(ClientTransaction, PerRecipientMix) {
  ClientSetup setup = ThreeRecipients();
  client_test::FakeServer server(setup);
  server.Turn(kGreeting, 100);
  server.Turn(kPipelining, 100);
  server.client().output().clear();
  EXPECT_EQ(server.Turn("250 ok\r\n250 ok\r\n450 4.2.1 busy\r\n550 5.1.1 unknown\r\n354 go\r\n",
                        100),
            S(kBody) + ".\r\n");
  // Check the full result here, not just codes.
  ClientProtocol& client = server.client();
  client.Feed("250 2.0.0 ok\r\n");
  ASSERT_EQ(client.TakeAction(), ClientAction::kMessageDone);
  const MessageResult r = *client.TakeMessageResult();
  ASSERT_EQ(r.recipients.size(), 3u);
  EXPECT_EQ(r.recipients[1].index, 1);
  EXPECT_EQ(r.recipients[1].rcpt_reply.Summary(), "450 4.2.1 busy");
  EXPECT_EQ(r.Outcome(0).Summary(), "250 2.0.0 ok");
  EXPECT_EQ(r.Outcome(1).code, 450);
  EXPECT_EQ(r.Outcome(2).code, 550);
  EXPECT_FALSE(r.uncertain);
}

TEST(ClientTransaction, AllRecipientsRefusedPipelinedData503) {
  const Outcome o = RunScript(
      ThreeRecipients(),
      {{S(kGreeting), S(kEhlo)},
       {S(kPipelining), S(kBatch3)},
       {"250 ok\r\n550 no\r\n550 no\r\n450 no\r\n554 5.5.1 no valid recipients\r\n", "RSET\r\n"},
       {"250 reset\r\n", "QUIT\r\n"}});
  EXPECT_EQ(o.results, std::vector<std::string>{"550 550 450 | -"});
}

// RFC 2920 §3.1 wants 503/554 to such a DATA, but a 354 must not hang us:
// an empty message is ended at once, its reply ignored, then RSET.
TEST(ClientTransaction, AllRecipientsRefusedPipelinedData354) {
  const Outcome o = RunScript(ThreeRecipients(),
                              {{S(kGreeting), S(kEhlo)},
                               {S(kPipelining), S(kBatch3)},
                               {"250 ok\r\n550 no\r\n550 no\r\n550 no\r\n354 go\r\n", ".\r\n"},
                               {"554 no recipients\r\n", "RSET\r\n"},
                               {"250 ok\r\n", "QUIT\r\n"}});
  EXPECT_EQ(o.results, std::vector<std::string>{"550 550 550 | -"});
}

TEST(ClientTransaction, AllRecipientsRefusedWithoutPipelining) {
  const Outcome o = RunScript(OneMessage({"b@y.example"}),
                              {{S(kGreeting), S(kEhlo)},
                               {"250 mx\r\n", "MAIL FROM:<a@x.example>\r\n"},
                               {"250 ok\r\n", "RCPT TO:<b@y.example>\r\n"},
                               {"550 no\r\n", "RSET\r\n"},
                               {"250 ok\r\n", "QUIT\r\n"}});
  EXPECT_EQ(o.results, std::vector<std::string>{"550 | -"});
}

TEST(ClientTransaction, MailRefusedDecidesEveryRecipient) {
  const Outcome o = RunScript(
      ThreeRecipients(),
      {{S(kGreeting), S(kEhlo)},
       {S(kPipelining), S(kBatch3)},
       {"553 5.1.8 bad sender\r\n503 no\r\n503 no\r\n503 no\r\n503 no\r\n", "RSET\r\n"},
       {"250 ok\r\n", "QUIT\r\n"}});
  EXPECT_EQ(o.results, std::vector<std::string>{"553 553 553 | 553"});
}

TEST(ClientTransaction, DataRefusedAfterAcceptedRecipient) {
  const Outcome o = RunScript(OneMessage({"b@y.example"}),
                              {{S(kGreeting), S(kEhlo)},
                               {"250 mx\r\n", "MAIL FROM:<a@x.example>\r\n"},
                               {"250 ok\r\n", "RCPT TO:<b@y.example>\r\n"},
                               {"250 ok\r\n", "DATA\r\n"},
                               {"451 4.3.0 later\r\n", "RSET\r\n"},
                               {"250 ok\r\n", "QUIT\r\n"}});
  EXPECT_EQ(o.results, std::vector<std::string>{"250 | 451"});
}

TEST(ClientTransaction, DataAnswered2xxIsProtocolError) {
  const Outcome o = RunScript(OneMessage({"b@y.example"}),
                              {{S(kGreeting), S(kEhlo)},
                               {S(kPipelining), "MAIL FROM:<a@x.example>\r\nRCPT TO:<b@y.example>\r\nDATA\r\n"},
                               {"250 ok\r\n250 ok\r\n250 ok\r\n", ""}});
  EXPECT_EQ(o.close_reason, CloseReason::kProtocolError);
  EXPECT_EQ(o.results, std::vector<std::string>{"250 | 451L"});
}

class FinalReply : public testing::TestWithParam<std::pair<std::string, std::string>> {};

TEST_P(FinalReply, DecidesAcceptedRecipients) {
  const auto& [reply, after] = GetParam();
  ClientSetup setup = OneMessage({"b@y.example", "c@y.example"});
  const Outcome o = RunScript(
      setup, {{S(kGreeting), S(kEhlo)},
              {S(kPipelining),
               "MAIL FROM:<a@x.example>\r\nRCPT TO:<b@y.example>\r\nRCPT TO:<c@y.example>\r\n"
               "DATA\r\n"},
              {"250 ok\r\n250 ok\r\n550 no\r\n354 go\r\n", S(kBody) + ".\r\n"},
              {reply + " text\r\n", after}});
  EXPECT_EQ(o.results, std::vector<std::string>{"250 550 | " + reply});
}

INSTANTIATE_TEST_SUITE_P(ClientTransaction, FinalReply,
                         testing::Values(std::pair{"250", "QUIT\r\n"},
                                         std::pair{"451", "QUIT\r\n"},
                                         std::pair{"554", "QUIT\r\n"}));

TEST(ClientTransaction, DotStuffingAndCrlfOnly) {
  const std::string body = ".leading\r\n..two\nbare lf\rbare cr\r\n.\r\nend";
  const Outcome o = RunScript(
      OneMessage({"b@y.example"}, body),
      {{S(kGreeting), S(kEhlo)},
       {S(kPipelining), "MAIL FROM:<a@x.example>\r\nRCPT TO:<b@y.example>\r\nDATA\r\n"},
       {"250 ok\r\n250 ok\r\n354 go\r\n",
        "..leading\r\n...two\r\nbare lf\r\nbare cr\r\n..\r\nend\r\n.\r\n"},
       {"250 ok\r\n", "QUIT\r\n"}});
  EXPECT_EQ(o.results, std::vector<std::string>{"250 | 250"});
}

TEST(ClientTransaction, BodyStreamedInSmallPieces) {
  const std::string body = ".a\r\n.\r\nb\r\n";
  for (size_t piece : {1, 2, 3}) {
    ClientSetup setup = OneMessage({"b@y.example"}, body);
    setup.piece_bytes = piece;
    RunScript(setup,
              {{S(kGreeting), S(kEhlo)},
               {S(kPipelining), "MAIL FROM:<a@x.example>\r\nRCPT TO:<b@y.example>\r\nDATA\r\n"},
               {"250 ok\r\n250 ok\r\n354 go\r\n", "..a\r\n..\r\nb\r\n.\r\n"}});
  }
}

TEST(ClientTransaction, EmptyBodyIsJustTheDot) {
  RunScript(OneMessage({"b@y.example"}, ""),
            {{S(kGreeting), S(kEhlo)},
             {S(kPipelining), "MAIL FROM:<a@x.example>\r\nRCPT TO:<b@y.example>\r\nDATA\r\n"},
             {"250 ok\r\n250 ok\r\n354 go\r\n", ".\r\n"}});
}

TEST(ClientTransaction, TwoMessagesOneConnection) {
  ClientSetup setup = OneMessage({"b@y.example"});
  setup.messages.push_back(Message({"c@y.example"}, "e@x.example"));
  setup.bodies.emplace_back("second\r\n");
  const Outcome o = RunScript(
      setup,
      {{S(kGreeting), S(kEhlo)},
       {S(kPipelining), "MAIL FROM:<a@x.example>\r\nRCPT TO:<b@y.example>\r\nDATA\r\n"},
       {"250 ok\r\n250 ok\r\n354 go\r\n", S(kBody) + ".\r\n"},
       // A completed DATA leaves no transaction (§4.1.1.4): no RSET needed.
       {"250 ok\r\n", "MAIL FROM:<e@x.example>\r\nRCPT TO:<c@y.example>\r\nDATA\r\n"},
       {"250 ok\r\n250 ok\r\n354 go\r\n", "second\r\n.\r\n"},
       {"250 ok\r\n", "QUIT\r\n"}});
  EXPECT_EQ(o.results, (std::vector<std::string>{"250 | 250", "250 | 250"}));
}

TEST(ClientTransaction, RsetBetweenFailedAndNextMessage) {
  ClientSetup setup = OneMessage({"b@y.example"});
  setup.messages.push_back(Message({"c@y.example"}));
  setup.bodies.emplace_back("second\r\n");
  const Outcome o = RunScript(
      setup,
      {{S(kGreeting), S(kEhlo)},
       {S(kPipelining), "MAIL FROM:<a@x.example>\r\nRCPT TO:<b@y.example>\r\nDATA\r\n"},
       {"250 ok\r\n550 no\r\n554 no valid recipients\r\n", "RSET\r\n"},
       {"250 ok\r\n", "MAIL FROM:<a@x.example>\r\nRCPT TO:<c@y.example>\r\nDATA\r\n"},
       {"250 ok\r\n250 ok\r\n354 go\r\n", "second\r\n.\r\n"},
       {"250 ok\r\n", "QUIT\r\n"}});
  EXPECT_EQ(o.results, (std::vector<std::string>{"550 | -", "250 | 250"}));
}

TEST(ClientTransaction, RsetRefusedClosesConnection) {
  const Outcome o = RunScript(OneMessage({"b@y.example"}),
                              {{S(kGreeting), S(kEhlo)},
                               {"250 mx\r\n", "MAIL FROM:<a@x.example>\r\n"},
                               {"550 no\r\n", "RSET\r\n"},
                               {"500 what\r\n", "QUIT\r\n"}});
  EXPECT_EQ(o.close_reason, CloseReason::kServerClosing);
  EXPECT_EQ(o.results, std::vector<std::string>{"550 | 550"});
}

TEST(ClientTransaction, ServerClosesMidTransaction) {
  const Outcome o = RunScript(ThreeRecipients(),
                              {{S(kGreeting), S(kEhlo)},
                               {S(kPipelining), S(kBatch3)},
                               {"250 ok\r\n250 ok\r\n550 no\r\n421 4.3.2 shutting down\r\n", ""}});
  EXPECT_EQ(o.close_reason, CloseReason::kServerClosing);
  EXPECT_EQ(o.results, std::vector<std::string>{"250 550 421 | 421"});
}

TEST(ClientTransaction, ServerClosesAfterFinalDotIsNotUncertain) {
  const Outcome o = RunScript(
      OneMessage({"b@y.example"}),
      {{S(kGreeting), S(kEhlo)},
       {S(kPipelining), "MAIL FROM:<a@x.example>\r\nRCPT TO:<b@y.example>\r\nDATA\r\n"},
       {"250 ok\r\n250 ok\r\n354 go\r\n", S(kBody) + ".\r\n"},
       {"421 4.4.2 bye\r\n", ""}});
  EXPECT_EQ(o.results, std::vector<std::string>{"250 | 421"});
}

// Driven to the point where the final dot is sent and no reply has come.
client_test::FakeServer* AwaitFinalReply(client_test::FakeServer* server) {
  server->Turn(kGreeting, 100);
  server->Turn(kPipelining, 100);
  server->Turn("250 ok\r\n250 ok\r\n354 go\r\n", 100);
  EXPECT_EQ(server->client().phase(), Phase::kAwaitingFinalReply);
  return server;
}

TEST(ClientTransaction, TimeoutAfterFinalDotIsUncertain) {
  const ClientSetup setup = OneMessage({"b@y.example"});
  client_test::FakeServer server(setup);
  AwaitFinalReply(&server)->client().OnTransportFailure(TransportFailure::kTimeout);
  server.Turn("", 1);
  EXPECT_EQ(server.outcome().results, std::vector<std::string>{"250 | 451L uncertain"});
  EXPECT_EQ(server.outcome().close_reason, CloseReason::kTransportFailure);
}

TEST(ClientTransaction, SendFailingWithTheFinalDotIsNotUncertain) {
  const ClientSetup setup = OneMessage({"b@y.example"});
  client_test::FakeServer server(setup);
  AwaitFinalReply(&server)->client().OnTransportFailure(TransportFailure::kSendFailed);
  server.Turn("", 1);
  EXPECT_EQ(server.outcome().results, std::vector<std::string>{"250 | 451L"});
  EXPECT_EQ(server.outcome().close_reason, CloseReason::kTransportFailure);
}

TEST(ClientTransaction, GarbageAfterFinalDotIsUncertain) {
  const ClientSetup setup = OneMessage({"b@y.example"});
  client_test::FakeServer server(setup);
  AwaitFinalReply(&server)->Turn("2x0 ok\r\n", 1);
  EXPECT_EQ(server.outcome().results, std::vector<std::string>{"250 | 451L uncertain"});
  EXPECT_EQ(server.outcome().close_reason, CloseReason::kProtocolError);
}

TEST(ClientTransaction, TimeoutBeforeFinalDotIsNotUncertain) {
  const ClientSetup setup = OneMessage({"b@y.example", "c@y.example"});
  client_test::FakeServer server(setup);
  server.Turn(kGreeting, 100);
  server.Turn(kPipelining, 100);
  server.Turn("250 ok\r\n250 ok\r\n", 100);
  EXPECT_EQ(server.client().phase(), Phase::kAwaitingReplies);
  server.client().OnTransportFailure(TransportFailure::kConnectionLost);
  server.Turn("", 1);
  EXPECT_EQ(server.outcome().results, std::vector<std::string>{"250 451L | 451L"});
}

TEST(ClientTransaction, ReplyDuringBodyIsProtocolError) {
  ClientProtocol client(client_test::TestConfig());
  client.Feed(kGreeting);
  client.Feed("250 mx\r\n");
  ASSERT_EQ(client.TakeAction(), ClientAction::kReady);
  client.StartMessage(Message({"b@y.example"}));
  client.Feed("250 ok\r\n250 ok\r\n354 go\r\n");
  ASSERT_EQ(client.TakeAction(), ClientAction::kNeedBody);
  client.SupplyBody("part", false);
  client.Feed("554 stop\r\n");  // nothing was asked: garbage, not a final reply
  EXPECT_EQ(client.TakeAction(), ClientAction::kMessageDone);
  EXPECT_EQ(client_test::Describe(*client.TakeMessageResult()), "250 | 451L");
  EXPECT_EQ(client.TakeAction(), ClientAction::kClose);
  EXPECT_EQ(client.close_reason(), CloseReason::kProtocolError);
}

TEST(ClientTransaction, NoEsmtpParametersAfterHelo) {
  ClientSetup setup = OneMessage({"b@y.example"});
  setup.messages[0].size_bytes = 100;
  setup.messages[0].recipients[0].notify = kNotifyNever;
  RunScript(setup, {{S(kGreeting), S(kEhlo)},
                    {"500 no EHLO\r\n", "HELO relay.example\r\n"},
                    {"250 mx\r\n", "MAIL FROM:<a@x.example>\r\n"},
                    {"250 ok\r\n", "RCPT TO:<b@y.example>\r\n"}});
}

TEST(ClientTransaction, IntermediateReplyToMailIsProtocolError) {
  const Outcome o = RunScript(OneMessage({"b@y.example"}),
                              {{S(kGreeting), S(kEhlo)},
                               {"250 mx\r\n", "MAIL FROM:<a@x.example>\r\n"},
                               {"334 huh\r\n", ""}});
  EXPECT_EQ(o.close_reason, CloseReason::kProtocolError);
  EXPECT_EQ(o.results, std::vector<std::string>{"451L | 451L"});
}

TEST(ClientTransaction, EightBitWithout8BitMimeNotSent) {
  ClientSetup setup = OneMessage({"b@y.example"});
  setup.messages[0].body = BodyType::k8BitMime;
  const Outcome o = RunScript(setup, {{S(kGreeting), S(kEhlo)}, {"250 mx\r\n", "QUIT\r\n"}});
  EXPECT_EQ(o.results, std::vector<std::string>{"554L | 554L"});
}

TEST(ClientTransaction, Smtputf8NeededButNotOffered) {
  ClientSetup setup = OneMessage({"\xc3\xa9t\xc3\xa9@y.example"});
  setup.messages.push_back(Message({"b@y.example"}));
  setup.bodies.emplace_back("x\r\n");
  const Outcome o = RunScript(
      setup,
      {{S(kGreeting), S(kEhlo)},
       // Nothing is sent for the first message; the second goes ahead.
       {S(kPipelining), "MAIL FROM:<a@x.example>\r\nRCPT TO:<b@y.example>\r\nDATA\r\n"},
       {"250 ok\r\n250 ok\r\n354 go\r\n", "x\r\n.\r\n"}});
  ASSERT_FALSE(o.results.empty());
  EXPECT_EQ(o.results[0], "553L | 553L");
}

}  // namespace
}  // namespace ringmta::smtp
