// Tests for CHUNKING (RFC 3030) in the server state machine: BDAT chunks,
// BDAT 0 LAST, refused chunks skipped, and mixing with DATA.
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

TEST(ServerProtocol, BdatNeedsEhlo) {
  const Result r = RunAllChunkings(
      "HELO c\r\nMAIL FROM:<a@b.c>\r\nRCPT TO:<d@e.f>\r\nBDAT 6 LAST\r\nQUIT\r\nNOOP\r\n");
  EXPECT_EQ(Codes(r.output), "220 250 250 250 503 250");
  EXPECT_TRUE(r.bodies.empty());
}

TEST(ServerProtocol, RsetBetweenBdatChunksAborts) {
  FakeSink sink;
  const Result r = Play(WithEnvelope("BDAT 3\r\nabcRSET\r\nBDAT 1 LAST\r\nx"), 100, TestConfig(),
                        absl::OkStatus(), &sink);
  EXPECT_EQ(Codes(r.output), "220 250 250 250 250 250 503");
  EXPECT_EQ(sink.aborts, 1);
  EXPECT_TRUE(r.bodies.empty());
}

TEST(ServerProtocol, QuitMidTransactionAborts) {
  FakeSink sink;
  const Result r = Play(WithEnvelope("BDAT 3\r\nabcQUIT\r\n"), 100, TestConfig(),
                        absl::OkStatus(), &sink);
  EXPECT_EQ(Codes(r.output), "220 250 250 250 250 221");
  EXPECT_EQ(sink.aborts, 1);
  EXPECT_TRUE(r.closed);
}

TEST(ServerProtocol, HeloMidTransactionResets) {
  FakeSink sink;
  const Result r = Play(WithEnvelope("BDAT 2\r\nabHELO again\r\nMAIL FROM:<a@b.c>\r\n"), 100,
                        TestConfig(), absl::OkStatus(), &sink);
  EXPECT_EQ(Codes(r.output), "220 250 250 250 250 250 250");
  EXPECT_EQ(sink.aborts, 1);
}

}  // namespace
}  // namespace ringmta::smtp
