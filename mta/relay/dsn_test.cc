// GenerateDsn: who is reported (RFC 3461 NOTIFY, the null sender) and the
// shape of the report (RFC 3464, RFC 6522). Returned content, hostile input
// and SMTPUTF8 are in dsn_content_test.cc.
#include <optional>
#include <string>

#include "gtest/gtest.h"
#include "mta/relay/dsn.h"
#include "mta/relay/dsn_test_util.h"

namespace ringmta::relay {
namespace {

using testing::FieldValue;
using testing::RequestFixture;
using testing::Split;
using testing::SplitMessage;

TEST(DsnTest, NullSenderNeverGetsADsn) {
  RequestFixture fixture;
  fixture.request.envelope.sender = "";
  fixture.AddRecipient("bob@example.net", DsnAction::kFailed, kDsnNotifyFailure);
  EXPECT_FALSE(GenerateDsn(fixture.request, DsnOptions{}).has_value());
  EXPECT_EQ(DsnMessageBytesWanted(fixture.request, DsnOptions{}), 0u);
}

TEST(DsnTest, NotifyNeverGetsNoDsn) {
  RequestFixture fixture;
  fixture.AddRecipient("bob@example.net", DsnAction::kFailed, kDsnNotifyNever);
  fixture.AddRecipient("carol@example.net", DsnAction::kFailed, kDsnNotifyNever);
  EXPECT_FALSE(GenerateDsn(fixture.request, DsnOptions{}).has_value());
}

TEST(DsnTest, NeverWinsOverOtherBits) {
  EXPECT_FALSE(NotifyWants(kDsnNotifyNever | kDsnNotifyFailure, DsnAction::kFailed, {}));
}

TEST(DsnTest, NoRecipientsGetNoDsn) {
  RequestFixture fixture;
  EXPECT_FALSE(GenerateDsn(fixture.request, DsnOptions{}).has_value());
}

TEST(DsnTest, NotifySelectsActions) {
  const DsnOptions options;
  EXPECT_TRUE(NotifyWants(kDsnNotifyFailure, DsnAction::kFailed, options));
  EXPECT_FALSE(NotifyWants(kDsnNotifyFailure, DsnAction::kDelayed, options));
  EXPECT_FALSE(NotifyWants(kDsnNotifyFailure, DsnAction::kDelivered, options));
  EXPECT_TRUE(NotifyWants(kDsnNotifyDelay, DsnAction::kDelayed, options));
  EXPECT_FALSE(NotifyWants(kDsnNotifyDelay, DsnAction::kFailed, options));
  EXPECT_TRUE(NotifyWants(kDsnNotifySuccess, DsnAction::kDelivered, options));
  EXPECT_TRUE(NotifyWants(kDsnNotifySuccess, DsnAction::kRelayed, options));
  EXPECT_TRUE(NotifyWants(kDsnNotifySuccess, DsnAction::kExpanded, options));
  EXPECT_FALSE(NotifyWants(kDsnNotifySuccess, DsnAction::kFailed, options));
  const uint8_t all = kDsnNotifySuccess | kDsnNotifyFailure | kDsnNotifyDelay;
  EXPECT_TRUE(NotifyWants(all, DsnAction::kFailed, options));
  EXPECT_TRUE(NotifyWants(all, DsnAction::kDelayed, options));
  EXPECT_TRUE(NotifyWants(all, DsnAction::kDelivered, options));
}

TEST(DsnTest, AbsentNotifyMeansFailuresAndOptionalDelays) {
  DsnOptions options;
  EXPECT_TRUE(NotifyWants(0, DsnAction::kFailed, options));
  EXPECT_FALSE(NotifyWants(0, DsnAction::kDelivered, options));
  EXPECT_FALSE(NotifyWants(0, DsnAction::kDelayed, options));  // the default: off
  options.delay_reports_without_notify = true;
  EXPECT_TRUE(NotifyWants(0, DsnAction::kDelayed, options));
}

TEST(DsnTest, FailureReportHasTheRfc3464Shape) {
  RequestFixture fixture;
  fixture.AddRecipient("bob@example.net", DsnAction::kFailed, 0);
  const std::optional<GeneratedDsn> dsn = GenerateDsn(fixture.request, DsnOptions{});
  ASSERT_TRUE(dsn.has_value());
  EXPECT_EQ(dsn->envelope_sender, "");
  EXPECT_EQ(dsn->envelope_recipient, "alice@example.org");
  EXPECT_EQ(dsn->reported, std::vector<size_t>{0});
  EXPECT_FALSE(dsn->requires_8bitmime);
  EXPECT_FALSE(dsn->requires_smtputf8);
  const SplitMessage split = Split(dsn->message);
  EXPECT_EQ(FieldValue(split.headers, "From"), "Mail Delivery System <MAILER-DAEMON@relay.test>");
  EXPECT_EQ(FieldValue(split.headers, "To"), "<alice@example.org>");
  EXPECT_EQ(FieldValue(split.headers, "Subject"), "Undelivered Mail Returned to Sender");
  EXPECT_EQ(FieldValue(split.headers, "Date"), "Fri, 02 Jan 2026 00:00:00 +0000");
  EXPECT_EQ(FieldValue(split.headers, "Message-ID"), "<dsn-0001@relay.test>");
  EXPECT_EQ(FieldValue(split.headers, "Auto-Submitted"), "auto-replied");
  EXPECT_EQ(FieldValue(split.headers, "MIME-Version"), "1.0");
  EXPECT_EQ(FieldValue(split.headers, "Content-Type"),
            "multipart/report; report-type=delivery-status; boundary=\"" + split.boundary + "\"");
  ASSERT_EQ(split.parts.size(), 3u);
  EXPECT_EQ(split.delimiter_lines, 4);
  EXPECT_EQ(FieldValue(split.parts[0].headers, "Content-Type"), "text/plain; charset=us-ascii");
  EXPECT_EQ(FieldValue(split.parts[1].headers, "Content-Type"), "message/delivery-status");
  EXPECT_EQ(FieldValue(split.parts[2].headers, "Content-Type"), "text/rfc822-headers");
  EXPECT_NE(split.parts[0].body.find("bob@example.net"), std::string::npos);
  EXPECT_NE(split.parts[0].body.find("no such user"), std::string::npos);
  const std::string& status = split.parts[1].body;
  EXPECT_EQ(FieldValue(status, "Reporting-MTA"), "dns; relay.test");
  EXPECT_EQ(FieldValue(status, "Received-From-MTA"), "dns; client.example.org ([192.0.2.7])");
  EXPECT_EQ(FieldValue(status, "Arrival-Date"), "Thu, 01 Jan 2026 00:00:00 +0000");
  EXPECT_EQ(FieldValue(status, "Final-Recipient"), "rfc822;bob@example.net");
  EXPECT_EQ(FieldValue(status, "Action"), "failed");
  EXPECT_EQ(FieldValue(status, "Status"), "5.1.1");
  EXPECT_EQ(FieldValue(status, "Remote-MTA"), "dns; mx.example.net");
  EXPECT_EQ(FieldValue(status, "Diagnostic-Code"),
            "smtp; 550 5.1.1 <bob@example.net>: no such user");
  EXPECT_EQ(FieldValue(status, "Last-Attempt-Date"), "Thu, 01 Jan 2026 23:59:59 +0000");
  EXPECT_EQ(FieldValue(status, "Will-Retry-Until"), "");
}

TEST(DsnTest, DelayReportSaysUntilWhen) {
  RequestFixture fixture;
  fixture.AddRecipient("bob@example.net", DsnAction::kDelayed, kDsnNotifyDelay);
  const std::optional<GeneratedDsn> dsn = GenerateDsn(fixture.request, DsnOptions{});
  ASSERT_TRUE(dsn.has_value());
  const SplitMessage split = Split(dsn->message);
  EXPECT_EQ(FieldValue(split.headers, "Subject"), "Delayed Mail (still being retried)");
  ASSERT_EQ(split.parts.size(), 3u);
  EXPECT_EQ(FieldValue(split.parts[1].body, "Action"), "delayed");
  EXPECT_EQ(FieldValue(split.parts[1].body, "Status"), "4.4.1");
  EXPECT_EQ(FieldValue(split.parts[1].body, "Will-Retry-Until"),
            "Tue, 06 Jan 2026 00:00:00 +0000");
  EXPECT_NE(split.parts[0].body.find("do not need to send"), std::string::npos);
}

TEST(DsnTest, DelayWithoutNotifyFollowsTheOption) {
  RequestFixture fixture;
  fixture.AddRecipient("bob@example.net", DsnAction::kDelayed, 0);
  EXPECT_FALSE(GenerateDsn(fixture.request, DsnOptions{}).has_value());
  DsnOptions options;
  options.delay_reports_without_notify = true;
  EXPECT_TRUE(GenerateDsn(fixture.request, options).has_value());
}

TEST(DsnTest, SuccessIsReportedOnlyWhenAskedFor) {
  RequestFixture fixture;
  fixture.AddRecipient("bob@example.net", DsnAction::kDelivered, 0);
  EXPECT_FALSE(GenerateDsn(fixture.request, DsnOptions{}).has_value());
  fixture.request.recipients[0].notify = kDsnNotifySuccess;
  const std::optional<GeneratedDsn> dsn = GenerateDsn(fixture.request, DsnOptions{});
  ASSERT_TRUE(dsn.has_value());
  const SplitMessage split = Split(dsn->message);
  EXPECT_EQ(FieldValue(split.headers, "Subject"), "Successful Mail Delivery Report");
  ASSERT_EQ(split.parts.size(), 3u);
  EXPECT_EQ(FieldValue(split.parts[1].body, "Action"), "delivered");
  EXPECT_EQ(FieldValue(split.parts[1].body, "Status"), "2.0.0");
}

TEST(DsnTest, OnlyRecipientsWhoAskedAreReported) {
  RequestFixture fixture;
  fixture.AddRecipient("never@example.net", DsnAction::kFailed, kDsnNotifyNever);
  fixture.AddRecipient("fail@example.net", DsnAction::kFailed, kDsnNotifyFailure);
  fixture.AddRecipient("delay-only@example.net", DsnAction::kFailed, kDsnNotifyDelay);
  fixture.AddRecipient("default@example.net", DsnAction::kFailed, 0);
  const std::optional<GeneratedDsn> dsn = GenerateDsn(fixture.request, DsnOptions{});
  ASSERT_TRUE(dsn.has_value());
  EXPECT_EQ(dsn->reported, (std::vector<size_t>{1, 3}));
  EXPECT_EQ(dsn->message.find("never@example.net"), std::string::npos);
  EXPECT_EQ(dsn->message.find("delay-only@example.net"), std::string::npos);
}

TEST(DsnTest, SeveralRecipientsShareOneReportInOrder) {
  RequestFixture fixture;
  const uint8_t all = kDsnNotifySuccess | kDsnNotifyFailure | kDsnNotifyDelay;
  fixture.AddRecipient("one@example.net", DsnAction::kDelivered, all);
  fixture.AddRecipient("two@example.net", DsnAction::kFailed, all);
  fixture.AddRecipient("three@example.net", DsnAction::kDelayed, all);
  const std::optional<GeneratedDsn> dsn = GenerateDsn(fixture.request, DsnOptions{});
  ASSERT_TRUE(dsn.has_value());
  const SplitMessage split = Split(dsn->message);
  EXPECT_EQ(FieldValue(split.headers, "Subject"), "Undelivered Mail Returned to Sender");
  ASSERT_EQ(split.parts.size(), 3u);
  // Blocks separated by blank lines: the per-message block, then one each.
  const std::string& status = split.parts[1].body;
  std::vector<std::string> blocks;
  for (size_t start = 0; start < status.size();) {
    size_t end = status.find("\r\n\r\n", start);
    if (end == std::string::npos) end = status.size();
    blocks.push_back(status.substr(start, end + 2 - start));
    start = end + 4;
  }
  ASSERT_EQ(blocks.size(), 4u);
  EXPECT_EQ(FieldValue(blocks[1], "Final-Recipient"), "rfc822;one@example.net");
  EXPECT_EQ(FieldValue(blocks[1], "Action"), "delivered");
  EXPECT_EQ(FieldValue(blocks[2], "Final-Recipient"), "rfc822;two@example.net");
  EXPECT_EQ(FieldValue(blocks[2], "Action"), "failed");
  EXPECT_EQ(FieldValue(blocks[3], "Final-Recipient"), "rfc822;three@example.net");
  EXPECT_EQ(FieldValue(blocks[3], "Action"), "delayed");
}

TEST(DsnTest, EnvidIsEchoedDecoded) {
  RequestFixture fixture;
  fixture.request.envelope.envid = "id+2B42+3Dx";
  fixture.AddRecipient("bob@example.net", DsnAction::kFailed, 0);
  const std::optional<GeneratedDsn> dsn = GenerateDsn(fixture.request, DsnOptions{});
  ASSERT_TRUE(dsn.has_value());
  EXPECT_EQ(FieldValue(Split(dsn->message).parts.at(1).body, "Original-Envelope-Id"), "id+42=x");
}

TEST(DsnTest, NoEnvidNoField) {
  RequestFixture fixture;
  fixture.request.envelope.envid = "";
  fixture.AddRecipient("bob@example.net", DsnAction::kFailed, 0);
  const std::optional<GeneratedDsn> dsn = GenerateDsn(fixture.request, DsnOptions{});
  ASSERT_TRUE(dsn.has_value());
  EXPECT_EQ(dsn->message.find("Original-Envelope-Id"), std::string::npos);
}

TEST(DsnTest, OrcptIsEchoedAsOriginalRecipient) {
  RequestFixture fixture;
  fixture.AddRecipient("bob@example.net", DsnAction::kFailed, 0).orcpt =
      "rfc822;bob+2Bsales@example.com";
  fixture.AddRecipient("carol@example.net", DsnAction::kFailed, 0);
  const std::optional<GeneratedDsn> dsn = GenerateDsn(fixture.request, DsnOptions{});
  ASSERT_TRUE(dsn.has_value());
  const std::string status = Split(dsn->message).parts.at(1).body;
  EXPECT_EQ(FieldValue(status, "Original-Recipient"), "rfc822;bob+sales@example.com");
  // Only the recipient that gave ORCPT has the field (RFC 3464 §2.3.1).
  EXPECT_EQ(status.find("Original-Recipient"), status.rfind("Original-Recipient"));
}

TEST(DsnTest, MissingStatusFallsBackToTheActionsClass) {
  RequestFixture fixture;
  fixture.AddRecipient("bob@example.net", DsnAction::kFailed, 0).status = {};
  const std::optional<GeneratedDsn> dsn = GenerateDsn(fixture.request, DsnOptions{});
  ASSERT_TRUE(dsn.has_value());
  EXPECT_EQ(FieldValue(Split(dsn->message).parts.at(1).body, "Status"), "5.0.0");
}

TEST(DsnTest, NonSmtpDiagnosticGetsAPrivateType) {
  RequestFixture fixture;
  fixture.AddRecipient("bob@example.net", DsnAction::kFailed, 0).diagnostic =
      "Host not found (NXDOMAIN)";
  const std::optional<GeneratedDsn> dsn = GenerateDsn(fixture.request, DsnOptions{});
  ASSERT_TRUE(dsn.has_value());
  EXPECT_EQ(FieldValue(Split(dsn->message).parts.at(1).body, "Diagnostic-Code"),
            "X-ringmta; Host not found (NXDOMAIN)");
}

TEST(DsnTest, MessageIdKeepsACallerSuppliedDomain) {
  RequestFixture fixture;
  fixture.request.dsn_message_id = "abc 123@bounces.test";
  fixture.AddRecipient("bob@example.net", DsnAction::kFailed, 0);
  const std::optional<GeneratedDsn> dsn = GenerateDsn(fixture.request, DsnOptions{});
  ASSERT_TRUE(dsn.has_value());
  EXPECT_EQ(FieldValue(Split(dsn->message).headers, "Message-ID"), "<abc_123@bounces.test>");
}

}  // namespace
}  // namespace ringmta::relay
