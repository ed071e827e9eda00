// Tests for the client's building blocks: EHLO capability parsing, MAIL/RCPT
// formatting with ESMTP parameters, the pre-send checks, AUTH encoding and
// the BDAT line-ending normaliser.
#include "mta/smtp/client_commands.h"

#include <algorithm>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "mta/smtp/client_body.h"
#include "mta/smtp/client_test_util.h"

namespace ringmta::smtp {
namespace {

using client_test::Message;

ServerReply Ehlo(std::vector<std::string> lines) {
  ServerReply reply;
  reply.code = 250;
  reply.lines = std::move(lines);
  return reply;
}

ServerCapabilities AllCaps() {
  return ParseEhloReply(Ehlo({"mx", "PIPELINING", "SIZE 1000", "8BITMIME", "SMTPUTF8",
                              "CHUNKING", "DSN", "STARTTLS", "ENHANCEDSTATUSCODES",
                              "AUTH PLAIN LOGIN"}));
}

TEST(ParseEhloReply, AllKeywords) {
  const ServerCapabilities caps = AllCaps();
  EXPECT_TRUE(caps.esmtp && caps.pipelining && caps.size && caps.eightbitmime);
  EXPECT_TRUE(caps.smtputf8 && caps.chunking && caps.dsn && caps.starttls);
  EXPECT_TRUE(caps.enhanced_status_codes && caps.auth_plain && caps.auth_login);
  EXPECT_EQ(caps.size_max, 1000u);
}

TEST(ParseEhloReply, FirstLineIsNotAKeyword) {
  const ServerCapabilities caps = ParseEhloReply(Ehlo({"PIPELINING"}));
  EXPECT_TRUE(caps.esmtp);
  EXPECT_FALSE(caps.pipelining);
}

TEST(ParseEhloReply, CaseInsensitiveAndLegacyAuth) {
  const ServerCapabilities caps =
      ParseEhloReply(Ehlo({"mx", "pipelining", "auth=login", "X-UNKNOWN 1 2"}));
  EXPECT_TRUE(caps.pipelining);
  EXPECT_TRUE(caps.auth_login);
  EXPECT_FALSE(caps.auth_plain);
}

TEST(ParseEhloReply, SizeWithoutOrWithBadParameterHasNoLimit) {
  EXPECT_EQ(ParseEhloReply(Ehlo({"mx", "SIZE"})).size_max, 0u);
  EXPECT_EQ(ParseEhloReply(Ehlo({"mx", "SIZE lots"})).size_max, 0u);
  EXPECT_TRUE(ParseEhloReply(Ehlo({"mx", "SIZE lots"})).size);
}

TEST(AppendMailFrom, AllParametersWhenOffered) {
  OutboundMessage m = Message({"b@y.example"});
  m.size_bytes = 500;
  m.body = BodyType::k8BitMime;
  m.smtputf8 = true;
  m.ret = DsnRet::kHeaders;
  m.envid = "id+2B1";
  std::string out;
  AppendMailFrom(m, AllCaps(), &out);
  EXPECT_EQ(out,
            "MAIL FROM:<a@x.example> SIZE=500 BODY=8BITMIME SMTPUTF8 RET=HDRS ENVID=id+2B1\r\n");
}

TEST(AppendMailFrom, NoParametersWithoutExtensions) {
  OutboundMessage m = Message({"b@y.example"}, "");
  m.size_bytes = 500;
  m.ret = DsnRet::kFull;
  m.envid = "id";
  std::string out;
  AppendMailFrom(m, ServerCapabilities(), &out);
  EXPECT_EQ(out, "MAIL FROM:<>\r\n");
}

TEST(AppendRcptTo, DsnParameters) {
  std::string out;
  AppendRcptTo(Recipient{"b@y.example", kNotifySuccess | kNotifyDelay, "rfc822;b@y.example"},
               AllCaps(), &out);
  AppendRcptTo(Recipient{"c@y.example", kNotifyNever, ""}, AllCaps(), &out);
  AppendRcptTo(Recipient{"d@y.example", kNotifyFailure, "rfc822;d"}, ServerCapabilities(), &out);
  EXPECT_EQ(out,
            "RCPT TO:<b@y.example> NOTIFY=SUCCESS,DELAY ORCPT=rfc822;b@y.example\r\n"
            "RCPT TO:<c@y.example> NOTIFY=NEVER\r\n"
            "RCPT TO:<d@y.example>\r\n");
}

TEST(ValidateOutboundMessage, RefusesCommandInjection) {
  EXPECT_TRUE(ValidateOutboundMessage(Message({"b@y.example"})).ok());
  EXPECT_FALSE(ValidateOutboundMessage(Message({"b@y\r\nRSET"})).ok());
  EXPECT_FALSE(ValidateOutboundMessage(Message({"b@y.example"}, "a@x\nQUIT")).ok());
  EXPECT_FALSE(ValidateOutboundMessage(Message({})).ok());
  EXPECT_FALSE(ValidateOutboundMessage(Message({""})).ok());
  OutboundMessage m = Message({"b@y.example"});
  m.envid = "has space";
  EXPECT_FALSE(ValidateOutboundMessage(m).ok());
  m = Message({"b@y.example"});
  m.recipients[0].orcpt = "rfc822;b@y\r\n";
  EXPECT_FALSE(ValidateOutboundMessage(m).ok());
  m.recipients[0].orcpt = "no-semicolon";
  EXPECT_FALSE(ValidateOutboundMessage(m).ok());
  m.recipients[0].orcpt = "";
  m.recipients[0].notify = kNotifyNever | kNotifySuccess;
  EXPECT_FALSE(ValidateOutboundMessage(m).ok());
}

TEST(RefuseBeforeSending, Smtputf8AddressNotOffered) {
  ServerCapabilities caps = AllCaps();
  caps.smtputf8 = false;
  const std::optional<ServerReply> r =
      RefuseBeforeSending(Message({"\xc3\xa9@y.example"}), caps);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->Summary(), "553 5.6.7 Server does not support SMTPUTF8 addresses");
  EXPECT_TRUE(r->local);
  OutboundMessage m = Message({"b@y.example"});
  m.smtputf8 = true;
  EXPECT_EQ(RefuseBeforeSending(m, caps)->enhanced, "5.6.9");
  EXPECT_FALSE(RefuseBeforeSending(m, AllCaps()).has_value());
}

TEST(RefuseBeforeSending, EightBitAndSize) {
  OutboundMessage m = Message({"b@y.example"});
  m.body = BodyType::k8BitMime;
  ServerCapabilities caps = AllCaps();
  caps.eightbitmime = false;
  EXPECT_EQ(RefuseBeforeSending(m, caps)->code, 554);
  m.body = BodyType::k7Bit;
  m.size_bytes = 1001;
  EXPECT_EQ(RefuseBeforeSending(m, caps)->code, 552);
  m.size_bytes = 1000;
  EXPECT_FALSE(RefuseBeforeSending(m, caps).has_value());
}

TEST(AppendAuth, PlainAndBase64Lines) {
  std::string out;
  AppendAuthPlain("user", "secret", &out);
  EXPECT_EQ(out, "AUTH PLAIN AHVzZXIAc2VjcmV0\r\n");  // base64("\0user\0secret")
  out.clear();
  AppendBase64Line("user", &out);
  EXPECT_EQ(out, "dXNlcg==\r\n");
}

std::string Bdat(const std::vector<std::string_view>& pieces) {
  BdatEncoder encoder;
  std::string out;
  for (std::string_view piece : pieces) encoder.Encode(piece, &out);
  encoder.Finish(&out);
  return out;
}

TEST(BdatEncoder, NormalisesLineEndingsWithoutStuffing) {
  EXPECT_EQ(Bdat({".a\nb\rc\r\n.\r\n"}), ".a\r\nb\r\nc\r\n.\r\n");
  EXPECT_EQ(Bdat({"no end"}), "no end\r\n");
  EXPECT_EQ(Bdat({""}), "");
}

TEST(BdatEncoder, CrSplitAcrossPieces) {
  BdatEncoder encoder;
  std::string first;
  encoder.Encode("a\r", &first);
  EXPECT_EQ(first, "a");  // the CR waits for its LF
  std::string second;
  encoder.Encode("\nb", &second);
  EXPECT_EQ(second, "\r\nb");
  EXPECT_EQ(Bdat({"a\r", "\r", "b"}), "a\r\n\r\nb\r\n");
}

// The rule spelled out byte by byte, to check the run-copying encoder
// against: CRLF stays, a bare CR or bare LF becomes CRLF, a body that does
// not end with a line ending gets one.
std::string ReferenceBdat(std::string_view body) {
  std::string out;
  for (size_t i = 0; i < body.size(); ++i) {
    if (body[i] == '\r') {
      out += "\r\n";
      if (i + 1 < body.size() && body[i + 1] == '\n') ++i;
    } else if (body[i] == '\n') {
      out += "\r\n";
    } else {
      out += body[i];
    }
  }
  if (!out.empty() && !out.ends_with("\r\n")) out += "\r\n";
  return out;
}

TEST(BdatEncoder, MatchesTheByteRuleOnRandomBodiesAndSplits) {
  std::mt19937 random(20261128);
  const char alphabet[] = {'a', 'b', '.', '\r', '\n', ' '};
  for (int round = 0; round < 2000; ++round) {
    std::string body;
    size_t length = random() % 200;
    for (size_t i = 0; i < length; ++i) {
      // Mostly CRLF lines, as queued bodies are, with stray CRs and LFs.
      unsigned pick = random() % 16;
      if (pick < 2) body += "\r\n";
      else body += alphabet[pick % sizeof alphabet];
    }
    std::vector<std::string_view> pieces;
    std::string_view rest = body;
    while (!rest.empty()) {
      size_t take = std::min<size_t>(rest.size(), random() % 9);
      pieces.push_back(rest.substr(0, take));
      rest.remove_prefix(take);
    }
    ASSERT_EQ(Bdat(pieces), ReferenceBdat(body)) << "round " << round;
  }
}

}  // namespace
}  // namespace ringmta::smtp
