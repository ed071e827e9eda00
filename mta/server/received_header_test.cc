#include "mta/server/received_header.h"

#include <gtest/gtest.h>

namespace ringmta::server {
namespace {

smtp::Envelope OneRecipient() {
  smtp::Envelope envelope;
  envelope.helo = "client.example";
  envelope.client_address = "192.0.2.7";
  envelope.esmtp = true;
  envelope.mail_from = "a@example.com";
  envelope.recipients.push_back({"b+tag@example.org", 0, ""});
  return envelope;
}

TEST(ReceivedHeaderTest, NamesClientServerIdRecipientAndDate) {
  ReceivedContext context{"relay.test", "00000001abcd", 1795896000000, false};
  EXPECT_EQ(FormatReceivedHeader(OneRecipient(), context),
            "Received: from client.example (192.0.2.7)\r\n"
            "\tby relay.test (ringmta) with ESMTP id 00000001abcd\r\n"
            "\tfor <b+tag@example.org>;\r\n"
            "\tSat, 28 Nov 2026 20:00:00 +0000\r\n");
}

TEST(ReceivedHeaderTest, ProtocolNamesFollowRfc3848) {
  smtp::Envelope envelope = OneRecipient();
  ReceivedContext context{"relay.test", "1", 0, true};
  envelope.tls = true;
  EXPECT_NE(FormatReceivedHeader(envelope, context).find("with ESMTPSA id"), std::string::npos);
  envelope.smtputf8 = true;
  EXPECT_NE(FormatReceivedHeader(envelope, context).find("with UTF8SMTPSA id"), std::string::npos);
  envelope.esmtp = false;
  EXPECT_NE(FormatReceivedHeader(envelope, context).find("with SMTP id"), std::string::npos);
}

TEST(ReceivedHeaderTest, TlsVersionAndCipherAreACommentLine) {
  smtp::Envelope envelope = OneRecipient();
  envelope.tls = true;
  envelope.tls_version = "TLSv1.3";
  envelope.tls_cipher = "TLS_AES_256_GCM_SHA384";
  ReceivedContext context{"relay.test", "00000001abcd", 1795896000000, false};
  EXPECT_EQ(FormatReceivedHeader(envelope, context),
            "Received: from client.example (192.0.2.7)\r\n"
            "\t(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384)\r\n"
            "\tby relay.test (ringmta) with ESMTPS id 00000001abcd\r\n"
            "\tfor <b+tag@example.org>;\r\n"
            "\tSat, 28 Nov 2026 20:00:00 +0000\r\n");
}

TEST(ReceivedHeaderTest, NoTlsCommentWithoutTlsOrWithoutDetails) {
  smtp::Envelope envelope = OneRecipient();
  envelope.tls_version = "TLSv1.3";  // stale details without TLS are ignored
  ReceivedContext context{"relay.test", "1", 0, false};
  EXPECT_EQ(FormatReceivedHeader(envelope, context).find("(using"), std::string::npos);
  envelope.tls = true;
  envelope.tls_version.clear();
  const std::string header = FormatReceivedHeader(envelope, context);
  EXPECT_EQ(header.find("(using"), std::string::npos);
  EXPECT_NE(header.find("with ESMTPS id"), std::string::npos);
}

TEST(ReceivedHeaderTest, TlsNamesCannotBreakTheComment) {
  smtp::Envelope envelope = OneRecipient();
  envelope.tls = true;
  envelope.tls_version = "TLSv1.3)\r\nX: y";
  envelope.tls_cipher = "A(B";
  const std::string header = FormatReceivedHeader(envelope, ReceivedContext{"relay.test", "1", 0, false});
  EXPECT_NE(header.find("\t(using TLSv1.3___X:_y with cipher A_B)\r\n"), std::string::npos)
      << header;
}

TEST(ReceivedHeaderTest, SeveralRecipientsAreNotDisclosed) {
  smtp::Envelope envelope = OneRecipient();
  envelope.recipients.push_back({"c@example.org", 0, ""});
  std::string header = FormatReceivedHeader(envelope, ReceivedContext{"relay.test", "1", 0, false});
  EXPECT_EQ(header.find("for <"), std::string::npos);
}

TEST(ReceivedHeaderTest, HostileHeloCannotInjectHeaderLines) {
  smtp::Envelope envelope = OneRecipient();
  envelope.helo = "evil\r\nX-Injected: yes (";
  std::string header = FormatReceivedHeader(envelope, ReceivedContext{"relay.test", "1", 0, false});
  EXPECT_EQ(header.find("\nX-Injected"), std::string::npos);
  EXPECT_NE(header.find("from evil__X-Injected:_yes__ ("), std::string::npos) << header;
  // Every line after the first is a continuation (starts with a tab).
  for (size_t at = header.find("\r\n"); at + 2 < header.size(); at = header.find("\r\n", at + 2)) {
    EXPECT_EQ(header[at + 2], '\t') << header;
  }
}

}  // namespace
}  // namespace ringmta::server
