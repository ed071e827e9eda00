// Compactor on a real spool (io_uring, real files, 4 MiB segments): disk use
// follows the live data when most mail is delivered and some stays deferred;
// copies keep every body, recipient state and failure text; a message in
// flight is not moved; a crash between the copy and the old segment's unlink
// replays to the same queue.
#include "queue/compactor.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>
#include <variant>

#include <gtest/gtest.h>

#include "mta/base/clock.h"
#include "mta/io/test_util.h"
#include "queue/queue_limits.h"
#include "queue/recovery.h"
#include "queue/records.h"
#include "queue/segment_scan.h"

namespace ringmta::queue {
namespace {

constexpr size_t kBodyBytes = 60'000;  // One chunk each.

// The real storage, whose next fdatasync can be made to fail (EIO) after
// the write went through: the bytes are in the file, the spool must assume
// they may not be.
class FailingStorage : public RingSegmentStorage {
 public:
  using RingSegmentStorage::RingSegmentStorage;
  io::Task<int32_t> DataSync(int fd) override {
    if (fail_next_sync_) {
      fail_next_sync_ = false;
      co_return -EIO;
    }
    co_return co_await RingSegmentStorage::DataSync(fd);
  }
  bool fail_next_sync_ = false;
};

class CompactorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto reactor = io::Reactor::Create();
    ASSERT_TRUE(reactor.ok()) << reactor.status();
    reactor_ = std::move(*reactor);
    root_ = std::string(getenv("TEST_TMPDIR") ? getenv("TEST_TMPDIR") : "/tmp") + "/compactor-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(root_);
    queue_.shard = 0;
    reader_ = std::make_unique<SegmentReader>(*reactor_);
    compactor_ = std::make_unique<Compactor>(*reactor_, queue_, *reader_,
                                             [this](uint64_t id) { return busy_.contains(id); });
    SpoolOptions options;
    options.directory = root_;
    options.segment_bytes = kSegmentBytesMin;
    options.on_segment_created = [this](uint32_t segment) { queue_.index.TrackSegment(segment); };
    storage_ = std::make_unique<FailingStorage>(*reactor_);
    options.storage = storage_.get();
    queue_.spool = Run([](SpoolOptions options, io::Reactor* reactor)
                           -> io::Task<std::unique_ptr<Spool>> {
      auto spool = co_await Spool::Open(*reactor, options, 1);
      CHECK(spool.ok());
      co_return std::move(*spool);
    }(options, reactor_.get()));
  }
  void TearDown() override {
    CloseSpool();
    reader_.reset();
    std::filesystem::remove_all(root_);
  }
  void CloseSpool() {
    if (queue_.spool == nullptr) return;
    Run([](Spool* spool) -> io::Task<bool> {
      co_await spool->Close();
      co_return true;
    }(queue_.spool.get()));
    queue_.spool.reset();
    reader_->CloseAll();
  }

  template <typename T>
  T Run(io::Task<T> task) {
    std::optional<T> result;
    io::Spawn(*reactor_, tasks_, [](io::Task<T> inner, std::optional<T>* out) -> io::Task<void> {
      *out = co_await std::move(inner);
    }(std::move(task), &result));
    EXPECT_TRUE(io::RunUntil(*reactor_, [&] { return result.has_value(); }, 120'000));
    CHECK(result.has_value());
    return std::move(*result);
  }

  static std::string Body(uint64_t id) {
    std::string body(kBodyBytes, 'a' + static_cast<char>(id % 26));
    std::string tag = "id=" + std::to_string(id) + "\r\n";
    body.replace(0, tag.size(), tag);
    return body;
  }

  // Appends `count` messages of `recipients` each and commits them in one round.
  std::vector<uint64_t> Accept(int count, int recipients = 1) {
    std::vector<uint64_t> ids;
    for (int n = 0; n < count; ++n) {
      MessageBegin begin;
      begin.message_id = ++next_id_;
      begin.received_ms = WallNowMs();
      begin.deadline_ms = begin.received_ms + 86'400'000;
      begin.sender = "s@example.org";
      MessageEntry entry;
      for (int r = 0; r < recipients; ++r) {
        begin.recipients.push_back({"r" + std::to_string(r) + "@example.com", 0, ""});
        entry.recipients.push_back({begin.recipients.back().address, 0, 0,
                                    RecipientState::kPending, 0});
      }
      entry.id = begin.message_id;
      entry.received_ms = begin.received_ms;
      entry.deadline_ms = begin.deadline_ms;
      entry.sender = begin.sender;
      entry.begin = ToSpan(Put({EncodeMessageBegin(begin)}));
      const std::string body = Body(begin.message_id);
      BodyTally tally;
      uint64_t index = tally.Add(body);
      entry.chunks.push_back(ToSpan(
          Put({EncodeBodyChunkPrefix(entry.id, index, body.size()), body})));
      entry.commit_segment = Put({EncodeMessageCommit(tally.Commit(entry.id))}).segment;
      entry.body_bytes = body.size();
      queue_.index.AddMessage(std::move(entry));
      ids.push_back(begin.message_id);
    }
    Sync();
    return ids;
  }
  // Spool::Append, letting the loop run while the next segment is made.
  RecordLocation Put(std::initializer_list<std::string_view> parts) {
    for (;;) {
      absl::StatusOr<RecordLocation> location =
          queue_.spool->Append(std::span<const std::string_view>(parts.begin(), parts.size()));
      if (location.ok()) return *location;
      CHECK(absl::IsUnavailable(location.status()));
      reactor_->RunOnce(1);
    }
  }
  void Sync() { EXPECT_TRUE(Run(queue_.spool->Commit()).ok()); }

  void Deliver(uint64_t id, uint32_t recipient) {
    RecipientOutcome outcome{id, recipient, WallNowMs(), {2, 0, 0}, "mx.example.com", "250 ok"};
    RecordLocation at = Put({EncodeRecipientDelivered({outcome})});
    queue_.index.MarkDelivered(id, recipient, at.segment);
  }
  void Defer(uint64_t id, uint32_t recipient, int64_t until_ms) {
    RecipientOutcome outcome{id, recipient, WallNowMs(), {4, 2, 2}, "mx.example.com", "452 full"};
    RecordLocation at = Put({EncodeRecipientDeferred({outcome, 1, until_ms})});
    queue_.index.MarkDeferred(id, recipient, at.segment, until_ms, 1);
  }
  void Fail(uint64_t id, uint32_t recipient, const std::string& text) {
    RecipientOutcome outcome{id, recipient, WallNowMs(), {5, 1, 1}, "mx9.example.net", text};
    RecordLocation at = Put({EncodeRecipientFailed({outcome})});
    queue_.index.MarkFailed(id, recipient, ToSpan(at));
  }
  void Done(uint64_t id) {
    RecordLocation at = Put({EncodeMessageDone({id, WallNowMs(), DoneReason::kAllFinal})});
    queue_.index.RemoveMessage(id, at.segment);
  }
  // What the runner's sweep does.
  void Sweep() {
    auto removed = RemoveDeadSegmentsFully(
        Directory(), queue_.spool->current_segment(), &queue_.index,
        [this](uint32_t segment) { reader_->Forget(Directory(), segment); });
    ASSERT_TRUE(removed.ok()) << removed.status();
  }
  absl::Status Compact() { return Run(compactor_->RunPass(queue_.spool->current_segment())); }

  std::string Directory() const { return root_ + "/shard-0"; }
  // Allocated bytes of every segment file: what the disk really holds.
  uint64_t DiskBytes() const {
    uint64_t bytes = 0;
    for (const auto& file : std::filesystem::directory_iterator(Directory())) {
      struct stat info;
      if (stat(file.path().c_str(), &info) == 0) bytes += static_cast<uint64_t>(info.st_blocks) * 512;
    }
    return bytes;
  }
  uint64_t LiveBytes() const {
    uint64_t bytes = 0;
    queue_.index.ForEach([&](const MessageEntry& entry) {
      bytes += entry.begin.end_offset - entry.begin.offset;
      for (size_t i = 0; i < entry.chunks.size(); ++i) {
        bytes += entry.chunks[i].end_offset - entry.chunks[i].offset;
      }
    });
    return bytes;
  }
  std::string ReadPayload(const RecordSpan& span) const {
    auto payload = ReadRecordAt(Directory() + "/" + SegmentFileName(span.segment), span.segment,
                                span.offset, span.end_offset);
    EXPECT_TRUE(payload.ok()) << payload.status();
    return payload.ok() ? *payload : std::string();
  }
  std::string ReadBody(const MessageEntry& entry) const {
    std::string body;
    for (size_t i = 0; i < entry.chunks.size(); ++i) {
      std::string payload = ReadPayload(entry.chunks[i]);
      auto record = DecodeRecord(payload);
      EXPECT_TRUE(record.ok());
      if (record.ok()) body += std::string(std::get<BodyChunk>(*record).data);
    }
    return body;
  }
  std::string FailureText(const QueueIndex& index, uint64_t id, uint32_t recipient) const {
    const FailedRecords* failed = index.FailedRecordsOf(id);
    if (failed == nullptr) return "";
    for (const FailedRecord& record : *failed) {
      if (record.recipient != recipient) continue;
      auto decoded = DecodeRecord(ReadPayload(record.span));
      if (!decoded.ok()) return "";
      const auto& outcome = std::get<RecipientFailed>(*decoded).outcome;
      return outcome.remote_host + " " + outcome.response;
    }
    return "";
  }

  std::unique_ptr<io::Reactor> reactor_;
  io::TaskGroup tasks_;
  std::string root_;
  ShardQueue queue_;
  std::unique_ptr<SegmentReader> reader_;
  std::unique_ptr<Compactor> compactor_;
  std::unique_ptr<FailingStorage> storage_;
  absl::flat_hash_set<uint64_t> busy_;
  uint64_t next_id_ = 1000;
};

TEST_F(CompactorTest, DiskReturnsNearZeroOnceEverythingIsDelivered) {
  for (int round = 0; round < 10; ++round) {
    for (uint64_t id : Accept(40)) {
      Deliver(id, 0);
      Done(id);
    }
    Sync();
    ASSERT_TRUE(Compact().ok());
    Sweep();
  }
  EXPECT_GT(queue_.spool->stats().segments_created, 4u);
  EXPECT_EQ(queue_.index.message_count(), 0u);
  // Only the segment being appended to and the preallocated spare remain.
  EXPECT_LE(DiskBytes(), 2 * kSegmentBytesMin);
}

TEST_F(CompactorTest, LongDeferredMailKeepsDiskWithinTwiceTheLiveData) {
  std::map<uint64_t, std::string> deferred;  // id -> body
  const int64_t later_ms = WallNowMs() + 86'400'000;
  for (int round = 0; round < 40; ++round) {
    std::vector<uint64_t> ids = Accept(64);
    for (size_t i = 0; i < ids.size(); ++i) {
      if (i % 10 == 3) {
        Defer(ids[i], 0, later_ms);
        deferred[ids[i]] = Body(ids[i]);
      } else {
        Deliver(ids[i], 0);
        Done(ids[i]);
      }
    }
    Sync();
    ASSERT_TRUE(Compact().ok());
    Sweep();
  }
  // The runner keeps sweeping while idle; two more rounds settle the chains
  // of segments the last one unpinned.
  for (int settle = 0; settle < 2; ++settle) {
    ASSERT_TRUE(Compact().ok());
    Sweep();
  }
  const uint64_t live = LiveBytes();
  ASSERT_GT(live, 4 * kSegmentBytesMin);
  const CompactorStats& stats = compactor_->stats();
  EXPECT_LE(DiskBytes(), 2 * live) << "live " << live << " passes " << stats.passes << " chosen "
                                   << stats.segments_chosen << " moved " << stats.messages_moved
                                   << " abandoned " << stats.copies_abandoned;
  EXPECT_GT(compactor_->stats().messages_moved, 0u);
  std::printf("live %.1f MB, segment files %.1f MB on disk, %lu copies made\n", live / 1e6,
              DiskBytes() / 1e6, static_cast<unsigned long>(stats.messages_moved));
  // Every deferred message is intact where the index now points.
  ASSERT_EQ(queue_.index.message_count(), deferred.size());
  for (const auto& [id, body] : deferred) {
    const MessageEntry* entry = queue_.index.Find(id);
    ASSERT_NE(entry, nullptr);
    EXPECT_EQ(ReadBody(*entry), body);
    EXPECT_EQ(entry->recipients[0].next_attempt_ms, later_ms);
  }
  // And a restart finds the same queue, without damage.
  CloseSpool();
  QueueIndex replayed;
  auto result = ReplayShard(Directory(), 0, &replayed);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_TRUE(result->clean()) << result->damaged_regions << " damaged, first: "
                               << (result->damage.empty() ? "" : result->damage[0].kind)
                               << "; quarantined " << result->quarantined_ids.size();
  EXPECT_EQ(replayed.message_count(), deferred.size());
  for (const auto& [id, body] : deferred) {
    const MessageEntry* entry = replayed.Find(id);
    ASSERT_NE(entry, nullptr);
    EXPECT_EQ(entry->recipients[0].state, RecipientState::kPending);
    EXPECT_GE(entry->recipients[0].next_attempt_ms, later_ms);
    EXPECT_EQ(ReadBody(*entry), body);
  }
}

TEST_F(CompactorTest, WithoutCompactionTheSameLoadHoldsFarMore) {
  // The control for the test above: the sweep alone cannot free segments
  // that each keep a few deferred messages.
  for (int round = 0; round < 12; ++round) {
    std::vector<uint64_t> ids = Accept(64);
    for (size_t i = 0; i < ids.size(); ++i) {
      if (i % 10 == 3) {
        Defer(ids[i], 0, WallNowMs() + 86'400'000);
      } else {
        Deliver(ids[i], 0);
        Done(ids[i]);
      }
    }
    Sync();
    Sweep();
  }
  std::printf("without compaction: live %.1f MB, segment files %.1f MB on disk\n",
              LiveBytes() / 1e6, DiskBytes() / 1e6);
  EXPECT_GT(DiskBytes(), 3 * LiveBytes());
}

TEST_F(CompactorTest, CopiesCarryEveryRecipientStateAndFailureText) {
  std::vector<uint64_t> ids = Accept(20, 3);
  for (uint64_t id : ids) {
    Deliver(id, 0);
    Fail(id, 1, "550 5.1.1 <r1@example.com>: no such user " + std::to_string(id));
    Defer(id, 2, WallNowMs() + 3'600'000);
  }
  // Fill the rest of the segment with delivered mail so it is mostly dead.
  for (int round = 0; round < 2; ++round) {
    for (uint64_t id : Accept(64)) {
      Deliver(id, 0);
      Done(id);
    }
  }
  Sync();
  const uint32_t first = queue_.index.Find(ids[0])->begin.segment;
  std::map<uint64_t, int64_t> retry_at;
  for (uint64_t id : ids) retry_at[id] = queue_.index.Find(id)->recipients[2].next_attempt_ms;
  ASSERT_TRUE(Compact().ok());
  EXPECT_EQ(compactor_->stats().messages_moved, ids.size());
  Sweep();
  EXPECT_FALSE(std::filesystem::exists(Directory() + "/" + SegmentFileName(first)));
  auto check = [&](const QueueIndex& index) {
    for (uint64_t id : ids) {
      const MessageEntry* entry = index.Find(id);
      ASSERT_NE(entry, nullptr);
      EXPECT_NE(entry->begin.segment, first);
      EXPECT_EQ(entry->recipients[0].state, RecipientState::kDelivered);
      EXPECT_EQ(entry->recipients[1].state, RecipientState::kFailed);
      EXPECT_EQ(entry->recipients[2].state, RecipientState::kPending);
      EXPECT_GE(entry->recipients[2].next_attempt_ms, retry_at[id]);
      EXPECT_EQ(FailureText(index, id, 1),
                "mx9.example.net 550 5.1.1 <r1@example.com>: no such user " + std::to_string(id));
      EXPECT_EQ(ReadBody(*entry), Body(id));
    }
  };
  check(queue_.index);
  CloseSpool();
  QueueIndex replayed;
  auto result = ReplayShard(Directory(), 0, &replayed);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_TRUE(result->clean());
  check(replayed);
}

TEST_F(CompactorTest, BusyMessagesStayWhereTheyAre) {
  std::vector<uint64_t> ids = Accept(10);
  for (uint64_t id : ids) Defer(id, 0, WallNowMs() + 3'600'000);
  for (int round = 0; round < 2; ++round) {
    for (uint64_t id : Accept(64)) {
      Deliver(id, 0);
      Done(id);
    }
  }
  Sync();
  busy_.insert(ids[4]);  // A delivery holds its locations.
  const RecordSpan before = queue_.index.Find(ids[4])->begin;
  ASSERT_TRUE(Compact().ok());
  EXPECT_EQ(compactor_->stats().messages_moved, ids.size() - 1);
  const RecordSpan after = queue_.index.Find(ids[4])->begin;
  EXPECT_EQ(after.segment, before.segment);
  EXPECT_EQ(after.offset, before.offset);
  Sweep();
  EXPECT_TRUE(std::filesystem::exists(Directory() + "/" + SegmentFileName(before.segment)));
  // Once it is free again, the next pass moves it and the segment can go.
  busy_.clear();
  ASSERT_TRUE(Compact().ok());
  Sweep();
  EXPECT_FALSE(std::filesystem::exists(Directory() + "/" + SegmentFileName(before.segment)));
  EXPECT_EQ(ReadBody(*queue_.index.Find(ids[4])), Body(ids[4]));
}

TEST_F(CompactorTest, MessagesAreMovingOnlyWhileTheirCopyIsWritten) {
  // The runner holds back dispatch of a Moving message: its locations are
  // about to change. The mark must be up during the copy and gone after.
  std::vector<uint64_t> ids = Accept(10);
  for (uint64_t id : ids) Defer(id, 0, WallNowMs() + 3'600'000);
  for (int round = 0; round < 2; ++round) {
    for (uint64_t id : Accept(64)) {
      Deliver(id, 0);
      Done(id);
    }
  }
  Sync();
  bool done = false;
  io::Spawn(*reactor_, tasks_, [](Compactor* compactor, uint32_t keep, bool* done) -> io::Task<void> {
    (void)co_await compactor->RunPass(keep);
    *done = true;
  }(compactor_.get(), queue_.spool->current_segment(), &done));
  auto any_moving = [&] {
    for (uint64_t id : ids) {
      if (compactor_->Moving(id)) return true;
    }
    return false;
  };
  ASSERT_TRUE(io::RunUntil(*reactor_, [&] { return any_moving() || done; }));
  EXPECT_TRUE(any_moving()) << "the pass ended without marking a message";
  ASSERT_TRUE(io::RunUntil(*reactor_, [&] { return done; }));
  EXPECT_FALSE(any_moving());
  EXPECT_EQ(compactor_->stats().messages_moved, ids.size());
}

TEST_F(CompactorTest, CopyLeftByAFailedSyncNeverRevivesAFinishedMessage) {
  const uint64_t moved = Accept(1)[0];
  Defer(moved, 0, WallNowMs() + 3'600'000);
  for (int round = 0; round < 2; ++round) {
    for (uint64_t id : Accept(64)) {
      Deliver(id, 0);
      Done(id);
    }
  }
  // Another message keeps the segment the copy will be written into alive.
  const uint64_t keeper = Accept(1)[0];
  Defer(keeper, 0, WallNowMs() + 3'600'000);
  Sync();
  const uint32_t copy_segment = queue_.spool->current_segment();
  storage_->fail_next_sync_ = true;  // The copy's group commit fails.
  EXPECT_FALSE(Compact().ok());
  EXPECT_EQ(compactor_->stats().messages_moved, 0u);
  EXPECT_GE(compactor_->stats().copies_abandoned, 1u);
  // The message finishes; its own segments go, and so would the segment
  // of its MessageDone once later mail moves the log on.
  Deliver(moved, 0);
  Done(moved);
  const uint32_t done_segment = queue_.spool->current_segment();
  for (int round = 0; round < 2; ++round) {
    for (uint64_t id : Accept(64)) {
      Deliver(id, 0);
      Done(id);
    }
  }
  Sync();
  ASSERT_GT(queue_.spool->current_segment(), done_segment);
  Sweep();
  Sweep();
  ASSERT_TRUE(std::filesystem::exists(Directory() + "/" + SegmentFileName(copy_segment)));
  CloseSpool();
  QueueIndex replayed;
  auto result = ReplayShard(Directory(), 0, &replayed);
  ASSERT_TRUE(result.ok()) << result.status();
  // The copy written before the failed sync is on disk, but the message's
  // MessageDone outlives it: it must not come back.
  EXPECT_EQ(replayed.Find(moved), nullptr);
  EXPECT_NE(replayed.Find(keeper), nullptr);
}

TEST_F(CompactorTest, CrashAfterTheCopyBeforeTheUnlinkReplaysEachMessageOnce) {
  std::vector<uint64_t> ids = Accept(30, 2);
  for (uint64_t id : ids) {
    Fail(id, 0, "550 5.7.1 rejected " + std::to_string(id));
    Defer(id, 1, WallNowMs() + 3'600'000);
  }
  for (int round = 0; round < 2; ++round) {
    for (uint64_t id : Accept(64)) {
      Deliver(id, 0);
      Done(id);
    }
  }
  Sync();
  const uint32_t old_segment = queue_.index.Find(ids[0])->begin.segment;
  ASSERT_TRUE(Compact().ok());
  // The crash: the copies are durable, the old segment was never unlinked.
  CloseSpool();
  ASSERT_TRUE(std::filesystem::exists(Directory() + "/" + SegmentFileName(old_segment)));
  QueueIndex replayed;
  auto result = ReplayShard(Directory(), 0, &replayed);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_TRUE(result->clean());
  EXPECT_EQ(result->copies_replayed, ids.size());
  EXPECT_EQ(replayed.message_count(), ids.size());
  for (uint64_t id : ids) {
    const MessageEntry* entry = replayed.Find(id);
    ASSERT_NE(entry, nullptr);
    EXPECT_NE(entry->begin.segment, old_segment);
    EXPECT_EQ(entry->recipients[0].state, RecipientState::kFailed);
    EXPECT_EQ(FailureText(replayed, id, 0), "mx9.example.net 550 5.7.1 rejected " + std::to_string(id));
    EXPECT_EQ(ReadBody(*entry), Body(id));
  }
  // Recovery's own sweep now frees the old segment, and a second replay
  // agrees.
  ASSERT_TRUE(RemoveDeadSegments(Directory(), result->dead_segments, &replayed).ok());
  EXPECT_FALSE(std::filesystem::exists(Directory() + "/" + SegmentFileName(old_segment)));
  QueueIndex again;
  auto second = ReplayShard(Directory(), 0, &again);
  ASSERT_TRUE(second.ok());
  EXPECT_TRUE(second->clean());
  EXPECT_EQ(again.message_count(), ids.size());
}

}  // namespace
}  // namespace ringmta::queue
