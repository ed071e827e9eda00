// Tests for the client's BDAT path (RFC 3030): the first chunk joining the
// pipelined envelope, LAST and 0-byte bodies, chunk flow control, refused
// chunks, all recipients refused, and no dot-stuffing.
#include <string>

#include <gtest/gtest.h>

#include "mta/smtp/client_limits.h"
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
using Phase = ClientProtocol::Phase;

constexpr std::string_view kChunkingPipelining = "250-mx\r\n250-PIPELINING\r\n250 CHUNKING\r\n";
constexpr std::string_view kEnvelope = "MAIL FROM:<a@x.example>\r\nRCPT TO:<b@y.example>\r\n";

std::string S(std::string_view text) { return std::string(text); }

ClientSetup OneMessage(std::string_view body, size_t piece_bytes = 1 << 20) {
  ClientSetup setup;
  setup.messages.push_back(Message({"b@y.example"}));
  setup.bodies.emplace_back(body);
  setup.piece_bytes = piece_bytes;
  return setup;
}

TEST(ClientBdat, FirstChunkJoinsThePipelinedBatch) {
  const Outcome o = RunScript(
      OneMessage(".dot\r\nx\r\n"),
      {{S(kGreeting), S(kEhlo)},
       {S(kChunkingPipelining), S(kEnvelope) + "BDAT 9 LAST\r\n.dot\r\nx\r\n"},
       {"250 ok\r\n250 ok\r\n250 2.0.0 queued\r\n", "QUIT\r\n"}});
  EXPECT_EQ(o.results, std::vector<std::string>{"250 | 250"});
}

TEST(ClientBdat, ZeroByteBody) {
  const Outcome o = RunScript(OneMessage(""),
                              {{S(kGreeting), S(kEhlo)},
                               {S(kChunkingPipelining), S(kEnvelope) + "BDAT 0 LAST\r\n"},
                               {"250 ok\r\n250 ok\r\n250 ok\r\n", "QUIT\r\n"}});
  EXPECT_EQ(o.results, std::vector<std::string>{"250 | 250"});
}

TEST(ClientBdat, ManyChunksWithLast) {
  const Outcome o = RunScript(
      OneMessage("abcdefgh\r\n", 4),
      {{S(kGreeting), S(kEhlo)},
       {S(kChunkingPipelining),
        S(kEnvelope) + "BDAT 4\r\nabcdBDAT 4\r\nefghBDAT 2 LAST\r\n\r\n"},
       {"250 ok\r\n250 ok\r\n250 ok\r\n250 ok\r\n250 ok\r\n", "QUIT\r\n"}});
  EXPECT_EQ(o.results, std::vector<std::string>{"250 | 250"});
}

TEST(ClientBdat, BareLineEndingsNormalisedNoStuffing) {
  RunScript(OneMessage(".a\nb\r.\r\n"),
            {{S(kGreeting), S(kEhlo)},
             {S(kChunkingPipelining), S(kEnvelope) + "BDAT 10 LAST\r\n.a\r\nb\r\n.\r\n"}});
}

TEST(ClientBdat, WithoutPipeliningOneChunkPerReply) {
  const Outcome o = RunScript(OneMessage("abcdef", 3),
                              {{S(kGreeting), S(kEhlo)},
                               {"250-mx\r\n250 CHUNKING\r\n", "MAIL FROM:<a@x.example>\r\n"},
                               {"250 ok\r\n", "RCPT TO:<b@y.example>\r\n"},
                               {"250 ok\r\n", "BDAT 3\r\nabc"},
                               {"250 ok\r\n", "BDAT 5 LAST\r\ndef\r\n"},
                               {"250 ok\r\n", "QUIT\r\n"}});
  EXPECT_EQ(o.results, std::vector<std::string>{"250 | 250"});
}

TEST(ClientBdat, DisabledByConfigUsesData) {
  ClientSetup setup = OneMessage("x\r\n");
  setup.config.use_bdat = false;
  RunScript(setup, {{S(kGreeting), S(kEhlo)},
                    {S(kChunkingPipelining), S(kEnvelope) + "DATA\r\n"},
                    {"250 ok\r\n250 ok\r\n354 go\r\n", "x\r\n.\r\n"}});
}

TEST(ClientBdat, ChunksInFlightAreBounded) {
  const size_t max = limits::kClientBdatChunksInFlightMax;
  ClientSetup setup = OneMessage(std::string(max + 2, 'z'), 1);
  client_test::FakeServer server(setup);
  server.Turn(kGreeting, 100);
  const std::string batch = server.Turn(kChunkingPipelining, 100);
  EXPECT_EQ(server.client().phase(), Phase::kAwaitingChunkReply);
  std::string expected = S(kEnvelope);
  for (size_t i = 0; i < max; ++i) expected += "BDAT 1\r\nz";
  EXPECT_EQ(batch, expected);
  // One chunk answered: one more goes out.
  EXPECT_EQ(server.Turn("250 ok\r\n250 ok\r\n250 ok\r\n", 100), "BDAT 1\r\nz");
  EXPECT_EQ(server.Turn("250 ok\r\n", 100), "BDAT 3 LAST\r\nz\r\n");
  EXPECT_EQ(server.client().phase(), Phase::kAwaitingFinalReply);
}

TEST(ClientBdat, RefusedChunkStopsTheBodyThenRset) {
  const Outcome o = RunScript(
      OneMessage("abcdefgh", 4),
      {{S(kGreeting), S(kEhlo)},
       {S(kChunkingPipelining), S(kEnvelope) + "BDAT 4\r\nabcdBDAT 6 LAST\r\nefgh\r\n"},
       {"250 ok\r\n250 ok\r\n452 4.3.1 full\r\n", ""},
       {"503 no\r\n", "RSET\r\n"},
       {"250 ok\r\n", "QUIT\r\n"}});
  EXPECT_EQ(o.results, std::vector<std::string>{"250 | 452"});
}

TEST(ClientBdat, AllRecipientsRefusedStopsTheBody) {
  const size_t max = limits::kClientBdatChunksInFlightMax;
  ClientSetup setup = OneMessage(std::string(max + 5, 'z'), 1);
  client_test::FakeServer server(setup);
  server.Turn(kGreeting, 100);
  server.Turn(kChunkingPipelining, 100);
  EXPECT_EQ(server.client().phase(), Phase::kAwaitingChunkReply);
  EXPECT_EQ(server.Turn("250 ok\r\n550 no\r\n", 100), "");
  EXPECT_EQ(server.client().phase(), Phase::kAwaitingReplies);
  std::string refusals;
  for (size_t i = 0; i < max; ++i) refusals += "554 5.5.1 no valid recipients\r\n";
  EXPECT_EQ(server.Turn(refusals, 1), "RSET\r\n");
  EXPECT_TRUE(server.outcome().results.empty());  // the result waits for RSET's reply
  EXPECT_EQ(server.Turn("250 ok\r\n", 1), "QUIT\r\n");
  EXPECT_EQ(server.outcome().results, std::vector<std::string>{"550 | -"});
}

TEST(ClientBdat, TimeoutAfterLastChunkIsUncertain) {
  ClientSetup setup = OneMessage("x\r\n");
  client_test::FakeServer server(setup);
  server.Turn(kGreeting, 100);
  server.Turn(kChunkingPipelining, 100);
  server.Turn("250 ok\r\n", 100);  // MAIL only: RCPT and BDAT still unanswered
  EXPECT_EQ(server.client().phase(), Phase::kAwaitingFinalReply);
  server.client().OnTransportFailure(TransportFailure::kTimeout);
  server.Turn("", 1);
  EXPECT_EQ(server.outcome().results, std::vector<std::string>{"451L | 451L uncertain"});
}

}  // namespace
}  // namespace ringmta::smtp
