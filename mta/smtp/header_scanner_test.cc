// Tests for the header scanner: each way a header section ends, folding,
// case, obsolete space before the colon, long names, and that the verdict
// does not depend on how the body is split into pieces.
#include "mta/smtp/header_scanner.h"

#include <string>

#include <gtest/gtest.h>

namespace ringmta::smtp {
namespace {

// Scans `body` in pieces of `chunk` bytes; checks the header bytes Feed
// reports add up to where the section ended.
HeaderScanner Scan(std::string_view body, size_t chunk) {
  HeaderScanner scanner;
  uint64_t header_part = 0;
  for (size_t at = 0; at < body.size(); at += chunk) header_part += scanner.Feed(body.substr(at, chunk));
  const bool ended_in_body = scanner.done();
  scanner.Finish();
  if (ended_in_body) {
    EXPECT_GE(header_part, scanner.header_bytes());
  } else {
    EXPECT_EQ(header_part, body.size());
  }
  return scanner;
}

HeaderScanner ScanAll(std::string_view body) {
  const HeaderScanner whole = Scan(body, body.size() + 1);
  for (size_t chunk : {1, 2, 3, 7}) {
    const HeaderScanner split = Scan(body, chunk);
    EXPECT_EQ(split.end(), whole.end()) << chunk;
    EXPECT_EQ(split.header_bytes(), whole.header_bytes()) << chunk;
    EXPECT_EQ(split.has_message_id(), whole.has_message_id()) << chunk;
    EXPECT_EQ(split.has_date(), whole.has_date()) << chunk;
  }
  return whole;
}

TEST(HeaderScanner, FindsBothFieldsBeforeTheBlankLine) {
  const std::string headers = "Subject: x\r\nDate: Mon, 1 Jan 2024 00:00:00 +0000\r\n"
                              "Message-ID: <a@b>\r\n";
  const HeaderScanner s = ScanAll(headers + "\r\nDate: not a header\r\n");
  EXPECT_EQ(s.end(), HeaderScanner::End::kBlankLine);
  EXPECT_EQ(s.header_bytes(), headers.size());
  EXPECT_TRUE(s.has_message_id());
  EXPECT_TRUE(s.has_date());
}

TEST(HeaderScanner, FieldsInTheBodyDoNotCount) {
  const HeaderScanner s = ScanAll("Subject: x\r\n\r\nMessage-ID: <a@b>\r\nDate: x\r\n");
  EXPECT_FALSE(s.has_message_id());
  EXPECT_FALSE(s.has_date());
}

TEST(HeaderScanner, NamesAreCaseInsensitiveAndMayHaveSpaceBeforeColon) {
  const HeaderScanner s = ScanAll("message-id : <a@b>\r\nDATE:x\r\n\r\n");
  EXPECT_TRUE(s.has_message_id());
  EXPECT_TRUE(s.has_date());
}

TEST(HeaderScanner, SimilarOrLongNamesDoNotMatch) {
  const HeaderScanner s = ScanAll("Dates: x\r\nX-Date: y\r\nMessage-IDENTIFIER: z\r\n"
                                  "Resent-Message-ID: <q@r>\r\n\r\n");
  EXPECT_FALSE(s.has_message_id());
  EXPECT_FALSE(s.has_date());
}

TEST(HeaderScanner, FoldedLinesAreContinuations) {
  const std::string headers = "Subject: a\r\n very long\r\n\tsubject\r\nDate: x\r\n";
  const HeaderScanner s = ScanAll(headers + "\r\nbody\r\n");
  EXPECT_EQ(s.end(), HeaderScanner::End::kBlankLine);
  EXPECT_EQ(s.header_bytes(), headers.size());
  EXPECT_TRUE(s.has_date());
}

TEST(HeaderScanner, NoSeparatorBeforeTheText) {
  const HeaderScanner s = ScanAll("Subject: x\r\nHello there, no blank line\r\n");
  EXPECT_EQ(s.end(), HeaderScanner::End::kNonHeaderLine);
  EXPECT_EQ(s.header_bytes(), 12u);
}

TEST(HeaderScanner, NoHeadersAtAll) {
  const HeaderScanner text = ScanAll("just text\r\n");
  EXPECT_EQ(text.end(), HeaderScanner::End::kNonHeaderLine);
  EXPECT_EQ(text.header_bytes(), 0u);
  const HeaderScanner blank_first = ScanAll("\r\nbody\r\n");
  EXPECT_EQ(blank_first.end(), HeaderScanner::End::kBlankLine);
  EXPECT_EQ(blank_first.header_bytes(), 0u);
  const HeaderScanner folded_first = ScanAll(" indented\r\n");
  EXPECT_EQ(folded_first.end(), HeaderScanner::End::kNonHeaderLine);
}

TEST(HeaderScanner, MessageOfHeadersOnly) {
  const HeaderScanner s = ScanAll("Subject: x\r\nDate: y\r\n");
  EXPECT_EQ(s.end(), HeaderScanner::End::kEndOfBody);
  EXPECT_EQ(s.header_bytes(), 21u);
  EXPECT_TRUE(s.has_date());
  const HeaderScanner unterminated = ScanAll("Subject: x\r\nDate: y");
  EXPECT_EQ(unterminated.end(), HeaderScanner::End::kEndOfBody);
  EXPECT_TRUE(unterminated.has_date());
  const HeaderScanner empty = ScanAll("");
  EXPECT_EQ(empty.end(), HeaderScanner::End::kEndOfBody);
  EXPECT_EQ(empty.header_bytes(), 0u);
}

TEST(HeaderScanner, LastLineWithoutColonIsText) {
  const HeaderScanner s = ScanAll("Subject: x\r\ntrailing");
  EXPECT_EQ(s.end(), HeaderScanner::End::kNonHeaderLine);
  EXPECT_EQ(s.header_bytes(), 12u);
}

TEST(HeaderScanner, ControlOrEightBitInNameEndsTheSection) {
  EXPECT_EQ(ScanAll("Sub\x01ject: x\r\n\r\n").end(), HeaderScanner::End::kNonHeaderLine);
  EXPECT_EQ(ScanAll("Caf\xc3\xa9: x\r\n\r\n").end(), HeaderScanner::End::kNonHeaderLine);
  EXPECT_EQ(ScanAll("Subject: x\r\n\rX\r\n").end(), HeaderScanner::End::kNonHeaderLine);
}

TEST(HeaderScanner, FeedAfterTheEndTakesNothing) {
  HeaderScanner scanner;
  EXPECT_EQ(scanner.Feed("A: b\r\n\r\nrest"), 8u);
  EXPECT_EQ(scanner.Feed("more"), 0u);
  scanner.Finish();
  EXPECT_EQ(scanner.end(), HeaderScanner::End::kBlankLine);
}

}  // namespace
}  // namespace ringmta::smtp
