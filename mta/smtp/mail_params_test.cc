// Tests for MAIL/RCPT parameter semantics (RFC 1870, 3461, 6152, 6531).
#include "mta/smtp/mail_params.h"

#include <gtest/gtest.h>

namespace ringmta::smtp {
namespace {

std::optional<Reply> Mail(std::string_view params, Envelope* envelope, uint64_t max = 1000,
                          bool auth = true) {
  auto parsed = ParseEsmtpParams(params);
  EXPECT_TRUE(parsed.ok()) << params;
  return ApplyMailParams(*parsed, {max, auth}, envelope);
}

std::optional<Reply> Rcpt(std::string_view params, Recipient* recipient) {
  auto parsed = ParseEsmtpParams(params);
  EXPECT_TRUE(parsed.ok()) << params;
  return ApplyRcptParams(*parsed, recipient);
}

TEST(MailParams, AllKnownParametersStored) {
  Envelope envelope;
  EXPECT_FALSE(Mail("SIZE=999 BODY=8bitmime SMTPUTF8 RET=HDRS ENVID=QQ+2B314 AUTH=<>", &envelope));
  EXPECT_EQ(envelope.declared_size, 999u);
  EXPECT_EQ(envelope.body, BodyType::k8BitMime);
  EXPECT_TRUE(envelope.smtputf8);
  EXPECT_EQ(envelope.ret, DsnRet::kHeaders);
  EXPECT_EQ(envelope.envid, "QQ+2B314");
}

TEST(MailParams, SizeOverLimitIs552) {
  Envelope envelope;
  EXPECT_EQ(Mail("SIZE=1001", &envelope)->code, 552);
  EXPECT_EQ(Mail("SIZE=99999999999999999999", &envelope)->code, 552);  // saturates
  EXPECT_EQ(Mail("SIZE=123456789012345678901", &envelope)->code, 501);  // > 20 digits
  EXPECT_EQ(Mail("SIZE=12a", &envelope)->code, 501);
  EXPECT_EQ(Mail("SIZE", &envelope)->code, 501);
}

TEST(MailParams, BadValuesAre501) {
  Envelope envelope;
  EXPECT_EQ(Mail("BODY=BINARYMIME", &envelope)->code, 501);
  EXPECT_EQ(Mail("RET=ALL", &envelope)->code, 501);
  EXPECT_EQ(Mail("SMTPUTF8=yes", &envelope)->code, 501);
  EXPECT_EQ(Mail("ENVID=a+zz", &envelope)->code, 501);
  EXPECT_EQ(Mail("ENVID=" + std::string(101, 'e'), &envelope)->code, 501);
  EXPECT_EQ(Mail("RET=FULL RET=FULL", &envelope)->code, 501);
}

TEST(MailParams, UnknownIs555) {
  Envelope envelope;
  EXPECT_EQ(Mail("XYZZY=1", &envelope)->code, 555);
  EXPECT_EQ(Mail("AUTH=<>", &envelope, 1000, /*auth=*/false)->code, 555);  // not advertised
  Recipient recipient;
  EXPECT_EQ(Rcpt("SIZE=1", &recipient)->code, 555);
}

TEST(RcptParams, NotifyAndOrcpt) {
  Recipient recipient;
  EXPECT_FALSE(Rcpt("NOTIFY=success,DELAY ORCPT=rfc822;a+40b.example", &recipient));
  EXPECT_EQ(recipient.notify, kNotifySuccess | kNotifyDelay);
  EXPECT_EQ(recipient.orcpt, "rfc822;a+40b.example");
  Recipient never;
  EXPECT_FALSE(Rcpt("NOTIFY=NEVER", &never));
  EXPECT_EQ(never.notify, kNotifyNever);
}

TEST(RcptParams, BadValuesAre501) {
  Recipient recipient;
  EXPECT_EQ(Rcpt("NOTIFY=NEVER,SUCCESS", &recipient)->code, 501);
  EXPECT_EQ(Rcpt("NOTIFY=SUCCESS,SUCCESS", &recipient)->code, 501);
  EXPECT_EQ(Rcpt("NOTIFY=SOMETIMES", &recipient)->code, 501);
  EXPECT_EQ(Rcpt("ORCPT=rfc822", &recipient)->code, 501);
  EXPECT_EQ(Rcpt("ORCPT=;a@b", &recipient)->code, 501);
  EXPECT_EQ(Rcpt("ORCPT=rfc822;", &recipient)->code, 501);
  EXPECT_EQ(Rcpt("ORCPT=rfc822;a@b ORCPT=rfc822;a@b", &recipient)->code, 501);
}

TEST(Xtext, Grammar) {
  EXPECT_TRUE(IsXtext("abc+2B+3D"));
  EXPECT_FALSE(IsXtext("a+2b"));  // hex is upper case
  EXPECT_FALSE(IsXtext("a+2"));
  EXPECT_FALSE(IsXtext("a="));
  EXPECT_FALSE(IsXtext("a b"));
}

TEST(ParseDecimal, Bounds) {
  EXPECT_EQ(ParseDecimal("0"), 0u);
  EXPECT_EQ(ParseDecimal("18446744073709551615"), UINT64_MAX);
  EXPECT_EQ(ParseDecimal("99999999999999999999"), UINT64_MAX);
  EXPECT_FALSE(ParseDecimal(""));
  EXPECT_FALSE(ParseDecimal("-1"));
  EXPECT_FALSE(ParseDecimal("+1"));
}

}  // namespace
}  // namespace ringmta::smtp
