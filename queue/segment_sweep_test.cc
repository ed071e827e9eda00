// The sweep on a full disk: a spool whose disk holds its current segment and
// not one more refuses new records (452) and loses nothing; once the queue
// drains, the sweep seals and unlinks the dead current segment and
// acceptance resumes by itself. The disk is a byte budget behind the
// SegmentStorage seam: preallocation beyond it fails with ENOSPC, and a
// file's bytes come back only when it is unlinked *and* closed, as on a real
// file system.
#include "queue/segment_sweep.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "mta/io/test_util.h"
#include "queue/log_reader.h"
#include "queue/queue_limits.h"

namespace ringmta::queue {
namespace {

class BudgetStorage : public SegmentStorage {
 public:
  BudgetStorage(io::Reactor& reactor, uint64_t budget) : real_(reactor), budget_(budget) {}

  io::Task<int32_t> OpenDirectory(const std::string& path) override {
    co_return co_await real_.OpenDirectory(path);
  }
  io::Task<int32_t> Create(const std::string& path) override {
    int32_t fd = co_await real_.Create(path);
    if (fd >= 0) open_[fd] = File{path, 0};
    co_return fd;
  }
  io::Task<int32_t> Allocate(int fd, uint64_t bytes) override {
    if (Used() + bytes > budget_) {
      ++refused_;
      co_return -ENOSPC;
    }
    int32_t result = co_await real_.Allocate(fd, bytes);
    if (result >= 0) open_.at(fd).bytes = bytes;
    co_return result;
  }
  io::Task<int32_t> WriteAt(int fd, std::string_view data, uint64_t offset) override {
    co_return co_await real_.WriteAt(fd, data, offset);
  }
  io::Task<int32_t> DataSync(int fd) override { co_return co_await real_.DataSync(fd); }
  io::Task<int32_t> SyncDirectory(int directory_fd) override {
    co_return co_await real_.SyncDirectory(directory_fd);
  }
  io::Task<int32_t> Close(int fd) override {
    auto it = open_.find(fd);
    if (it != open_.end()) {
      closed_[it->second.path] = it->second.bytes;
      open_.erase(it);
    }
    co_return co_await real_.Close(fd);
  }
  void Unlink(const std::string& path) override { real_.Unlink(path); }

  // An open file keeps its blocks even once unlinked; a closed one keeps
  // them while its name exists (the sweep unlinks with unlink(2) directly).
  uint64_t Used() const {
    uint64_t used = 0;
    for (const auto& [fd, file] : open_) used += file.bytes;
    for (const auto& [path, bytes] : closed_) {
      if (std::filesystem::exists(path)) used += bytes;
    }
    return used;
  }
  uint64_t refused() const { return refused_; }

 private:
  struct File {
    std::string path;
    uint64_t bytes = 0;
  };
  RingSegmentStorage real_;
  const uint64_t budget_;
  std::map<int, File> open_;
  std::map<std::string, uint64_t> closed_;
  uint64_t refused_ = 0;
};

class SegmentSweepTest : public ::testing::Test {
 protected:
  // Room for the first segment and half another: the spare never fits.
  static constexpr uint64_t kSegmentBytes = kSegmentBytesMin;
  static constexpr uint64_t kDiskBytes = kSegmentBytes + kSegmentBytes / 2;
  static constexpr size_t kRecordBytes = 500'000;

  void SetUp() override {
    auto reactor = io::Reactor::Create();
    ASSERT_TRUE(reactor.ok()) << reactor.status();
    reactor_ = std::move(*reactor);
    root_ = std::string(getenv("TEST_TMPDIR") ? getenv("TEST_TMPDIR") : "/tmp") + "/sweep-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(root_);
  }
  void Open(uint64_t segment_bytes = kSegmentBytes, uint64_t disk_bytes = kDiskBytes) {
    storage_ = std::make_unique<BudgetStorage>(*reactor_, disk_bytes);
    SpoolOptions options;
    options.directory = root_;
    options.segment_bytes = segment_bytes;
    options.retry_create_ms = 20;
    options.storage = storage_.get();
    options.on_segment_created = [this](uint32_t segment) { queue_.index.TrackSegment(segment); };
    bool done = false;
    absl::Status status;
    io::Spawn(*reactor_, tasks_, [](SegmentSweepTest* test, SpoolOptions options, bool* done,
                                    absl::Status* status) -> io::Task<void> {
      auto opened = co_await Spool::Open(*test->reactor_, std::move(options), 1);
      if (opened.ok()) test->queue_.spool = std::move(*opened);
      *status = opened.status();
      *done = true;
    }(this, std::move(options), &done, &status));
    ASSERT_TRUE(io::RunUntil(*reactor_, [&] { return done; }));
    ASSERT_TRUE(status.ok()) << status;
  }
  void TearDown() override {
    if (queue_.spool != nullptr) {
      bool closed = false;
      io::Spawn(*reactor_, tasks_, [](Spool& spool, bool* closed) -> io::Task<void> {
        co_await spool.Close();
        *closed = true;
      }(*queue_.spool, &closed));
      ASSERT_TRUE(io::RunUntil(*reactor_, [&] { return closed; }));
      queue_.spool.reset();
    }
    ASSERT_TRUE(io::RunUntil(*reactor_, [&] { return tasks_.empty(); }));
    EXPECT_EQ(reactor_->pending_operations(), 0);
  }

  Spool& spool() { return *queue_.spool; }

  // Appends one record and commits it; the location if both succeeded.
  absl::StatusOr<RecordLocation> AppendDurably(std::string payload) {
    absl::StatusOr<RecordLocation> result = absl::UnknownError("not run");
    io::Spawn(*reactor_, tasks_, [](Spool& spool, std::string payload,
                                    absl::StatusOr<RecordLocation>* result) -> io::Task<void> {
      absl::StatusOr<RecordLocation> location = spool.Append({payload});
      if (location.ok()) {
        absl::Status committed = co_await spool.Commit();
        if (!committed.ok()) location = committed;
      }
      *result = location;
    }(spool(), std::move(payload), &result));
    EXPECT_TRUE(io::RunUntil(*reactor_, [&] { return tasks_.empty(); }));
    return result;
  }

  // A message whose only record is `payload`, committed and in the index
  // (as the queue sink adds one); false once the spool refuses.
  absl::Status Accept(uint64_t id, std::string payload) {
    absl::StatusOr<RecordLocation> location = AppendDurably(std::move(payload));
    if (!location.ok()) return location.status();
    MessageEntry entry;
    entry.id = id;
    entry.begin = ToSpan(*location);
    entry.recipients.push_back(RecipientEntry{"rcpt@example.com"});
    queue_.index.AddMessage(std::move(entry));
    return absl::OkStatus();
  }

  // What the queue runner does when a message is done: a MessageDone if it
  // still fits, and the message leaves the index either way.
  void Finish(uint64_t id) {
    absl::StatusOr<RecordLocation> done = AppendDurably("done " + std::to_string(id));
    const MessageEntry* entry = queue_.index.Find(id);
    ASSERT_NE(entry, nullptr);
    queue_.index.RemoveMessage(id, done.ok() ? done->segment : entry->segments.back());
  }

  std::vector<std::string> ReadRecords(uint32_t segment) {
    std::ifstream file(spool().SegmentPath(segment), std::ios::binary);
    std::stringstream stream;
    stream << file.rdbuf();
    std::string bytes = stream.str();
    LogReader reader(segment, nullptr);
    reader.Feed(bytes);
    reader.Finish();
    std::vector<std::string> records;
    LogRecord record;
    while (reader.Next(&record) == LogReader::Step::kRecord) records.emplace_back(record.payload);
    return records;
  }

  absl::StatusOr<size_t> Sweep() {
    return SweepDeadSegments(queue_, [this](uint32_t segment) { removed_.push_back(segment); });
  }

  // Fills the disk: messages of kRecordBytes until the spool refuses one.
  std::vector<std::string> FillUntilRefused() {
    std::vector<std::string> accepted;
    for (uint64_t id = 1; id <= 100; ++id) {
      std::string payload(kRecordBytes, static_cast<char>('a' + id % 26));
      payload.replace(0, 8, "message" + std::to_string(id % 10));
      absl::Status status = Accept(id, payload);
      if (!status.ok()) {
        EXPECT_EQ(status.code(), absl::StatusCode::kResourceExhausted) << status;
        break;
      }
      accepted.push_back(payload);
    }
    return accepted;
  }

  std::unique_ptr<io::Reactor> reactor_;
  io::TaskGroup tasks_;
  std::unique_ptr<BudgetStorage> storage_;
  std::string root_;
  ShardQueue queue_;
  std::vector<uint32_t> removed_;
};

TEST_F(SegmentSweepTest, DrainedFullSpoolAcceptsAgainAndLosesNothing) {
  Open();
  std::vector<std::string> accepted = FillUntilRefused();
  ASSERT_GE(accepted.size(), 2u);
  EXPECT_TRUE(spool().out_of_space());
  EXPECT_GE(storage_->refused(), 1u);
  EXPECT_EQ(spool().current_segment(), 1u);

  // Full stays full while the messages are queued: the sweep keeps the
  // segment (it is live), retries keep failing, and everything accepted is
  // on disk.
  ASSERT_TRUE(Sweep().ok());
  EXPECT_TRUE(removed_.empty());
  uint64_t refused_before = storage_->refused();
  io::RunUntil(*reactor_, [&] { return storage_->refused() >= refused_before + 3; });
  EXPECT_EQ(AppendDurably(std::string(kRecordBytes, 'z')).status().code(),
            absl::StatusCode::kResourceExhausted);
  std::vector<std::string> on_disk = ReadRecords(1);
  for (const std::string& payload : accepted) {
    EXPECT_NE(std::find(on_disk.begin(), on_disk.end(), payload), on_disk.end());
  }

  // Drain all but one: still live, still kept.
  for (uint64_t id = 2; id <= accepted.size(); ++id) Finish(id);
  ASSERT_TRUE(Sweep().ok());
  EXPECT_TRUE(removed_.empty());
  EXPECT_EQ(spool().current_segment(), 1u);
  // A transfer still open in the segment keeps it too.
  Finish(1);
  auto open_transfer = queue_.open_transfer_segments.insert(1);
  ASSERT_TRUE(Sweep().ok());
  EXPECT_TRUE(removed_.empty());
  queue_.open_transfer_segments.erase(open_transfer);

  // Empty queue: the dead current segment is sealed and unlinked, its room
  // comes back once the spool closes it, and acceptance resumes by itself.
  absl::StatusOr<size_t> swept = Sweep();
  ASSERT_TRUE(swept.ok()) << swept.status();
  EXPECT_EQ(*swept, 1u);
  EXPECT_EQ(removed_, std::vector<uint32_t>{1});
  EXPECT_FALSE(std::filesystem::exists(spool().SegmentPath(1)));
  absl::StatusOr<RecordLocation> resumed = absl::UnknownError("never resumed");
  io::RunUntil(*reactor_, [&] {
    if (!resumed.ok()) resumed = AppendDurably("accepted again");
    return resumed.ok();
  });
  ASSERT_TRUE(resumed.ok()) << resumed.status();
  // Failed creations did not use up numbers: the next segment is 2.
  EXPECT_EQ(resumed->segment, 2u);
  EXPECT_FALSE(spool().out_of_space());
  std::vector<std::string> records = ReadRecords(resumed->segment);
  ASSERT_EQ(records.size(), 2u);  // The segment header, then ours.
  EXPECT_EQ(records[1], "accepted again");
  EXPECT_LE(storage_->Used(), kDiskBytes);
}

TEST_F(SegmentSweepTest, ASecondOutageKeepsTheSegmentOfALiveMessage) {
  Open();
  // The first outage ends as the queue drains; in the second, one message
  // stays queued in the full segment, which must then stay too.
  std::vector<std::string> accepted = FillUntilRefused();
  ASSERT_GE(accepted.size(), 2u);
  for (uint64_t id = 1; id <= accepted.size(); ++id) Finish(id);
  ASSERT_TRUE(Sweep().ok());
  ASSERT_EQ(removed_, std::vector<uint32_t>{1});
  absl::StatusOr<RecordLocation> resumed = absl::UnknownError("never resumed");
  io::RunUntil(*reactor_, [&] {
    if (!resumed.ok()) resumed = AppendDurably("accepted again");
    return resumed.ok();
  });
  ASSERT_TRUE(resumed.ok()) << resumed.status();
  const uint32_t second = resumed->segment;
  // Fill the second segment: the message kept here stays queued.
  std::string kept(kRecordBytes, 'k');
  ASSERT_TRUE(Accept(1000, kept).ok());
  for (uint64_t id = 1001; id < 1100; ++id) {
    absl::Status status = Accept(id, std::string(kRecordBytes, 'f'));
    if (!status.ok()) break;
  }
  ASSERT_TRUE(spool().out_of_space());
  const uint32_t full = spool().current_segment();
  ASSERT_EQ(full, second);  // The spare never fits: one segment at a time.
  // Everything but message 1000 drains; the segment is live, nothing goes.
  for (uint64_t id = 1001; id < 1100; ++id) {
    if (queue_.index.Find(id) != nullptr) Finish(id);
  }
  ASSERT_TRUE(Sweep().ok());
  EXPECT_EQ(removed_, std::vector<uint32_t>{1});
  ASSERT_NE(queue_.index.Find(1000), nullptr);
  std::vector<std::string> on_disk = ReadRecords(full);
  EXPECT_NE(std::find(on_disk.begin(), on_disk.end(), kept), on_disk.end());
}

TEST_F(SegmentSweepTest, NothingIsSealedWhileTheSpoolHasRoom) {
  Open();
  // A dead current segment with room left, or with a spare ready, stays:
  // sealing it would only refuse mail that fits.
  ASSERT_TRUE(AppendDurably("small").ok());
  ASSERT_FALSE(spool().out_of_space());
  ASSERT_TRUE(Sweep().ok());
  EXPECT_TRUE(removed_.empty());
  EXPECT_EQ(spool().current_segment(), 1u);
  EXPECT_TRUE(std::filesystem::exists(spool().SegmentPath(1)));
}

TEST_F(SegmentSweepTest, ANextSegmentShrinksToFitTheDisk) {
  // Room for a 16 MiB segment and 5 MiB more: the next one is made at 4
  // MiB (halving from 16), and mail goes on into it before the 452.
  constexpr uint64_t kLarge = 4 * kSegmentBytesMin;
  Open(kLarge, kLarge + kSegmentBytesMin + (1 << 20));
  ASSERT_TRUE(io::RunUntil(*reactor_, [&] { return spool().stats().segments_created == 2; }));
  std::vector<std::string> accepted = FillUntilRefused();
  EXPECT_TRUE(spool().out_of_space());
  EXPECT_EQ(spool().current_segment(), 2u);
  EXPECT_EQ(std::filesystem::file_size(spool().SegmentPath(1)), kLarge);
  EXPECT_EQ(std::filesystem::file_size(spool().SegmentPath(2)), kSegmentBytesMin);
  // Every accepted message is in one of the two, and both filled up.
  std::vector<std::string> first = ReadRecords(1);
  std::vector<std::string> second = ReadRecords(2);
  EXPECT_GT(first.size(), kLarge / kRecordBytes - 2);
  EXPECT_GT(second.size(), kSegmentBytesMin / kRecordBytes - 2);
  for (const std::string& payload : accepted) {
    EXPECT_TRUE(std::find(first.begin(), first.end(), payload) != first.end() ||
                std::find(second.begin(), second.end(), payload) != second.end());
  }
  EXPECT_LE(storage_->Used(), kLarge + kSegmentBytesMin + (1 << 20));
}

}  // namespace
}  // namespace ringmta::queue
