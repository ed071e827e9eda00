// SegmentReader's descriptor cache: a file another shard unlinked is closed
// by CloseUnlinked, so its disk space is not held by a cached descriptor.
#include "queue/segment_reader.h"

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "gtest/gtest.h"
#include "mta/io/block_on.h"
#include "mta/io/reactor.h"

namespace ringmta::queue {
namespace {

class SegmentReaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto reactor = io::Reactor::Create();
    ASSERT_TRUE(reactor.ok()) << reactor.status();
    reactor_ = std::move(*reactor);
    directory_ = std::string(getenv("TEST_TMPDIR") ? getenv("TEST_TMPDIR") : "/tmp") +
                 "/segment-reader-" + std::to_string(getpid());
    std::filesystem::create_directories(directory_);
  }
  void TearDown() override { std::filesystem::remove_all(directory_); }

  // A segment file with bytes that are not a record: the read fails, but
  // the file is opened and its descriptor cached, which is what is tested.
  std::string MakeSegment(uint32_t segment) {
    char name[32];
    std::snprintf(name, sizeof name, "/%08u.seg", segment);
    std::string path = directory_ + name;
    std::ofstream(path) << std::string(4096, 'x');
    return path;
  }
  void Touch(SegmentReader& reader, uint32_t segment) {
    std::string payload;
    absl::Status read =
        io::BlockOn(*reactor_, reader.Read(directory_, RecordSpan{segment, 0, 100}, &payload));
    EXPECT_FALSE(read.ok());  // not a record, but opened
  }

  std::unique_ptr<io::Reactor> reactor_;
  std::string directory_;
};

TEST_F(SegmentReaderTest, CloseUnlinkedClosesOnlyFilesThatAreGone) {
  SegmentReader reader(*reactor_);
  std::string gone = MakeSegment(1);
  MakeSegment(2);
  Touch(reader, 1);
  Touch(reader, 2);
  ASSERT_EQ(reader.open_files(), 2u);
  EXPECT_EQ(reader.CloseUnlinked(), 0u);  // both still linked
  std::filesystem::remove(gone);
  EXPECT_EQ(reader.CloseUnlinked(), 1u);
  EXPECT_EQ(reader.open_files(), 1u);
  EXPECT_EQ(reader.CloseUnlinked(), 0u);
  reader.CloseAll();
}

}  // namespace
}  // namespace ringmta::queue
