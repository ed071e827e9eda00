#include <cerrno>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "mta/base/check.h"
#include "mta/base/command_line.h"
#include "mta/base/log.h"
#include "mta/base/status.h"

namespace ringmta {
namespace {

absl::StatusOr<int> Half(int n) {
  if (n % 2 != 0) return absl::InvalidArgumentError("odd");
  return n / 2;
}

absl::Status QuarterInto(int n, int* out) {
  ASSIGN_OR_RETURN(int half, Half(n));
  ASSIGN_OR_RETURN(int quarter, Half(half));
  *out = quarter;
  return absl::OkStatus();
}

absl::Status FailsThrough(bool fail) {
  RETURN_IF_ERROR(fail ? absl::DataLossError("x") : absl::OkStatus());
  return absl::AbortedError("reached the end");
}

TEST(StatusMacros, AssignOrReturnBindsValue) {
  int out = 0;
  EXPECT_TRUE(QuarterInto(8, &out).ok());
  EXPECT_EQ(out, 2);
}

TEST(StatusMacros, AssignOrReturnPropagatesError) {
  int out = -1;
  EXPECT_EQ(QuarterInto(6, &out).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(out, -1);
}

TEST(StatusMacros, ReturnIfErrorReturnsEarlyOnlyOnError) {
  EXPECT_EQ(FailsThrough(true).code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(FailsThrough(false).code(), absl::StatusCode::kAborted);
}

TEST(ErrnoToStatus, CodesSayWhatToDo) {
  EXPECT_EQ(ErrnoToStatus(ECONNRESET, "recv").code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(ErrnoToStatus(ENOSPC, "write").code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(ErrnoToStatus(ECANCELED, "op").code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(ErrnoToStatus(EINVAL, "op").code(), absl::StatusCode::kInternal);
  EXPECT_NE(ErrnoToStatus(ENOENT, "open spool").message().find("open spool"), std::string::npos);
}

TEST(SanitizePeerText, EscapesControlBytesAndTruncates) {
  EXPECT_EQ(SanitizePeerText("EHLO x\r\n", 100), "EHLO x\\x0d\\x0a");
  EXPECT_EQ(SanitizePeerText("abcdef", 3), "abc...");
  EXPECT_EQ(SanitizePeerText("a\\b", 100), "a\\x5cb");
}

TEST(CheckDeathTest, FailedCheckAborts) {
  EXPECT_DEATH(CHECK(1 + 1 == 3), "CHECK failed.*1 \\+ 1 == 3");
}

TEST(CommandLineTest, TakesBothSpellingsOfAFlagValue) {
  std::vector<std::string> arguments = {"--spool", "/var/q", "--listen=127.0.0.1:25", "--x"};
  std::string value;
  absl::Status error;
  size_t i = 0;
  EXPECT_FALSE(TakeFlagValue(arguments, &i, "--listen", &value, &error));
  ASSERT_TRUE(TakeFlagValue(arguments, &i, "--spool", &value, &error));
  EXPECT_EQ(value, "/var/q");
  EXPECT_EQ(i, 1u);  // moved past the value
  i = 2;
  ASSERT_TRUE(TakeFlagValue(arguments, &i, "--listen", &value, &error));
  EXPECT_EQ(value, "127.0.0.1:25");
  EXPECT_TRUE(error.ok());
  // A prefix is not the flag: "--listen" does not match "--listener=1".
  std::vector<std::string> longer = {"--listener=1"};
  i = 0;
  EXPECT_FALSE(TakeFlagValue(longer, &i, "--listen", &value, &error));
}

TEST(CommandLineTest, ATrailingFlagWithoutItsValueIsAnError) {
  std::vector<std::string> arguments = {"--spool"};
  std::string value = "unchanged";
  absl::Status error;
  size_t i = 0;
  ASSERT_TRUE(TakeFlagValue(arguments, &i, "--spool", &value, &error));
  EXPECT_EQ(error.message(), "--spool needs a value");
  EXPECT_EQ(value, "unchanged");
  EXPECT_EQ(BadFlagValue("--shards", "two", "a number").message(),
            "--shards: a number, got 'two'");
}

}  // namespace
}  // namespace ringmta
