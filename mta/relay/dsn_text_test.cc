// The DSN building blocks on their own: sanitising, xtext and RFC 6533
// escapes, dates, folding, wrapping, address types and boundaries.
#include <string>
#include <string_view>

#include "gtest/gtest.h"
#include "mta/relay/dsn_internal.h"
#include "mta/relay/dsn_test_util.h"

namespace ringmta::relay::dsn_internal {
namespace {

TEST(DsnTextTest, SafeTextTurnsLineBreaksIntoSpaces) {
  EXPECT_EQ(SafeText("  550 a\r\n550 b\n\tc  ", 100, false), "550 a 550 b c");
}

TEST(DsnTextTest, SafeTextReplacesControlsAndEightBit) {
  EXPECT_EQ(SafeText("a\x01" "b\x7f" "c\xC3\xA9", 100, false), "a?b?c??");
  EXPECT_EQ(SafeText("caf\xC3\xA9", 100, true), "caf\xC3\xA9");
  EXPECT_EQ(SafeText("bad\xC3(", 100, true), "bad?(");   // truncated sequence
  EXPECT_EQ(SafeText("\xED\xA0\x80", 100, true), "???");  // a surrogate
}

TEST(DsnTextTest, SafeTextNeverSplitsACharacter) {
  EXPECT_EQ(SafeText("ab\xC3\xA9", 3, true), "ab");
  EXPECT_EQ(SafeText("abcdef", 4, false), "abcd");
}

TEST(DsnTextTest, XtextDecodes) {
  EXPECT_EQ(XtextDecode("a+2Bb+3Dc"), "a+b=c");
  EXPECT_EQ(XtextDecode("trailing+"), "trailing+");
  EXPECT_EQ(XtextDecode("bad+ZZ"), "bad+ZZ");
  EXPECT_EQ(XtextDecode("+0D+0A"), "\r\n");  // decoded, so callers SafeText it
}

TEST(DsnTextTest, Utf8AddrXtextEscapesPerRfc6533) {
  EXPECT_EQ(Utf8AddrXtext("plain@example.com"), "plain@example.com");
  EXPECT_EQ(Utf8AddrXtext("a+b=c\\d"), "a\\x{2B}b\\x{3D}c\\x{5C}d");
  EXPECT_EQ(Utf8AddrXtext("j\xC3\xB6rg@\xE4\xB8\xAD.example"), "j\\x{F6}rg@\\x{4E2D}.example");
  EXPECT_EQ(Utf8AddrXtext("x\xFFy"), "x\\x{FFFD}y");
}

TEST(DsnTextTest, DatesAreRfc5322InUtc) {
  EXPECT_EQ(Rfc5322Date(0), "Thu, 01 Jan 1970 00:00:00 +0000");
  EXPECT_EQ(Rfc5322Date(951'782'400'000), "Tue, 29 Feb 2000 00:00:00 +0000");
}

TEST(DsnTextTest, FieldsFoldAtSpacesWithin78) {
  std::string value;
  for (int i = 0; i < 40; ++i) value += "word" + std::to_string(i) + " ";
  std::string out;
  AppendField("Diagnostic-Code", SafeText(value, 1000, false), &out);
  const std::vector<std::string> lines = testing::CrlfLines(out);
  ASSERT_GT(lines.size(), 3u);
  for (size_t i = 0; i < lines.size(); ++i) {
    EXPECT_LE(lines[i].size(), 78u) << lines[i];
    if (i > 0) {
      EXPECT_EQ(lines[i][0], ' ');
    }
  }
  EXPECT_EQ(testing::FieldValue(out, "Diagnostic-Code"), SafeText(value, 1000, false));
}

TEST(DsnTextTest, UnbrokenRunsStayWithin998) {
  std::string out;
  AppendField("X", std::string(3000, 'z'), &out);
  const std::vector<std::string> lines = testing::CrlfLines(out);
  ASSERT_EQ(lines.size(), 4u);
  for (const std::string& line : lines) EXPECT_LE(line.size(), 998u);
}

TEST(DsnTextTest, WrappedTextIsIndentedAndShort) {
  std::string out;
  AppendWrapped(std::string(200, 'a') + " --boundary b c", "    ", &out);
  for (const std::string& line : testing::CrlfLines(out)) {
    EXPECT_LE(line.size(), 76u);
    EXPECT_EQ(line.rfind("    ", 0), 0u) << line;
  }
}

TEST(DsnTextTest, AddressTypes) {
  EXPECT_EQ(AddressWithType("bob@example.net", false), "rfc822;bob@example.net");
  EXPECT_EQ(AddressWithType("j\xC3\xB6rg@x.example", true), "utf-8;j\xC3\xB6rg@x.example");
  EXPECT_EQ(AddressWithType("j\xC3\xB6rg@x.example", false), "utf-8;j\\x{F6}rg@x.example");
}

TEST(DsnTextTest, OriginalRecipientNeedsATypeAndAnAddress) {
  EXPECT_EQ(OriginalRecipient("", false), "");
  EXPECT_EQ(OriginalRecipient("no-semicolon", false), "");
  EXPECT_EQ(OriginalRecipient(";a@b", false), "");
  EXPECT_EQ(OriginalRecipient("RFC822;a+2Bb@c", false), "rfc822;a+b@c");
  EXPECT_EQ(OriginalRecipient("utf-8;j\\x{F6}rg@c", false), "utf-8;j\\x{F6}rg@c");
  EXPECT_EQ(OriginalRecipient("x400;a+0D+0Ab", false), "x400;a b");
}

TEST(DsnTextTest, StatusCodes) {
  EXPECT_EQ(StatusText({5, 7, 1}, DsnAction::kFailed), "5.7.1");
  EXPECT_EQ(StatusText({0, 0, 0}, DsnAction::kDelayed), "4.0.0");
  EXPECT_EQ(StatusText({3, 1, 1}, DsnAction::kDelivered), "2.0.0");
}

TEST(DsnTextTest, ActionNamesAreRfc3464s) {
  EXPECT_EQ(ActionName(DsnAction::kFailed), "failed");
  EXPECT_EQ(ActionName(DsnAction::kDelayed), "delayed");
  EXPECT_EQ(ActionName(DsnAction::kDelivered), "delivered");
  EXPECT_EQ(ActionName(DsnAction::kRelayed), "relayed");
  EXPECT_EQ(ActionName(DsnAction::kExpanded), "expanded");
}

TEST(DsnTextTest, BoundaryIsStableAndSkipsOccurrences) {
  const std::string first = ChooseBoundary("seed", {});
  EXPECT_EQ(first, ChooseBoundary("seed", {}));
  EXPECT_NE(first, ChooseBoundary("other", {}));
  EXPECT_EQ(first.back(), '=');
  EXPECT_LE(first.size(), 70u);  // RFC 2046 §5.1.1
  const std::string prefix = first.substr(0, first.size() - 2);  // drop "0="
  const std::string content = "x" + first + prefix + "1=" + prefix + "3=" + prefix + "2";
  const std::string chosen = ChooseBoundary("seed", {std::string_view(content)});
  EXPECT_EQ(chosen, prefix + "2=");
  EXPECT_EQ(content.find(chosen), std::string::npos);
}

}  // namespace
}  // namespace ringmta::relay::dsn_internal
