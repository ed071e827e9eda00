// Tests for the reply parser: well-formed replies (whole and byte by byte),
// enhanced codes, and one named test per way a server's reply can be garbage.
#include "mta/smtp/reply_parser.h"

#include <string>

#include <gtest/gtest.h>

namespace ringmta::smtp {
namespace {

struct Parsed {
  std::vector<ServerReply> replies;
  ReplyError error = ReplyError::kNone;
};

// Feeds `input` in chunks of `chunk` bytes and collects every reply.
Parsed ParseAll(std::string_view input, size_t chunk, ReplyParserOptions options = {}) {
  ReplyParser parser(options);
  Parsed parsed;
  for (size_t at = 0; at < input.size(); at += chunk) {
    std::string_view piece = input.substr(at, chunk);
    while (!piece.empty()) {
      const ReplyParser::Step step = parser.Feed(piece);
      piece.remove_prefix(step.consumed);
      if (step.kind == ReplyParser::Step::Kind::kError) {
        parsed.error = step.error;
        return parsed;
      }
      if (step.kind == ReplyParser::Step::Kind::kReply) parsed.replies.push_back(parser.TakeReply());
    }
  }
  return parsed;
}

// Whole and byte by byte must agree.
Parsed Parse(std::string_view input, ReplyParserOptions options = {}) {
  const Parsed whole = ParseAll(input, input.size() + 1, options);
  const Parsed split = ParseAll(input, 1, options);
  EXPECT_EQ(whole.error, split.error);
  EXPECT_EQ(whole.replies.size(), split.replies.size());
  for (size_t i = 0; i < whole.replies.size() && i < split.replies.size(); ++i) {
    EXPECT_EQ(whole.replies[i].lines, split.replies[i].lines);
  }
  return whole;
}

ReplyError ErrorOf(std::string_view input, ReplyParserOptions options = {}) {
  return Parse(input, options).error;
}

TEST(ReplyParser, SingleLine) {
  const Parsed p = Parse("250 OK\r\n");
  ASSERT_EQ(p.replies.size(), 1u);
  EXPECT_EQ(p.replies[0].code, 250);
  EXPECT_EQ(p.replies[0].enhanced, "");
  EXPECT_EQ(p.replies[0].lines, std::vector<std::string>{"OK"});
  EXPECT_FALSE(p.replies[0].local);
}

TEST(ReplyParser, MultiLine) {
  const Parsed p = Parse("250-mx.example\r\n250-PIPELINING\r\n250 SIZE 100\r\n");
  ASSERT_EQ(p.replies.size(), 1u);
  EXPECT_EQ(p.replies[0].lines,
            (std::vector<std::string>{"mx.example", "PIPELINING", "SIZE 100"}));
}

TEST(ReplyParser, CodeAloneEndsReply) {  // Reply-code [ SP textstring ] CRLF
  const Parsed p = Parse("250-first\r\n250-\r\n250\r\n");
  ASSERT_EQ(p.replies.size(), 1u);
  EXPECT_EQ(p.replies[0].lines, (std::vector<std::string>{"first", "", ""}));
}

TEST(ReplyParser, StopsAfterEachReply) {
  ReplyParser parser;
  const std::string_view input = "250 a\r\n354 b\r\n";
  const ReplyParser::Step step = parser.Feed(input);
  EXPECT_EQ(step.kind, ReplyParser::Step::Kind::kReply);
  EXPECT_EQ(step.consumed, 7u);
  EXPECT_EQ(parser.TakeReply().code, 250);
  const ReplyParser::Step next = parser.Feed(input.substr(7));
  EXPECT_EQ(next.kind, ReplyParser::Step::Kind::kReply);
  EXPECT_EQ(parser.TakeReply().code, 354);
}

TEST(ReplyParser, EnhancedCodeSplitOffEveryLine) {
  const Parsed p = Parse("550-5.1.1 No such user\r\n550 5.1.1 see http://x\r\n");
  ASSERT_EQ(p.replies.size(), 1u);
  EXPECT_EQ(p.replies[0].enhanced, "5.1.1");
  EXPECT_EQ(p.replies[0].lines, (std::vector<std::string>{"No such user", "see http://x"}));
  EXPECT_EQ(p.replies[0].Summary(), "550 5.1.1 No such user / see http://x");
}

TEST(ReplyParser, EnhancedCodeNeedsMatchingClass) {
  const Parsed p = Parse("250 5.1.1 odd\r\n");
  ASSERT_EQ(p.replies.size(), 1u);
  EXPECT_EQ(p.replies[0].enhanced, "");
  EXPECT_EQ(p.replies[0].lines[0], "5.1.1 odd");
}

TEST(ReplyParser, EnhancedCodeShapes) {
  EXPECT_EQ(EnhancedCodeLength("2.0.0", '2'), 5u);
  EXPECT_EQ(EnhancedCodeLength("4.7.10 x", '4'), 6u);
  EXPECT_EQ(EnhancedCodeLength("5.123.456", '5'), 9u);
  EXPECT_EQ(EnhancedCodeLength("5.1234.4", '5'), 0u);
  EXPECT_EQ(EnhancedCodeLength("5.1.1x", '5'), 0u);
  EXPECT_EQ(EnhancedCodeLength("3.0.0", '3'), 0u);  // no 3.x.x class
  EXPECT_EQ(EnhancedCodeLength("5..1", '5'), 0u);
}

TEST(ReplyParser, EightBitTextKept) {
  const Parsed p = Parse("220 h\xc3\xa9llo\tthere\r\n");
  ASSERT_EQ(p.replies.size(), 1u);
  EXPECT_EQ(p.replies[0].lines[0], "h\xc3\xa9llo\tthere");
  EXPECT_EQ(p.replies[0].Summary(), "220 h\\xc3\\xa9llo\\x09there");
}

TEST(ReplyParser, CodeMismatchIsError) {
  EXPECT_EQ(ErrorOf("250-a\r\n251 b\r\n"), ReplyError::kCodeMismatch);
}

TEST(ReplyParser, OverLongLineIsError) {
  EXPECT_EQ(ErrorOf("250 " + std::string(limits::kClientReplyLineBytesMax, 'x') + "\r\n"),
            ReplyError::kLineTooLong);
  // Exactly at the bound is fine.
  const std::string max = "250 " + std::string(limits::kClientReplyLineBytesMax - 6, 'x') + "\r\n";
  EXPECT_EQ(ErrorOf(max), ReplyError::kNone);
}

TEST(ReplyParser, EndlessLineWithoutLfIsError) {
  EXPECT_EQ(ErrorOf(std::string(10000, '2')), ReplyError::kLineTooLong);
}

TEST(ReplyParser, TooManyLinesIsError) {
  std::string reply;
  for (size_t i = 0; i < limits::kClientReplyLinesMax; ++i) reply += "250-x\r\n";
  EXPECT_EQ(ErrorOf(reply + "250 x\r\n"), ReplyError::kTooManyLines);
}

TEST(ReplyParser, TooManyBytesIsError) {
  std::string reply;
  const std::string line = "250-" + std::string(1000, 'y') + "\r\n";
  for (size_t i = 0; i < 17; ++i) reply += line;
  EXPECT_EQ(ErrorOf(reply + "250 x\r\n"), ReplyError::kTooManyBytes);
}

TEST(ReplyParser, NonDigitCodeIsError) {
  EXPECT_EQ(ErrorOf("25x OK\r\n"), ReplyError::kBadCode);
  EXPECT_EQ(ErrorOf("OK\r\n"), ReplyError::kBadCode);
  EXPECT_EQ(ErrorOf("\r\n"), ReplyError::kBadCode);
}

TEST(ReplyParser, CodeOutOfRangeIsError) {
  EXPECT_EQ(ErrorOf("199 x\r\n"), ReplyError::kBadCode);
  EXPECT_EQ(ErrorOf("600 x\r\n"), ReplyError::kBadCode);
}

TEST(ReplyParser, MissingSpaceOrHyphenIsError) {
  EXPECT_EQ(ErrorOf("250OK\r\n"), ReplyError::kBadSeparator);
  EXPECT_EQ(ErrorOf("250_a\r\n"), ReplyError::kBadSeparator);
  EXPECT_EQ(ErrorOf("2500 a\r\n"), ReplyError::kBadSeparator);
}

TEST(ReplyParser, ControlCharacterIsError) {
  EXPECT_EQ(ErrorOf(std::string("250 a\0b\r\n", 9)), ReplyError::kBadText);
  EXPECT_EQ(ErrorOf("250 a\rb\r\n"), ReplyError::kBadText);
  EXPECT_EQ(ErrorOf("250 \x1b[31mred\r\n"), ReplyError::kBadText);
}

TEST(ReplyParser, BareLfRejectedByDefault) {
  EXPECT_EQ(ErrorOf("250 OK\n"), ReplyError::kBareLf);
  ReplyParserOptions lenient;
  lenient.accept_bare_lf = true;
  const Parsed p = Parse("250-a\n250 b\r\n", lenient);
  EXPECT_EQ(p.error, ReplyError::kNone);
  ASSERT_EQ(p.replies.size(), 1u);
  EXPECT_EQ(p.replies[0].lines, (std::vector<std::string>{"a", "b"}));
}

TEST(ReplyParser, ErrorIsSticky) {
  ReplyParser parser;
  EXPECT_EQ(parser.Feed("xyz\r\n").kind, ReplyParser::Step::Kind::kError);
  const ReplyParser::Step step = parser.Feed("250 OK\r\n");
  EXPECT_EQ(step.kind, ReplyParser::Step::Kind::kError);
  EXPECT_EQ(step.consumed, 8u);
}

TEST(ReplyParser, ResetDropsPartialReply) {
  ReplyParser parser;
  EXPECT_EQ(parser.Feed("250-a\r\n250 b").kind, ReplyParser::Step::Kind::kNeedMore);
  EXPECT_TRUE(parser.has_partial());
  parser.Reset();
  EXPECT_FALSE(parser.has_partial());
  EXPECT_EQ(parser.Feed("220 c\r\n").kind, ReplyParser::Step::Kind::kReply);
  const ServerReply reply = parser.TakeReply();
  EXPECT_EQ(reply.code, 220);
  EXPECT_EQ(reply.lines, std::vector<std::string>{"c"});
}

TEST(ReplyParser, LocalReplyIsMarked) {
  const ServerReply reply = LocalReply(553, "5.6.7", "no SMTPUTF8");
  EXPECT_TRUE(reply.local);
  EXPECT_TRUE(reply.IsPermanent());
  EXPECT_EQ(reply.Summary(), "553 5.6.7 no SMTPUTF8");
}

}  // namespace
}  // namespace ringmta::smtp
