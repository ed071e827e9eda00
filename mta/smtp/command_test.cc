// Tests for command-line and ESMTP-parameter parsing.
#include "mta/smtp/command.h"

#include <string>

#include <gtest/gtest.h>

namespace ringmta::smtp {
namespace {

TEST(ParseCommand, VerbsAreCaseInsensitive) {
  EXPECT_EQ(ParseCommand("ehlo x")->verb, Verb::kEhlo);
  EXPECT_EQ(ParseCommand("EhLo x")->verb, Verb::kEhlo);
  EXPECT_EQ(ParseCommand("StartTLS")->verb, Verb::kStartTls);
  EXPECT_EQ(ParseCommand("bdat 10 last")->verb, Verb::kBdat);
}

TEST(ParseCommand, AllVerbs) {
  const std::pair<const char*, Verb> cases[] = {
      {"HELO", Verb::kHelo}, {"EHLO", Verb::kEhlo}, {"MAIL", Verb::kMail},
      {"RCPT", Verb::kRcpt}, {"DATA", Verb::kData}, {"BDAT", Verb::kBdat},
      {"RSET", Verb::kRset}, {"NOOP", Verb::kNoop}, {"QUIT", Verb::kQuit},
      {"VRFY", Verb::kVrfy}, {"EXPN", Verb::kExpn}, {"HELP", Verb::kHelp},
      {"STARTTLS", Verb::kStartTls}, {"AUTH", Verb::kAuth}};
  for (const auto& [name, verb] : cases) EXPECT_EQ(ParseCommand(name)->verb, verb) << name;
}

TEST(ParseCommand, UnknownVerbIsNotAnError) {
  auto command = ParseCommand("XFOO bar");
  ASSERT_TRUE(command.ok());
  EXPECT_EQ(command->verb, Verb::kUnknown);
  EXPECT_EQ(ParseCommand("")->verb, Verb::kUnknown);
  EXPECT_EQ(ParseCommand("MAILX FROM:<>")->verb, Verb::kUnknown);
}

TEST(ParseCommand, StripsLineEndingAndTrimsArgument) {
  auto command = ParseCommand("MAIL   FROM:<a@b>  \r\n");
  ASSERT_TRUE(command.ok());
  EXPECT_EQ(command->verb, Verb::kMail);
  EXPECT_EQ(command->argument, "FROM:<a@b>");
  EXPECT_EQ(ParseCommand("NOOP\n")->argument, "");
}

TEST(ParseCommand, RejectsControlCharacters) {
  EXPECT_FALSE(ParseCommand(std::string("NOOP a\0b", 8)).ok());
  EXPECT_FALSE(ParseCommand("NOOP a\rb").ok());
  EXPECT_FALSE(ParseCommand("NOOP a\nb\r\n").ok());
  EXPECT_FALSE(ParseCommand("NOOP \x7f").ok());
  EXPECT_TRUE(ParseCommand("NOOP a\tb").ok());
  EXPECT_TRUE(ParseCommand("NOOP caf\xc3\xa9").ok());
}

TEST(ParseCommand, LengthBoundCountsCrlf) {
  const std::string ok_line = "NOOP " + std::string(505, 'x');  // 510 + CRLF = 512
  EXPECT_TRUE(ParseCommand(ok_line).ok());
  EXPECT_TRUE(ParseCommand(ok_line + "\r\n").ok());
  EXPECT_FALSE(ParseCommand(ok_line + "x").ok());
  EXPECT_FALSE(ParseCommand("NOOP 1234", 10).ok());
}

TEST(ParsePathArgument, SplitsPathAndParams) {
  auto arg = ParsePathArgument("FROM:<a@b.c> SIZE=100 BODY=8BITMIME SMTPUTF8", "FROM:");
  ASSERT_TRUE(arg.ok());
  EXPECT_EQ(arg->path, "<a@b.c>");
  ASSERT_EQ(arg->params.size(), 3u);
  EXPECT_EQ(arg->params[0].keyword, "SIZE");
  EXPECT_EQ(arg->params[0].value, "100");
  EXPECT_TRUE(arg->params[0].has_value);
  EXPECT_EQ(arg->params[2].keyword, "SMTPUTF8");
  EXPECT_FALSE(arg->params[2].has_value);
}

TEST(ParsePathArgument, PrefixCaseAndSpaceTolerance) {
  EXPECT_EQ(ParsePathArgument("to:<x@y>", "TO:")->path, "<x@y>");
  EXPECT_EQ(ParsePathArgument("TO: <x@y>", "TO:")->path, "<x@y>");
  EXPECT_FALSE(ParsePathArgument("TO <x@y>", "TO:").ok());
  EXPECT_FALSE(ParsePathArgument("FROM:<x@y>", "TO:").ok());
  EXPECT_FALSE(ParsePathArgument("TO:x@y", "TO:").ok());
  EXPECT_FALSE(ParsePathArgument("TO:<x@y", "TO:").ok());
  EXPECT_FALSE(ParsePathArgument("TO:<x@y>junk", "TO:").ok());
  EXPECT_FALSE(ParsePathArgument("T", "TO:").ok());
}

TEST(ParsePathArgument, QuotedAngleBracketDoesNotEndPath) {
  auto arg = ParsePathArgument("TO:<\"a>b\\\"c\"@d> NOTIFY=NEVER", "TO:");
  ASSERT_TRUE(arg.ok());
  EXPECT_EQ(arg->path, "<\"a>b\\\"c\"@d>");
  ASSERT_EQ(arg->params.size(), 1u);
}

TEST(ParseEsmtpParams, Syntax) {
  EXPECT_TRUE(ParseEsmtpParams("").ok());
  EXPECT_TRUE(ParseEsmtpParams("A-1=x  B").ok());
  EXPECT_FALSE(ParseEsmtpParams("-A=x").ok());    // keyword starts alnum
  EXPECT_FALSE(ParseEsmtpParams("A_B=x").ok());   // keyword charset
  EXPECT_FALSE(ParseEsmtpParams("A=").ok());      // value is 1*char
  EXPECT_FALSE(ParseEsmtpParams("A=b=c").ok());   // "=" excluded from value
  EXPECT_FALSE(ParseEsmtpParams("A=b\x01").ok()); // CTL excluded
  EXPECT_TRUE(ParseEsmtpParams("ORCPT=utf-8;caf\xc3\xa9").ok());  // RFC 6531 §3.3
  EXPECT_FALSE(ParseEsmtpParams("ORCPT=utf-8;caf\xc3").ok());     // bad UTF-8
}

TEST(ParseEsmtpParams, CountIsBounded) {
  std::string many;
  for (int i = 0; i < 17; ++i) many += "X" + std::to_string(i) + " ";
  EXPECT_FALSE(ParseEsmtpParams(many).ok());
  std::string sixteen;
  for (int i = 0; i < 16; ++i) sixteen += "X" + std::to_string(i) + " ";
  EXPECT_TRUE(ParseEsmtpParams(sixteen).ok());
}

}  // namespace
}  // namespace ringmta::smtp
