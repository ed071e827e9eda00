// What a DSN returns (RFC 3461 §4.3 RET and our size cap), how it survives
// hostile text (RFC 5322 line rules, RFC 2046 boundaries), and the SMTPUTF8
// form (RFC 6533). The NOTIFY rules are in dsn_test.cc.
#include <optional>
#include <string>

#include "gtest/gtest.h"
#include "mta/relay/dsn.h"
#include "mta/relay/dsn_test_util.h"

namespace ringmta::relay {
namespace {

using testing::CrlfLines;
using testing::FieldValue;
using testing::kOriginalMessage;
using testing::RequestFixture;
using testing::Split;
using testing::SplitMessage;

constexpr std::string_view kHeaderSection =
    "From: Alice <alice@example.org>\r\n"
    "To: bob@example.net\r\n"
    "Subject: Quarterly figures\r\n"
    "Message-ID: <orig-1@example.org>\r\n";

SplitMessage FailureReport(RequestFixture& fixture, const DsnOptions& options,
                           GeneratedDsn* out = nullptr) {
  if (fixture.request.recipients.empty()) {
    fixture.AddRecipient("bob@example.net", DsnAction::kFailed, 0);
  }
  std::optional<GeneratedDsn> dsn = GenerateDsn(fixture.request, options);
  EXPECT_TRUE(dsn.has_value());
  if (!dsn.has_value()) return {};
  SplitMessage split = Split(dsn->message);
  EXPECT_EQ(split.parts.size(), 3u);
  if (out != nullptr) *out = std::move(*dsn);
  return split;
}

TEST(DsnContentTest, RetHeadersReturnsTheHeaderSection) {
  RequestFixture fixture;
  fixture.request.envelope.ret = DsnRet::kHeaders;
  GeneratedDsn dsn;
  const SplitMessage split = FailureReport(fixture, {}, &dsn);
  ASSERT_EQ(split.parts.size(), 3u);
  EXPECT_EQ(FieldValue(split.parts[2].headers, "Content-Type"), "text/rfc822-headers");
  EXPECT_EQ(split.parts[2].body, kHeaderSection);
  EXPECT_FALSE(dsn.full_message_returned);
}

TEST(DsnContentTest, RetFullReturnsTheWholeMessage) {
  RequestFixture fixture;
  fixture.request.envelope.ret = DsnRet::kFull;
  GeneratedDsn dsn;
  const SplitMessage split = FailureReport(fixture, {}, &dsn);
  ASSERT_EQ(split.parts.size(), 3u);
  EXPECT_EQ(FieldValue(split.parts[2].headers, "Content-Type"), "message/rfc822");
  EXPECT_EQ(FieldValue(split.parts[2].headers, "Content-Transfer-Encoding"), "7bit");
  EXPECT_EQ(split.parts[2].body, kOriginalMessage);
  EXPECT_TRUE(dsn.full_message_returned);
  EXPECT_EQ(DsnMessageBytesWanted(fixture.request, {}), kOriginalMessage.size());
}

TEST(DsnContentTest, AbsentRetUsesTheConfiguredDefault) {
  RequestFixture fixture;
  SplitMessage split = FailureReport(fixture, {});
  ASSERT_EQ(split.parts.size(), 3u);
  EXPECT_EQ(FieldValue(split.parts[2].headers, "Content-Type"), "text/rfc822-headers");
  DsnOptions options;
  options.ret_default = DsnRet::kFull;
  split = FailureReport(fixture, options);
  ASSERT_EQ(split.parts.size(), 3u);
  EXPECT_EQ(FieldValue(split.parts[2].headers, "Content-Type"), "message/rfc822");
}

TEST(DsnContentTest, FullReturnOverTheCapDegradesToHeadersWithANote) {
  RequestFixture fixture;
  fixture.request.envelope.ret = DsnRet::kFull;
  DsnOptions options;
  options.full_return_bytes_max = kOriginalMessage.size() - 1;
  GeneratedDsn dsn;
  const SplitMessage split = FailureReport(fixture, options, &dsn);
  ASSERT_EQ(split.parts.size(), 3u);
  EXPECT_EQ(FieldValue(split.parts[2].headers, "Content-Type"), "text/rfc822-headers");
  EXPECT_EQ(split.parts[2].body, kHeaderSection);
  EXPECT_FALSE(dsn.full_message_returned);
  EXPECT_NE(split.parts[0].body.find("only its headers"), std::string::npos);
  EXPECT_EQ(DsnMessageBytesWanted(fixture.request, options), kOriginalMessage.size());
}

TEST(DsnContentTest, BytesWantedForHeadersIsBounded) {
  RequestFixture fixture;
  fixture.AddRecipient("bob@example.net", DsnAction::kFailed, 0);
  fixture.request.original.size_bytes = uint64_t{100} << 20;
  EXPECT_EQ(DsnMessageBytesWanted(fixture.request, {}), kDsnReturnedHeaderBytesMax);
  fixture.request.envelope.ret = DsnRet::kFull;  // over the 10 MB default cap
  EXPECT_EQ(DsnMessageBytesWanted(fixture.request, {}), kDsnReturnedHeaderBytesMax);
}

TEST(DsnContentTest, ReportsWithoutFailuresReturnOnlyHeaders) {
  RequestFixture fixture;
  fixture.request.envelope.ret = DsnRet::kFull;
  fixture.AddRecipient("bob@example.net", DsnAction::kDelayed, kDsnNotifyDelay);
  const SplitMessage split = FailureReport(fixture, {});
  ASSERT_EQ(split.parts.size(), 3u);
  EXPECT_EQ(FieldValue(split.parts[2].headers, "Content-Type"), "text/rfc822-headers");
}

TEST(DsnContentTest, PiecesAreJoinedAndBareLineEndsBecomeCrlf) {
  RequestFixture fixture;
  fixture.request.envelope.ret = DsnRet::kFull;
  const std::string_view pieces[] = {"Subject: a\r", "\nX-Old: b\nX-Mac: c\r", "\r\nbody\n"};
  fixture.request.original.pieces = pieces;
  fixture.request.original.size_bytes = 0;
  for (std::string_view piece : pieces) fixture.request.original.size_bytes += piece.size();
  const SplitMessage split = FailureReport(fixture, {});
  ASSERT_EQ(split.parts.size(), 3u);
  EXPECT_EQ(split.parts[2].body, "Subject: a\r\nX-Old: b\r\nX-Mac: c\r\n\r\nbody\r\n");
}

TEST(DsnContentTest, NulOrOverlongLinesReturnOnlyHeaders) {
  RequestFixture fixture;
  fixture.request.envelope.ret = DsnRet::kFull;
  const std::string message = "Subject: s\r\n\r\n" + std::string(1200, 'x') + "\r\n";
  fixture.SetMessage(message);
  SplitMessage split = FailureReport(fixture, {});
  ASSERT_EQ(split.parts.size(), 3u);
  EXPECT_EQ(split.parts[2].body, "Subject: s\r\n");
  const std::string binary = std::string("Subject: s\r\n\r\na\0b\r\n", 19);
  fixture.SetMessage(binary);
  split = FailureReport(fixture, {});
  ASSERT_EQ(split.parts.size(), 3u);
  EXPECT_EQ(FieldValue(split.parts[2].headers, "Content-Type"), "text/rfc822-headers");
}

TEST(DsnContentTest, HugeHeaderSectionIsCutAtALine) {
  RequestFixture fixture;
  std::string message;
  while (message.size() < kDsnReturnedHeaderBytesMax + 5000) message += "X-Pad: 0123456789\r\n";
  message += "\r\nbody\r\n";
  fixture.SetMessage(message);
  const SplitMessage split = FailureReport(fixture, {});
  ASSERT_EQ(split.parts.size(), 3u);
  EXPECT_LE(split.parts[2].body.size(), kDsnReturnedHeaderBytesMax);
  EXPECT_EQ(split.parts[2].body.substr(split.parts[2].body.size() - 2), "\r\n");
  EXPECT_NE(split.parts[0].body.find("longer than"), std::string::npos);
}

TEST(DsnContentTest, HostileDiagnosticCannotInjectLinesOrParts) {
  RequestFixture fixture;
  const SplitMessage benign = FailureReport(fixture, {});
  fixture.request.recipients[0].diagnostic =
      "550 no\r\n--" + benign.boundary + "\r\nContent-Type: text/html\r\n\r\n<b>x</b>\r\n--" +
      benign.boundary + "--\r\nBcc: victim@example.com\n\rX: \x01\x7f";
  GeneratedDsn dsn;
  const SplitMessage split = FailureReport(fixture, {}, &dsn);
  EXPECT_EQ(split.parts.size(), 3u);
  EXPECT_EQ(split.delimiter_lines, 4);
  for (const std::string& line : CrlfLines(dsn.message)) {
    EXPECT_NE(line.rfind("Content-Type: text/html", 0), 0u) << line;
    EXPECT_NE(line.rfind("Bcc:", 0), 0u) << line;
    EXPECT_LE(line.size(), 998u);
  }
  const std::string diagnostic = FieldValue(split.parts.at(1).body, "Diagnostic-Code");
  EXPECT_EQ(diagnostic.rfind("smtp; 550 no --", 0), 0u) << diagnostic;
  EXPECT_NE(diagnostic.find("X: ??"), std::string::npos) << diagnostic;
}

TEST(DsnContentTest, LongDiagnosticIsFoldedAndBounded) {
  RequestFixture fixture;
  fixture.AddRecipient("bob@example.net", DsnAction::kFailed, 0).diagnostic =
      "550 " + std::string(5000, 'y');
  GeneratedDsn dsn;
  FailureReport(fixture, {}, &dsn);
  for (const std::string& line : CrlfLines(dsn.message)) EXPECT_LE(line.size(), 998u);
  EXPECT_LT(dsn.message.size(), 2 * kDsnDiagnosticBytesMax + 4000);
}

TEST(DsnContentTest, BoundaryAvoidsTheReturnedContent) {
  RequestFixture fixture;
  const std::string first = FailureReport(fixture, {}).boundary;
  const std::string message = "Subject: s\r\nX-Trap: " + first + "\r\n\r\n--" + first + "\r\n";
  fixture.request.envelope.ret = DsnRet::kFull;
  fixture.SetMessage(message);
  GeneratedDsn dsn;
  const SplitMessage split = FailureReport(fixture, {}, &dsn);
  EXPECT_NE(split.boundary, first);
  EXPECT_EQ(split.delimiter_lines, 4);
  ASSERT_EQ(split.parts.size(), 3u);
  EXPECT_EQ(split.parts[2].body, message);
  EXPECT_EQ(dsn.message.find(split.boundary), dsn.message.find("boundary=") + 10);
}

TEST(DsnContentTest, BoundariesDifferBetweenReports) {
  RequestFixture a;
  RequestFixture b;
  b.request.dsn_message_id = "dsn-0002";
  EXPECT_NE(FailureReport(a, {}).boundary, FailureReport(b, {}).boundary);
}

TEST(DsnContentTest, EightBitBodyIsLabelledAndFlagged) {
  RequestFixture fixture;
  fixture.request.envelope.ret = DsnRet::kFull;
  const std::string message = "Subject: s\r\n\r\nGr\xC3\xBC\xC3\x9F" "e\r\n";
  fixture.SetMessage(message);
  GeneratedDsn dsn;
  const SplitMessage split = FailureReport(fixture, {}, &dsn);
  ASSERT_EQ(split.parts.size(), 3u);
  EXPECT_EQ(FieldValue(split.parts[2].headers, "Content-Type"), "message/rfc822");
  EXPECT_EQ(FieldValue(split.parts[2].headers, "Content-Transfer-Encoding"), "8bit");
  EXPECT_EQ(FieldValue(split.headers, "Content-Transfer-Encoding"), "8bit");
  EXPECT_TRUE(dsn.requires_8bitmime);
  EXPECT_FALSE(dsn.requires_smtputf8);
}

TEST(DsnContentTest, SmtpUtf8AddressesUseTheGlobalForm) {
  RequestFixture fixture;
  fixture.request.envelope.smtputf8 = true;
  fixture.AddRecipient("j\xC3\xB6rg@b\xC3\xBC" "cher.example", DsnAction::kFailed, 0);
  GeneratedDsn dsn;
  const SplitMessage split = FailureReport(fixture, {}, &dsn);
  EXPECT_TRUE(dsn.requires_smtputf8);
  EXPECT_EQ(FieldValue(split.headers, "Content-Type"),
            "multipart/report; report-type=global-delivery-status; boundary=\"" +
                split.boundary + "\"");
  ASSERT_EQ(split.parts.size(), 3u);
  EXPECT_EQ(FieldValue(split.parts[0].headers, "Content-Type"), "text/plain; charset=utf-8");
  EXPECT_EQ(FieldValue(split.parts[1].headers, "Content-Type"),
            "message/global-delivery-status");
  EXPECT_EQ(FieldValue(split.parts[1].headers, "Content-Transfer-Encoding"), "8bit");
  EXPECT_EQ(FieldValue(split.parts[2].headers, "Content-Type"), "message/global-headers");
  EXPECT_EQ(FieldValue(split.parts[1].body, "Final-Recipient"),
            "utf-8;j\xC3\xB6rg@b\xC3\xBC" "cher.example");
}

TEST(DsnContentTest, AsciiSmtpUtf8MessageStaysSevenBit) {
  RequestFixture fixture;
  fixture.request.envelope.smtputf8 = true;
  GeneratedDsn dsn;
  const SplitMessage split = FailureReport(fixture, {}, &dsn);
  EXPECT_FALSE(dsn.requires_smtputf8);
  EXPECT_FALSE(dsn.requires_8bitmime);
  ASSERT_EQ(split.parts.size(), 3u);
  EXPECT_EQ(FieldValue(split.parts[1].headers, "Content-Type"), "message/delivery-status");
}

TEST(DsnContentTest, Utf8WithoutSmtpUtf8IsEscapedNeverRaw) {
  RequestFixture fixture;
  // A non-SMTPUTF8 message whose ORCPT decodes to UTF-8: RFC 6533 escapes.
  fixture.AddRecipient("bob@example.net", DsnAction::kFailed, 0).orcpt =
      "rfc822;j+C3+B6rg@example.net";
  GeneratedDsn dsn;
  const SplitMessage split = FailureReport(fixture, {}, &dsn);
  EXPECT_FALSE(dsn.requires_smtputf8);
  EXPECT_FALSE(dsn.requires_8bitmime);
  for (unsigned char c : dsn.message) ASSERT_LT(c, 0x80);
  ASSERT_EQ(split.parts.size(), 3u);
  EXPECT_EQ(FieldValue(split.parts[1].body, "Original-Recipient"),
            "utf-8;j\\x{F6}rg@example.net");
}

}  // namespace
}  // namespace ringmta::relay
