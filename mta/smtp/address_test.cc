// Tests for RFC 5321 path parsing: one test per grammar rule and bound.
#include "mta/smtp/address.h"

#include <string>

#include <gtest/gtest.h>

#include "mta/smtp/utf8.h"

namespace ringmta::smtp {
namespace {

TEST(ParseReversePath, NullPath) {
  auto path = ParseReversePath("<>");
  ASSERT_TRUE(path.ok());
  EXPECT_TRUE(path->is_null);
  EXPECT_EQ(path->Mailbox(), "");
  EXPECT_FALSE(ParseForwardPath("<>").ok());
}

TEST(ParsePath, PlainMailbox) {
  auto path = ParseForwardPath("<John.Doe+tag@Example.COM>");
  ASSERT_TRUE(path.ok());
  EXPECT_EQ(path->local_part, "John.Doe+tag");
  EXPECT_EQ(path->domain, "Example.COM");
  EXPECT_EQ(path->Mailbox(), "John.Doe+tag@Example.COM");
  EXPECT_FALSE(path->has_non_ascii);
}

TEST(ParsePath, QuotedLocalPart) {
  auto path = ParseForwardPath("<\"john doe\\\"x\"@example.com>");
  ASSERT_TRUE(path.ok());
  EXPECT_EQ(path->local_part, "\"john doe\\\"x\"");
  EXPECT_FALSE(ParseForwardPath("<\"unterminated@example.com>").ok());
  EXPECT_FALSE(ParseForwardPath("<\"a\"b@example.com>").ok());
  EXPECT_FALSE(ParseForwardPath("<\"a\\\x01\"@example.com>").ok());
}

TEST(ParsePath, BadDotStrings) {
  EXPECT_FALSE(ParseForwardPath("<.a@b>").ok());
  EXPECT_FALSE(ParseForwardPath("<a.@b>").ok());
  EXPECT_FALSE(ParseForwardPath("<a..b@b>").ok());
  EXPECT_FALSE(ParseForwardPath("<a b@b>").ok());
  EXPECT_FALSE(ParseForwardPath("<@b>").ok());
  EXPECT_FALSE(ParseForwardPath("<a@>").ok());
  EXPECT_FALSE(ParseForwardPath("<a@b@c>").ok());
  EXPECT_FALSE(ParseForwardPath("a@b").ok());
}

TEST(ParsePath, Domains) {
  EXPECT_TRUE(ParseForwardPath("<a@a-b.c0>").ok());
  EXPECT_FALSE(ParseForwardPath("<a@-ab.c>").ok());
  EXPECT_FALSE(ParseForwardPath("<a@ab-.c>").ok());
  EXPECT_FALSE(ParseForwardPath("<a@a..c>").ok());
  EXPECT_FALSE(ParseForwardPath("<a@a.c.>").ok());
  EXPECT_FALSE(ParseForwardPath("<a@a_b.c>").ok());
  EXPECT_FALSE(ParseForwardPath("<a@" + std::string(64, 'x') + ".c>").ok());  // label > 63
  EXPECT_TRUE(ParseForwardPath("<a@" + std::string(63, 'x') + ".c>").ok());
}

TEST(ParsePath, AddressLiterals) {
  EXPECT_EQ(ParseForwardPath("<a@[192.0.2.1]>")->domain, "[192.0.2.1]");
  EXPECT_TRUE(ParseForwardPath("<a@[IPv6:2001:db8::1]>").ok());
  EXPECT_TRUE(ParseForwardPath("<a@[ipv6:::ffff:192.0.2.1]>").ok());
  EXPECT_FALSE(ParseForwardPath("<a@[256.0.0.1]>").ok());
  EXPECT_FALSE(ParseForwardPath("<a@[1.2.3]>").ok());
  EXPECT_FALSE(ParseForwardPath("<a@[1.2.3.4.5]>").ok());
  EXPECT_FALSE(ParseForwardPath("<a@[1.2.3.0004]>").ok());
  EXPECT_FALSE(ParseForwardPath("<a@[IPv6:2001:db8::g]>").ok());
  EXPECT_FALSE(ParseForwardPath("<a@[x-tag:foo]>").ok());  // general literal: no registered tag
  EXPECT_FALSE(ParseForwardPath("<a@[]>").ok());
}

// Found by address_fuzzer: inet_pton stopped at the NUL and saw "::".
TEST(ParsePath, FuzzRegressionNulInIpv6Literal) {
  const std::string text = std::string("<%.0@[IPv6:::") + std::string(3, '\0') + "1]>";
  EXPECT_FALSE(ParseForwardPath(text).ok());
  EXPECT_FALSE(ParseForwardPath("<a@[IPv6:: :1]>").ok());
}

TEST(ParsePath, SourceRouteIsDropped) {
  auto path = ParseForwardPath("<@relay1.example,@relay2.example:user@final.example>");
  ASSERT_TRUE(path.ok());
  EXPECT_EQ(path->Mailbox(), "user@final.example");
  EXPECT_FALSE(ParseForwardPath("<@relay1.example:>").ok());
  EXPECT_FALSE(ParseForwardPath("<@relay1.example,user@x>").ok());
  EXPECT_FALSE(ParseForwardPath("<@bad_domain:user@x>").ok());
  EXPECT_FALSE(ParseForwardPath("<@a,:user@x>").ok());
}

TEST(ParsePath, BarePostmasterOnlyAsForwardPath) {
  auto path = ParseForwardPath("<postMaster>");
  ASSERT_TRUE(path.ok());
  EXPECT_EQ(path->Mailbox(), "postMaster");
  EXPECT_FALSE(ParseReversePath("<Postmaster>").ok());
  EXPECT_FALSE(ParseForwardPath("<webmaster>").ok());
}

TEST(ParsePath, Utf8IsFlaggedAndValidated) {
  auto path = ParseForwardPath("<j\xc3\xb6rg@b\xc3\xbc" "cher.example>");
  ASSERT_TRUE(path.ok());
  EXPECT_TRUE(path->has_non_ascii);
  EXPECT_FALSE(ParseForwardPath("<j\xc3@example.com>").ok());       // truncated
  EXPECT_FALSE(ParseForwardPath("<j\xc0\xaf@example.com>").ok());   // overlong
  EXPECT_FALSE(ParseForwardPath("<j\xed\xa0\x80@example.com>").ok());  // surrogate
}

TEST(ParsePath, LengthLimits) {
  const std::string local64(64, 'l');
  EXPECT_TRUE(ParseForwardPath("<" + local64 + "@x.example>").ok());
  EXPECT_FALSE(ParseForwardPath("<" + local64 + "l@x.example>").ok());
  // 256 octets including the brackets is the bound (RFC 5321 §4.5.3.1.3).
  const std::string domain = std::string(60, 'a') + "." + std::string(60, 'b') + "." +
                             std::string(60, 'c') + ".dddddd";
  const std::string fits = "<" + local64 + "@" + domain + ">";
  ASSERT_EQ(fits.size(), 256u);
  EXPECT_TRUE(ParseForwardPath(fits).ok());
  EXPECT_FALSE(ParseForwardPath("<" + local64 + "@" + domain + "d>").ok());
  EXPECT_FALSE(ParseForwardPath("<a@" + std::string(256, 'd') + ">").ok());
}

TEST(Utf8, Validation) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("ascii"));
  EXPECT_TRUE(IsValidUtf8("\xe2\x82\xac"));          // U+20AC
  EXPECT_TRUE(IsValidUtf8("\xf0\x9f\x98\x80"));      // U+1F600
  EXPECT_TRUE(IsValidUtf8("\xf4\x8f\xbf\xbf"));      // U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));     // above U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\xe0\x80\xaf"));         // overlong
  EXPECT_FALSE(IsValidUtf8("\x80"));
  EXPECT_FALSE(IsValidUtf8("\xe2\x82"));
  EXPECT_FALSE(IsValidUtf8("\xe2\x28\xac"));
  EXPECT_FALSE(IsValidUtf8("\xff"));
}

}  // namespace
}  // namespace ringmta::smtp
