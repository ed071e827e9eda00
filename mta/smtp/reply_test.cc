// Tests for reply formatting and the Status -> reply mapping.
#include "mta/smtp/reply.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace ringmta::smtp {
namespace {

TEST(AppendReply, SingleLineWithEnhancedCode) {
  std::string out;
  AppendReply({250, "2.1.0", "Sender OK"}, &out);
  EXPECT_EQ(out, "250 2.1.0 Sender OK\r\n");
}

TEST(AppendReply, WithoutEnhancedCode) {
  std::string out;
  AppendReply({354, "", "Go ahead"}, &out);
  EXPECT_EQ(out, "354 Go ahead\r\n");
}

TEST(AppendMultilineReply, HyphenOnAllButLast) {
  std::string out;
  const std::vector<std::string> lines = {"mx.example", "PIPELINING", "SIZE 10"};
  AppendMultilineReply(250, "", lines, &out);
  EXPECT_EQ(out, "250-mx.example\r\n250-PIPELINING\r\n250 SIZE 10\r\n");
  out.clear();
  AppendMultilineReply(214, "2.0.0", {std::string("one")}, &out);
  EXPECT_EQ(out, "214 2.0.0 one\r\n");
}

TEST(AppendReplyDeathTest, OurTextMustNotHoldLineBreaks) {
  std::string out;
  EXPECT_DEATH(AppendReply({250, "2.0.0", "a\r\n250 b"}, &out), "");
  EXPECT_DEATH(AppendReply({250, "4.0.0", "class mismatch"}, &out), "");
}

TEST(ReplyForStatus, TransientCodesAre4xx) {
  EXPECT_EQ(ReplyForStatus(absl::ResourceExhaustedError("full")).code, 452);
  EXPECT_EQ(ReplyForStatus(absl::ResourceExhaustedError("full")).enhanced, "4.3.1");
  EXPECT_EQ(ReplyForStatus(absl::UnavailableError("x")).code, 451);
  EXPECT_EQ(ReplyForStatus(absl::InternalError("bug")).code, 451);
  EXPECT_EQ(ReplyForStatus(absl::DataLossError("x")).code, 451);
  EXPECT_EQ(ReplyForStatus(absl::DeadlineExceededError("x")).code, 451);
}

TEST(ReplyForStatus, PermanentCodesAre5xx) {
  EXPECT_EQ(ReplyForStatus(absl::InvalidArgumentError("x")).code, 554);
  EXPECT_EQ(ReplyForStatus(absl::PermissionDeniedError("relay")).code, 554);
  EXPECT_EQ(ReplyForStatus(absl::PermissionDeniedError("relay")).enhanced, "5.7.1");
  EXPECT_EQ(ReplyForStatus(absl::OutOfRangeError("big")).code, 552);
  EXPECT_EQ(ReplyForStatus(absl::NotFoundError("x")).code, 550);
  EXPECT_EQ(ReplyForStatus(absl::UnimplementedError("x")).code, 502);
}

TEST(ReplyForStatus, PeerNeverSeesStatusMessage) {
  const Reply reply = ReplyForStatus(absl::UnavailableError("/var/spool/secret: EIO"));
  EXPECT_EQ(reply.text.find("spool"), std::string::npos);
  EXPECT_EQ(ReplyForStatus(absl::OkStatus()).code, 250);
}

TEST(ReplyForStatus, EveryCodeFormats) {
  for (int code = 0; code <= 16; ++code) {
    std::string out;
    AppendReply(ReplyForStatus(absl::Status(static_cast<absl::StatusCode>(code), "m")), &out);
    EXPECT_FALSE(out.empty());
  }
}

}  // namespace
}  // namespace ringmta::smtp
