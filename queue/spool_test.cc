// Spool: group commit on a real file system through io_uring: durability
// before acknowledgement, one fdatasync per round for many committers,
// rotation, write-behind, a full disk and a failed write.
#include "queue/spool.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "mta/io/operation.h"
#include "mta/io/test_util.h"
#include "queue/log_reader.h"
#include "queue/queue_limits.h"

namespace ringmta::queue {
namespace {

class SpoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto reactor = io::Reactor::Create();
    ASSERT_TRUE(reactor.ok()) << reactor.status();
    reactor_ = std::move(*reactor);
    root_ = std::string(getenv("TEST_TMPDIR") ? getenv("TEST_TMPDIR") : "/tmp") + "/spool-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(root_);
    options_.directory = root_;
    options_.segment_bytes = kSegmentBytesMin;
  }
  void TearDown() override {
    CloseSpool();
    ASSERT_TRUE(io::RunUntil(*reactor_, [&] { return tasks_.empty(); }));
    EXPECT_EQ(reactor_->pending_operations(), 0);
  }
  // Before any storage the test substituted goes out of scope.
  void CloseSpool() {
    if (spool_ == nullptr) return;
    bool closed = false;
    io::Spawn(*reactor_, tasks_, [](Spool& spool, bool* closed) -> io::Task<void> {
      co_await spool.Close();
      *closed = true;
    }(*spool_, &closed));
    ASSERT_TRUE(io::RunUntil(*reactor_, [&] { return closed; }));
    spool_.reset();
  }
  void OpenSpool(uint32_t first_segment = 1) {
    bool done = false;
    absl::Status status;
    io::Spawn(*reactor_, tasks_, [](SpoolTest* test, uint32_t first, bool* done,
                                    absl::Status* status) -> io::Task<void> {
      auto opened = co_await Spool::Open(*test->reactor_, test->options_, first);
      if (opened.ok()) test->spool_ = std::move(*opened);
      *status = opened.status();
      *done = true;
    }(this, first_segment, &done, &status));
    ASSERT_TRUE(io::RunUntil(*reactor_, [&] { return done; }));
    ASSERT_TRUE(status.ok()) << status;
  }
  // Records a segment file holds, read back from disk by the real reader.
  std::vector<std::string> ReadRecords(uint32_t segment) {
    std::ifstream file(spool_->SegmentPath(segment), std::ios::binary);
    std::stringstream stream;
    stream << file.rdbuf();
    std::string bytes = stream.str();
    LogReader reader(segment, nullptr);
    reader.Feed(bytes);
    reader.Finish();
    std::vector<std::string> records;
    LogRecord record;
    while (reader.Next(&record) == LogReader::Step::kRecord) {
      records.emplace_back(record.payload);
    }
    return records;
  }

  std::unique_ptr<io::Reactor> reactor_;
  io::TaskGroup tasks_;
  std::string root_;
  SpoolOptions options_;
  std::unique_ptr<Spool> spool_;
};

io::Task<void> AppendAndCommit(Spool& spool, std::string payload, absl::Status* result) {
  absl::StatusOr<RecordLocation> location = spool.Append({payload});
  if (!location.ok()) {
    *result = location.status();
    co_return;
  }
  *result = co_await spool.Commit();
}

TEST_F(SpoolTest, CommittedRecordIsOnDiskWhenCommitReturns) {
  OpenSpool();
  absl::Status result = absl::UnknownError("not run");
  io::Spawn(*reactor_, tasks_, AppendAndCommit(*spool_, "first record", &result));
  ASSERT_TRUE(io::RunUntil(*reactor_, [&] { return tasks_.empty(); }));
  ASSERT_TRUE(result.ok()) << result;
  EXPECT_GE(spool_->stats().fdatasyncs, 1u);
  std::vector<std::string> records = ReadRecords(1);
  ASSERT_EQ(records.size(), 2u);  // The segment header, then ours.
  EXPECT_EQ(records[1], "first record");
}

TEST_F(SpoolTest, FiftyConcurrentCommitsShareOneFdatasync) {
  OpenSpool();
  // Let the spare segment's creation finish so it does not blur the count.
  io::RunUntil(*reactor_, [&] { return spool_->stats().segments_created == 2; });
  uint64_t syncs_before = spool_->stats().fdatasyncs;
  std::vector<absl::Status> results(50, absl::UnknownError("not run"));
  for (int i = 0; i < 50; ++i) {
    io::Spawn(*reactor_, tasks_, AppendAndCommit(*spool_, "message " + std::to_string(i), &results[i]));
  }
  ASSERT_TRUE(io::RunUntil(*reactor_, [&] { return tasks_.empty(); }));
  for (const absl::Status& result : results) EXPECT_TRUE(result.ok()) << result;
  EXPECT_EQ(spool_->stats().commits_acked, 50u);
  EXPECT_EQ(spool_->stats().fdatasyncs - syncs_before, 1u);
  EXPECT_EQ(ReadRecords(1).size(), 51u);
}

TEST_F(SpoolTest, CommitDuringARoundWaitsForTheNextOne) {
  OpenSpool();
  absl::Status first = absl::UnknownError("not run");
  absl::Status second = absl::UnknownError("not run");
  io::Spawn(*reactor_, tasks_, AppendAndCommit(*spool_, "one", &first));
  // Run until the first round is in flight, then commit again.
  io::RunUntil(*reactor_, [&] { return spool_->stats().writes >= 1; });
  io::Spawn(*reactor_, tasks_, AppendAndCommit(*spool_, "two", &second));
  ASSERT_TRUE(io::RunUntil(*reactor_, [&] { return tasks_.empty(); }));
  EXPECT_TRUE(first.ok());
  EXPECT_TRUE(second.ok());
  std::vector<std::string> records = ReadRecords(1);
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[2], "two");
}

TEST_F(SpoolTest, FullSegmentRotatesToTheNextNumber) {
  OpenSpool(7);
  std::string big(500'000, 'x');
  int committed = 0;
  for (int i = 0; i < 12; ++i) {  // 6 MB through 4 MiB segments.
    absl::Status result;
    io::Spawn(*reactor_, tasks_, AppendAndCommit(*spool_, big, &result));
    ASSERT_TRUE(io::RunUntil(*reactor_, [&] { return tasks_.empty(); }));
    ASSERT_TRUE(result.ok()) << result;
    ++committed;
  }
  EXPECT_EQ(committed, 12);
  EXPECT_GE(spool_->current_segment(), 8u);
  size_t total = ReadRecords(7).size() - 1 + ReadRecords(8).size() - 1;
  EXPECT_EQ(total, 12u);
}

TEST_F(SpoolTest, WriteBehindBoundsUnwrittenBytes) {
  options_.write_behind_bytes = 100'000;
  OpenSpool();
  bool done = false;
  io::Spawn(*reactor_, tasks_, [](Spool& spool, bool* done) -> io::Task<void> {
    std::string chunk(60'000, 'b');
    for (int i = 0; i < 20; ++i) {
      EXPECT_TRUE(spool.Append({chunk}).ok());
      co_await spool.WaitWriteBehind();
    }
    *done = true;
  }(*spool_, &done));
  ASSERT_TRUE(io::RunUntil(*reactor_, [&] { return done; }));
  // 1.2 MB appended with no Commit: all but the paced backlog is written.
  EXPECT_EQ(spool_->pace_bytes(), 100'000u * limits::kSpoolPaceWriteBehindBatches);
  EXPECT_GE(spool_->stats().bytes_written, 1'200'000u - spool_->pace_bytes());
}

// The real storage, except that fdatasync waits while `hold` is set.
class HeldSyncStorage : public SegmentStorage {
 public:
  explicit HeldSyncStorage(io::Reactor& reactor) : reactor_(reactor), real_(reactor) {}
  io::Task<int32_t> OpenDirectory(const std::string& path) override {
    return real_.OpenDirectory(path);
  }
  io::Task<int32_t> Create(const std::string& path) override { return real_.Create(path); }
  io::Task<int32_t> Allocate(int fd, uint64_t bytes) override { return real_.Allocate(fd, bytes); }
  io::Task<int32_t> WriteAt(int fd, std::string_view data, uint64_t offset) override {
    return real_.WriteAt(fd, data, offset);
  }
  io::Task<int32_t> DataSync(int fd) override {
    ++syncs_started;
    while (hold) co_await io::Sleep(reactor_, nullptr, 1);
    co_return co_await real_.DataSync(fd);
  }
  io::Task<int32_t> SyncDirectory(int fd) override { return real_.SyncDirectory(fd); }
  io::Task<int32_t> Close(int fd) override { return real_.Close(fd); }
  void Unlink(const std::string& path) override { real_.Unlink(path); }

  bool hold = false;
  int syncs_started = 0;

 private:
  io::Reactor& reactor_;
  RingSegmentStorage real_;
};

// A commit round's fdatasync (slow on a busy disk) must not stall sessions
// streaming large bodies: batches framed meanwhile are written behind it,
// and a later commit syncs them.
TEST_F(SpoolTest, StreamingGoesOnWhileARoundSyncs) {
  HeldSyncStorage storage(*reactor_);
  options_.storage = &storage;
  options_.write_behind_bytes = 100'000;
  OpenSpool();
  ASSERT_TRUE(io::RunUntil(*reactor_, [&] { return spool_->stats().segments_created == 2; }));
  storage.hold = true;
  const int syncs_before = storage.syncs_started;
  absl::Status committed = absl::UnknownError("not yet");
  bool commit_done = false;
  io::Spawn(*reactor_, tasks_, [](Spool& spool, absl::Status* status,
                                  bool* done) -> io::Task<void> {
    EXPECT_TRUE(spool.Append({"committed record"}).ok());
    *status = co_await spool.Commit();
    *done = true;
  }(*spool_, &committed, &commit_done));
  ASSERT_TRUE(io::RunUntil(*reactor_, [&] { return storage.syncs_started > syncs_before; }));
  const uint64_t written_before = spool_->stats().bytes_written;
  // 20 x 60 KB = 1.2 MB: three times the pace limit (400 KB).
  int streamed = 0;
  io::Spawn(*reactor_, tasks_, [](Spool& spool, int* streamed) -> io::Task<void> {
    std::string chunk(60'000, 's');
    for (int i = 0; i < 20; ++i) {
      EXPECT_TRUE(spool.Append({chunk}).ok());
      if (spool.write_behind_full()) co_await spool.WaitWriteBehind();
      ++*streamed;
    }
  }(*spool_, &streamed));
  EXPECT_TRUE(io::RunUntil(*reactor_, [&] { return streamed == 20; }, 5'000))
      << "streaming stalled after " << streamed << " chunks while the sync was held";
  EXPECT_GE(spool_->stats().bytes_written - written_before, 1'200'000u - spool_->pace_bytes())
      << "nothing was written behind the held sync";
  EXPECT_FALSE(commit_done);  // the sync is still held: nothing acknowledged early
  EXPECT_EQ(storage.syncs_started, syncs_before + 1);
  storage.hold = false;
  ASSERT_TRUE(io::RunUntil(*reactor_, [&] { return commit_done; }));
  EXPECT_TRUE(committed.ok()) << committed;
  // What was written behind the first sync is not covered by it: the next
  // commit must sync again.
  const int syncs_after_first = storage.syncs_started;
  commit_done = false;
  io::Spawn(*reactor_, tasks_, [](Spool& spool, absl::Status* status,
                                  bool* done) -> io::Task<void> {
    *status = co_await spool.Commit();
    *done = true;
  }(*spool_, &committed, &commit_done));
  ASSERT_TRUE(io::RunUntil(*reactor_, [&] { return commit_done; }));
  EXPECT_TRUE(committed.ok()) << committed;
  EXPECT_GT(storage.syncs_started, syncs_after_first);
  CloseSpool();
}

TEST_F(SpoolTest, FullDiskRefusesWithResourceExhaustedAndRecoversByItself) {
  options_.retry_create_ms = 20;
  OpenSpool();
  io::RunUntil(*reactor_, [&] { return spool_->stats().segments_created == 2; });
  // Fill the current segment and use up the spare, while no file may grow
  // (RLIMIT_FSIZE makes fallocate fail as a full disk would).
  signal(SIGXFSZ, SIG_IGN);
  rlimit unlimited;
  getrlimit(RLIMIT_FSIZE, &unlimited);
  // Writes inside existing segments still fit under the limit; a new
  // segment's fallocate does not.
  rlimit none = unlimited;
  none.rlim_cur = options_.segment_bytes - 1;
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &none), 0);
  std::string big(500'000, 'y');
  absl::Status last = absl::OkStatus();
  for (int i = 0; i < 20 && last.ok(); ++i) {
    io::Spawn(*reactor_, tasks_, AppendAndCommit(*spool_, big, &last));
    io::RunUntil(*reactor_, [&] { return tasks_.empty(); });
  }
  EXPECT_EQ(last.code(), absl::StatusCode::kResourceExhausted) << last;
  // Space returns: the retry timer makes a segment and appends resume.
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &unlimited), 0);
  absl::Status resumed = absl::UnknownError("never resumed");
  io::RunUntil(*reactor_, [&] {
    if (resumed.ok()) return true;
    if (tasks_.empty()) io::Spawn(*reactor_, tasks_, AppendAndCommit(*spool_, "again", &resumed));
    return false;
  });
  EXPECT_TRUE(resumed.ok()) << resumed;
}

}  // namespace
}  // namespace ringmta::queue
