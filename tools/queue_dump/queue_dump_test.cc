// queue_dump as an operator runs it: over spools written here, checking the
// summary and record lines, the exit codes, and that no byte changed.
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "gtest/gtest.h"
#include "queue/recovery_test_util.h"
#include "queue/segment_scan.h"

namespace ringmta::queue {
namespace {

struct DumpRun {
  int exit_code = -1;
  std::string output;
};

DumpRun Dump(const std::string& arguments) {
  DumpRun run;
  FILE* pipe = popen(("tools/queue_dump/queue_dump " + arguments + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return run;
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof buffer, pipe)) > 0) run.output.append(buffer, n);
  int status = pclose(pipe);
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return run;
}

std::string Contents(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream out;
  out << in.rdbuf();
  return out.str();
}

class QueueDumpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = std::string(getenv("TEST_TMPDIR")) + "/spool-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(root_);
    testing::SpoolFileWriter out(ShardDirectory(root_, 2), 2);
    MessageBegin begin = testing::TestBegin(1);
    begin.sender = "evil\x1b[31m\r\nX-Forged: 1";  // Peer bytes, stored as given.
    testing::WriteMessage(out, begin, std::string(70000, 'b'));
    testing::WriteMessage(out, testing::TestBegin(2), "short");
    out.Append(EncodeRecipientDelivered({testing::TestOutcome(2, 0, 2)}));
    out.Append(EncodeMessageDone({2, 5, DoneReason::kAllFinal}));
    out.Rotate();
    testing::WriteMessage(out, testing::TestBegin(3), "in segment 2");
    out.Flush();
    log_end_ = out.offset();
  }
  void TearDown() override { std::filesystem::remove_all(root_); }

  std::string Segment(uint32_t number) {
    return ShardDirectory(root_, 2) + "/" + SegmentFileName(number);
  }

  std::string root_;
  uint64_t log_end_ = 0;
};

TEST_F(QueueDumpTest, CleanSpoolSummarisesSegmentsAndExitsZero) {
  DumpRun run = Dump(root_ + " --verify");
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("shard 2: 2 segments, 14 records, 2 messages"), std::string::npos)
      << run.output;
  EXPECT_NE(run.output.find("segment 00000001.seg: 4194304 bytes, 10 records"), std::string::npos)
      << run.output;
  EXPECT_NE(run.output.find("zero tail"), std::string::npos);
  EXPECT_NE(run.output.find("0 failed verification"), std::string::npos);
  EXPECT_EQ(run.output.find("DAMAGE"), std::string::npos);
}

TEST_F(QueueDumpTest, RecordsAreOneSanitisedLineEach) {
  DumpRun run = Dump(root_ + " --shard 2 --records");
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("MessageBegin id=1 "), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("BodyChunk id=1 chunk=1 bytes=4464"), std::string::npos);
  EXPECT_NE(run.output.find("RecipientDelivered id=2 rcpt=0"), std::string::npos);
  EXPECT_NE(run.output.find("MessageDone id=2"), std::string::npos);
  // The forged header stays on the MessageBegin's line, escaped.
  EXPECT_EQ(run.output.find('\x1b'), std::string::npos);
  EXPECT_EQ(run.output.find("\nX-Forged"), std::string::npos);
  // Another shard has nothing to show.
  EXPECT_EQ(Dump(root_ + " --shard 0").output, "");
}

TEST_F(QueueDumpTest, DamageExitsOneAndNothingIsWritten) {
  {
    std::fstream file(Segment(1), std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(200);
    file.write("XXXX", 4);  // Inside message 1's first chunk.
  }
  {
    std::fstream file(Segment(2), std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(static_cast<std::streamoff>(log_end_));
    file.write("torn", 4);
  }
  const std::string before1 = Contents(Segment(1)), before2 = Contents(Segment(2));
  DumpRun run = Dump(root_ + " --verify");
  EXPECT_EQ(run.exit_code, 1) << run.output;
  EXPECT_NE(run.output.find("DAMAGE segment 1"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("QUARANTINED message 1"), std::string::npos);
  EXPECT_NE(run.output.find("torn tail"), std::string::npos);
  EXPECT_EQ(Contents(Segment(1)), before1);
  EXPECT_EQ(Contents(Segment(2)), before2);  // Recovery would cut it; the dump does not.
}

TEST_F(QueueDumpTest, UsageErrorsExitTwo) {
  EXPECT_EQ(Dump("").exit_code, 2);
  EXPECT_EQ(Dump(root_ + " --shard").exit_code, 2);
  EXPECT_EQ(Dump(root_ + " --shard x").exit_code, 2);
  EXPECT_EQ(Dump(root_ + " --bogus").exit_code, 2);
  EXPECT_EQ(Dump(root_ + "/missing").exit_code, 2);
}

}  // namespace
}  // namespace ringmta::queue
