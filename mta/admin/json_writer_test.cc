#include "mta/admin/json_writer.h"

#include <string>

#include "gtest/gtest.h"

namespace ringmta::admin {
namespace {

std::string Quote(std::string_view text, size_t bytes_max = 1000) {
  std::string out;
  AppendJsonString(text, bytes_max, &out);
  return out;
}

TEST(JsonStringTest, EscapesQuotesBackslashesAndLineBreaks) {
  EXPECT_EQ(Quote("a\"b\\c"), R"("a\"b\\c")");
  EXPECT_EQ(Quote("one\r\ntwo\tthree"), R"("one\r\ntwo\tthree")");
}

TEST(JsonStringTest, EscapesOtherControlCharactersAndDelete) {
  EXPECT_EQ(Quote(std::string("\x00\x01\x1b\x7f", 4)), R"("\u0000\u0001\u001b\u007f")");
}

TEST(JsonStringTest, KeepsWellFormedUtf8) {
  EXPECT_EQ(Quote("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\xa7"), "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\xa7\"");
}

TEST(JsonStringTest, ReplacesEachInvalidByteWithReplacementCharacter) {
  EXPECT_EQ(Quote("a\xff" "b"), R"("a\ufffdb")");
  // Overlong encoding of '/', a lone continuation byte, a truncated sequence.
  EXPECT_EQ(Quote("\xc0\xaf"), R"("\ufffd\ufffd")");
  EXPECT_EQ(Quote("\x80"), R"("\ufffd")");
  EXPECT_EQ(Quote("\xe2\x82"), R"("\ufffd\ufffd")");
  // A UTF-16 surrogate (U+D800) and a code point above U+10FFFF.
  EXPECT_EQ(Quote("\xed\xa0\x80"), R"("\ufffd\ufffd\ufffd")");
  EXPECT_EQ(Quote("\xf4\x90\x80\x80"), R"("\ufffd\ufffd\ufffd\ufffd")");
}

TEST(JsonStringTest, CutsAtTheBoundWithoutSplittingASequence) {
  EXPECT_EQ(Quote("abcdef", 3), R"("abc")");
  // "a" + a 2-byte sequence: a cut at 2 bytes must drop the whole sequence.
  EXPECT_EQ(Quote("a\xc3\xa9", 2), R"("a")");
  EXPECT_EQ(Quote("a\xc3\xa9", 3), "\"a\xc3\xa9\"");
}

TEST(JsonLineTest, BuildsOneObjectOnOneLine) {
  JsonLine line;
  line.String("event", "received").Int("n", -3).Uint("size", 42).Bool("tls", true).Null("auth");
  EXPECT_EQ(line.Finish(),
            "{\"event\":\"received\",\"n\":-3,\"size\":42,\"tls\":true,\"auth\":null}\n");
}

TEST(JsonLineTest, PeerTextCannotStartASecondLine) {
  JsonLine line;
  line.String("response", "250 ok\n{\"event\":\"forged\"}");
  std::string text = line.Finish();
  EXPECT_EQ(text.find('\n'), text.size() - 1);
}

TEST(JsonLineTest, EmptyObject) { EXPECT_EQ(JsonLine().Finish(), "{}\n"); }

}  // namespace
}  // namespace ringmta::admin
