// Tests for bounded CRLF line framing over arbitrary chunking.
#include "mta/smtp/line_splitter.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace ringmta::smtp {
namespace {

// Feeds `input` in chunks of `chunk` bytes; returns lines, with "<LONG>" for
// kTooLong and a "~" prefix for bare-LF lines.
std::vector<std::string> Split(LineSplitter& splitter, std::string_view input, size_t chunk) {
  std::vector<std::string> out;
  for (size_t at = 0; at < input.size(); at += chunk) {
    std::string_view piece = input.substr(at, chunk);
    while (!piece.empty()) {
      const LineSplitter::Event event = splitter.Next(piece);
      EXPECT_GT(event.consumed, 0u);
      piece.remove_prefix(event.consumed);
      if (event.kind == LineSplitter::Event::Kind::kLine) {
        out.push_back((event.bare_lf ? "~" : "") + std::string(event.line));
      } else if (event.kind == LineSplitter::Event::Kind::kTooLong) {
        out.push_back("<LONG>");
      }
    }
  }
  return out;
}

TEST(LineSplitter, ChunkingIndependent) {
  const std::string input = "EHLO a\r\nMAIL FROM:<>\r\n\r\nNOOP\n";
  const std::vector<std::string> expected = {"EHLO a", "MAIL FROM:<>", "", "~NOOP"};
  for (size_t chunk = 1; chunk <= input.size(); ++chunk) {
    LineSplitter splitter(512);
    EXPECT_EQ(Split(splitter, input, chunk), expected) << "chunk " << chunk;
    EXPECT_FALSE(splitter.has_partial());
  }
}

TEST(LineSplitter, BoundCountsCrlf) {
  LineSplitter splitter(10);
  EXPECT_EQ(Split(splitter, "12345678\r\n", 3), std::vector<std::string>{"12345678"});
  EXPECT_EQ(Split(splitter, "123456789\r\n", 3), std::vector<std::string>{"<LONG>"});
  EXPECT_EQ(Split(splitter, "12345678\n", 100), std::vector<std::string>{"~12345678"});
  EXPECT_EQ(Split(splitter, "123456789\n", 100), std::vector<std::string>{"<LONG>"});
}

TEST(LineSplitter, OverlongLineReportedOnceAndSkipped) {
  const std::string input = std::string(5000, 'x') + "\r\nNOOP\r\n";
  for (size_t chunk : {1, 7, 100, 6000}) {
    LineSplitter splitter(512);
    EXPECT_EQ(Split(splitter, input, chunk), (std::vector<std::string>{"<LONG>", "NOOP"}))
        << chunk;
  }
}

TEST(LineSplitter, PartialNeverExceedsBound) {
  LineSplitter splitter(16);
  const LineSplitter::Event first = splitter.Next(std::string(15, 'a'));
  EXPECT_EQ(first.kind, LineSplitter::Event::Kind::kNone);
  const LineSplitter::Event second = splitter.Next("b");
  EXPECT_EQ(second.kind, LineSplitter::Event::Kind::kTooLong);
  EXPECT_TRUE(splitter.has_partial());  // skipping
  EXPECT_EQ(Split(splitter, "tail\nOK\r\n", 4), std::vector<std::string>{"OK"});
}

TEST(LineSplitter, ResetDropsPartial) {
  LineSplitter splitter(512);
  splitter.Next("MAIL FR");
  EXPECT_TRUE(splitter.has_partial());
  splitter.Reset();
  EXPECT_FALSE(splitter.has_partial());
  EXPECT_EQ(Split(splitter, "OM:<>\r\n", 100), std::vector<std::string>{"OM:<>"});
}

}  // namespace
}  // namespace ringmta::smtp
