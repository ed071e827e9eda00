// Recovery over real segment files: a clean replay, the torn tail cut on
// disk, one named test per corruption kind of queue_format §3, quarantine,
// outcomes, abandoned transfers and which segments may be unlinked.
#include "queue/recovery.h"

#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "queue/coding.h"
#include "queue/log_format.h"
#include "queue/log_test_util.h"
#include "queue/recovery_test_util.h"

namespace ringmta::queue {
namespace {

using testing::Payload;
using testing::SpoolFileWriter;
using testing::TestBegin;
using testing::TestOutcome;
using testing::WriteMessage;

class RecoveryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = std::string(getenv("TEST_TMPDIR") ? getenv("TEST_TMPDIR") : "/tmp") + "/" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(root_);
    dir_ = ShardDirectory(root_, 0);
  }
  void TearDown() override { std::filesystem::remove_all(root_); }

  std::string SegmentPath(uint32_t segment) const { return dir_ + "/" + SegmentFileName(segment); }

  RecoveryResult Recover(QueueIndex* index) {
    absl::StatusOr<RecoveryResult> result = RecoverShard(dir_, 0, index);
    EXPECT_TRUE(result.ok()) << result.status();
    return result.ok() ? *std::move(result) : RecoveryResult();
  }

  // Overwrites bytes of a segment file in place.
  void Poke(uint32_t segment, uint64_t offset, std::string_view bytes) {
    int fd = open(SegmentPath(segment).c_str(), O_WRONLY);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(pwrite(fd, bytes.data(), bytes.size(), static_cast<off_t>(offset)),
              static_cast<ssize_t>(bytes.size()));
    close(fd);
  }
  std::string Peek(uint32_t segment, uint64_t offset, size_t bytes) {
    std::string out(bytes, '\0');
    int fd = open(SegmentPath(segment).c_str(), O_RDONLY);
    EXPECT_EQ(pread(fd, out.data(), bytes, static_cast<off_t>(offset)),
              static_cast<ssize_t>(bytes));
    close(fd);
    return out;
  }
  uint64_t FileBytes(uint32_t segment) { return std::filesystem::file_size(SegmentPath(segment)); }

  // A tear after the log: the file holds more than the log, then ends.
  void CutFile(uint32_t segment, uint64_t bytes) {
    ASSERT_EQ(truncate(SegmentPath(segment).c_str(), static_cast<off_t>(bytes)), 0);
  }

  std::string root_;
  std::string dir_;
};

bool HasDamage(const RecoveryResult& result, std::string_view kind) {
  for (const ReplayDamage& damage : result.damage) {
    if (damage.kind.find(kind) != std::string::npos) return true;
  }
  return false;
}

TEST_F(RecoveryTest, EmptyDirectoryReplaysToNothing) {
  QueueIndex index;
  RecoveryResult missing = Recover(&index);  // The directory does not even exist.
  EXPECT_EQ(missing.next_segment, 1u);
  EXPECT_EQ(missing.segments_scanned, 0u);
  EXPECT_FALSE(missing.tail.has_value());
  std::filesystem::create_directories(dir_);
  QueueIndex again;
  RecoveryResult empty = Recover(&again);
  EXPECT_EQ(empty.next_segment, 1u);
  EXPECT_TRUE(empty.clean());
  EXPECT_EQ(again.message_count(), 0u);
}

TEST_F(RecoveryTest, CleanReplayOfManyMessagesAcrossSegments) {
  std::vector<testing::WrittenMessage> written;
  {
    SpoolFileWriter out(dir_, 0);
    for (uint64_t id = 1; id <= 400; ++id) {
      // 0 .. 150 KB bodies: empty, one chunk and several chunks.
      written.push_back(WriteMessage(out, TestBegin(id, 1 + id % 3), Payload(id * 397 % 150000, id)));
    }
  }
  QueueIndex index;
  RecoveryResult result = Recover(&index);
  EXPECT_TRUE(result.clean());
  EXPECT_GE(result.segments_scanned, 4u);
  EXPECT_EQ(result.next_segment, result.segments_scanned + 1);
  EXPECT_EQ(result.messages, 400u);
  EXPECT_EQ(result.abandoned, 0u);
  ASSERT_TRUE(result.tail.has_value());
  EXPECT_FALSE(result.tail->torn);
  EXPECT_EQ(result.highest_message_id, 400u);
  uint64_t bytes = 0;
  for (uint64_t id = 1; id <= 400; ++id) {
    const MessageEntry* entry = index.Find(id);
    ASSERT_NE(entry, nullptr) << id;
    EXPECT_EQ(entry->body_bytes, id * 397 % 150000);
    EXPECT_EQ(entry->recipients.size(), 1 + id % 3);
    EXPECT_EQ(entry->sender, TestBegin(id).sender);
    EXPECT_FALSE(entry->quarantined);
    EXPECT_EQ(entry->begin.offset, written[id - 1].begin.offset);
    ASSERT_EQ(entry->chunks.size(), written[id - 1].chunks.size());
    for (size_t i = 0; i < entry->chunks.size(); ++i) {
      EXPECT_EQ(entry->chunks[i].segment, written[id - 1].chunks[i].segment);
      EXPECT_EQ(entry->chunks[i].end_offset, written[id - 1].chunks[i].end_offset);
    }
    bytes += entry->body_bytes;
  }
  EXPECT_EQ(index.queued_bytes(), bytes);
  EXPECT_TRUE(result.dead_segments.empty());
}

TEST_F(RecoveryTest, ZeroFilledPreallocatedTailIsACleanEnd) {
  {
    SpoolFileWriter out(dir_, 0);
    WriteMessage(out, TestBegin(1), "hello");
  }
  EXPECT_EQ(FileBytes(1), kSegmentBytesMin);
  QueueIndex index;
  RecoveryResult result = Recover(&index);
  EXPECT_TRUE(result.clean());
  ASSERT_TRUE(result.tail.has_value());
  EXPECT_FALSE(result.tail->torn);
  EXPECT_EQ(result.tail->problem, LogProblem::kZeroType);
  // The zeros are cut too: the file is never appended to again.
  EXPECT_TRUE(result.truncated);
  EXPECT_EQ(FileBytes(1), result.tail->end_offset);
  EXPECT_EQ(index.message_count(), 1u);
}

TEST_F(RecoveryTest, TornTailIsTruncatedOnDiskAndTheNextReplayIsClean) {
  uint64_t log_end = 0;
  {
    SpoolFileWriter out(dir_, 0);
    for (uint64_t id = 1; id <= 5; ++id) WriteMessage(out, TestBegin(id), Payload(3000, id));
    out.Flush();
    log_end = out.offset();
  }
  // A crash in the middle of writing message 6: half a record reached disk.
  std::string torn = testing::WriteImage({EncodeMessageBegin(TestBegin(6))}, nullptr, 1);
  Poke(1, log_end, std::string_view(torn).substr(0, torn.size() / 2));
  QueueIndex index;
  RecoveryResult result = Recover(&index);
  ASSERT_TRUE(result.tail.has_value());
  EXPECT_TRUE(result.tail->torn);
  EXPECT_EQ(result.tail->end_offset, log_end);
  EXPECT_TRUE(result.truncated);
  EXPECT_EQ(result.damaged_regions, 0u);  // A torn tail is not damage.
  EXPECT_EQ(FileBytes(1), log_end);
  EXPECT_EQ(index.message_count(), 5u);

  QueueIndex again;
  RecoveryResult second = Recover(&again);
  EXPECT_TRUE(second.clean());
  EXPECT_FALSE(second.tail->torn);
  EXPECT_FALSE(second.truncated);
  EXPECT_EQ(again.message_count(), 5u);
}

TEST_F(RecoveryTest, TruncatedHeaderAtTheEndIsATornTail) {
  uint64_t log_end = 0;
  {
    SpoolFileWriter out(dir_, 0);
    WriteMessage(out, TestBegin(1), "body");
    out.Flush();
    log_end = out.offset();
  }
  Poke(1, log_end, "\x12\x34\x56\x78\x10");  // 5 bytes of a header, then the file ends.
  CutFile(1, log_end + 5);
  QueueIndex index;
  RecoveryResult result = Recover(&index);
  ASSERT_TRUE(result.tail.has_value());
  EXPECT_EQ(result.tail->problem, LogProblem::kTruncatedHeader);
  EXPECT_TRUE(result.tail->torn);
  EXPECT_EQ(FileBytes(1), log_end);
  EXPECT_EQ(index.message_count(), 1u);
}

// Three messages, each in its own 32 KiB block, so damage to one block
// loses one message's records; more blocks follow.
struct ThreeBlocks {
  std::vector<testing::WrittenMessage> messages;
};
ThreeBlocks WriteThreeBlocks(const std::string& dir) {
  ThreeBlocks layout;
  SpoolFileWriter out(dir, 0);
  for (uint64_t id = 1; id <= 3; ++id) {
    layout.messages.push_back(WriteMessage(out, TestBegin(id), Payload(30000, id)));
  }
  WriteMessage(out, TestBegin(4), Payload(100, 4));
  return layout;
}

TEST_F(RecoveryTest, ChecksumMismatchMidLogQuarantinesTheMessage) {
  ThreeBlocks layout = WriteThreeBlocks(dir_);
  const RecordSpan chunk = layout.messages[1].chunks[0];
  std::string byte = Peek(1, chunk.offset + 100, 1);
  byte[0] ^= 0x40;
  Poke(1, chunk.offset + 100, byte);
  QueueIndex index;
  RecoveryResult result = Recover(&index);
  EXPECT_TRUE(HasDamage(result, "checksum mismatch"));
  EXPECT_GE(result.bytes_dropped, chunk.end_offset - chunk.offset);
  // Message 2 lost a chunk: quarantined, never delivered; the others intact.
  EXPECT_EQ(result.quarantined_ids, std::vector<uint64_t>{2});
  for (uint64_t id : {1, 3, 4}) {
    ASSERT_NE(index.Find(id), nullptr);
    EXPECT_FALSE(index.Find(id)->quarantined);
  }
}

TEST_F(RecoveryTest, ImpossibleLengthIsDamage) {
  ThreeBlocks layout = WriteThreeBlocks(dir_);
  const RecordSpan begin = layout.messages[2].begin;
  std::string length(2, '\0');
  EncodeFixed16(length.data(), 40000);  // More than a block holds.
  Poke(1, begin.offset + kHeaderLengthOffset, length);
  QueueIndex index;
  RecoveryResult result = Recover(&index);
  EXPECT_TRUE(HasDamage(result, LogProblemName(LogProblem::kBadLength)));
  // Its MessageBegin is gone; its chunk and commit make it quarantined.
  EXPECT_EQ(result.quarantined_ids, std::vector<uint64_t>{3});
  EXPECT_EQ(index.Find(3)->begin.segment, 0u);
  EXPECT_NE(index.Find(4), nullptr);
}

TEST_F(RecoveryTest, StaleBytesFromAnEarlierUseOfTheFileAreNotRecords) {
  // Segment 2 is a recycled file that still holds an old segment 9's records.
  {
    SpoolFileWriter old(dir_ + "/old", 0, kSegmentBytesMin, 9);
    for (uint64_t id = 100; id < 110; ++id) WriteMessage(old, TestBegin(id), Payload(20000, id));
  }
  {
    SpoolFileWriter out(dir_, 0);
    WriteMessage(out, TestBegin(1), "first");
  }
  std::filesystem::copy_file(dir_ + "/old/" + SegmentFileName(9), SegmentPath(2));
  std::filesystem::remove_all(dir_ + "/old");
  // The new segment 2 overwrites the start with records of the same sizes,
  // so its log ends exactly where an intact old record begins.
  std::string body = Payload(20000, 200);
  BodyTally tally;
  tally.Add(body);
  std::string fresh = testing::WriteImage(
      {EncodeSegmentHeader({0, 2, 1000}), EncodeMessageBegin(TestBegin(200)),
       EncodeBodyChunk({200, 0, body}), EncodeMessageCommit(tally.Commit(200))},
      nullptr, 2);
  Poke(2, 0, fresh);
  QueueIndex index;
  RecoveryResult result = Recover(&index);
  ASSERT_TRUE(result.tail.has_value());
  EXPECT_EQ(result.tail->segment, 2u);
  EXPECT_EQ(result.tail->end_offset, fresh.size());
  EXPECT_TRUE(result.tail->torn);
  EXPECT_EQ(result.tail->problem, LogProblem::kStaleSegment);
  EXPECT_EQ(result.damaged_regions, 0u);
  EXPECT_EQ(index.message_count(), 2u);
  EXPECT_NE(index.Find(200), nullptr);
  for (uint64_t id = 100; id < 110; ++id) EXPECT_EQ(index.Find(id), nullptr);
  EXPECT_EQ(FileBytes(2), fresh.size());
}

TEST_F(RecoveryTest, MissingLastFragmentAtTheEndIsATornTail) {
  uint64_t log_end = 0;
  testing::WrittenMessage big;
  {
    SpoolFileWriter out(dir_, 0);
    WriteMessage(out, TestBegin(1), "small");
    out.Flush();
    log_end = out.offset();
    big = WriteMessage(out, TestBegin(2), Payload(kBodyChunkBytesMax, 2));
  }
  // The crash persisted the chunk's FIRST and MIDDLE fragments, not its LAST.
  const RecordSpan chunk = big.chunks[0];
  const uint64_t cut = (chunk.offset / kBlockBytes + 2) * kBlockBytes;
  ASSERT_LT(cut, chunk.end_offset);
  CutFile(1, cut);
  QueueIndex index;
  RecoveryResult result = Recover(&index);
  ASSERT_TRUE(result.tail.has_value());
  EXPECT_EQ(result.tail->problem, LogProblem::kMissingLastFragment);
  EXPECT_TRUE(result.tail->torn);
  EXPECT_EQ(result.tail->end_offset, chunk.offset);
  EXPECT_EQ(result.damaged_regions, 0u);
  // Message 2 never committed: an abandoned transfer, dropped silently.
  EXPECT_EQ(result.abandoned, 1u);
  EXPECT_EQ(index.Find(2), nullptr);
  EXPECT_NE(index.Find(1), nullptr);
  EXPECT_EQ(FileBytes(1), chunk.offset);
  EXPECT_GT(chunk.offset, log_end);  // The begin of message 2 survives the cut.
}

TEST_F(RecoveryTest, CorruptChunkQuarantinesOnlyItsMessage) {
  // Two transfers interleave; message 1's chunk has valid framing but
  // bytes that no longer match its commit's CRC (a bit flip before the CRC
  // was computed, or a bug): only message 1 may be quarantined.
  {
    SpoolFileWriter out(dir_, 0);
    std::string body1 = Payload(5000, 1), body2 = Payload(5000, 2);
    out.Append(EncodeMessageBegin(TestBegin(1)));
    out.Append(EncodeMessageBegin(TestBegin(2)));
    BodyTally tally1, tally2;
    tally1.Add(body1);
    tally2.Add(body2);
    std::string bad = body1;
    bad[10] ^= 1;
    out.Append(EncodeBodyChunk({1, 0, bad}));
    out.Append(EncodeBodyChunk({2, 0, body2}));
    out.Append(EncodeMessageCommit(tally1.Commit(1)));
    out.Append(EncodeMessageCommit(tally2.Commit(2)));
  }
  QueueIndex index;
  RecoveryResult result = Recover(&index);
  EXPECT_EQ(result.quarantined_ids, std::vector<uint64_t>{1});
  EXPECT_TRUE(HasDamage(result, "commit says"));
  ASSERT_NE(index.Find(2), nullptr);
  EXPECT_FALSE(index.Find(2)->quarantined);
  EXPECT_EQ(index.quarantined_count(), 1u);
}

TEST_F(RecoveryTest, UndecodableRecordQuarantinesTheMessageItNames) {
  {
    SpoolFileWriter out(dir_, 0);
    WriteMessage(out, TestBegin(1, 2), "body");
    WriteMessage(out, TestBegin(2), "body");
    // Physically valid, logically not: a delivery outcome of version 9.
    std::string outcome = EncodeRecipientDelivered({TestOutcome(1, 0, 2)});
    outcome[1] = 9;
    out.Append(outcome);
  }
  QueueIndex index;
  RecoveryResult result = Recover(&index);
  EXPECT_EQ(result.quarantined_ids, std::vector<uint64_t>{1});
  EXPECT_TRUE(HasDamage(result, "version 9"));
  EXPECT_EQ(result.damage[0].message_id, 1u);
  EXPECT_FALSE(index.Find(2)->quarantined);
}

TEST_F(RecoveryTest, OutcomesFoldIntoRecipientStates) {
  {
    SpoolFileWriter out(dir_, 0);
    WriteMessage(out, TestBegin(1, 3), Payload(2000, 1));
    WriteMessage(out, TestBegin(2), Payload(3000, 2));
    out.Append(EncodeRecipientDelivered({TestOutcome(1, 0, 2)}));
    out.Append(EncodeRecipientDeferred({TestOutcome(1, 1, 4), 1, 1'700'000'200'000}));
    out.Rotate();  // Later outcomes land in segment 2.
    out.Append(EncodeRecipientDeferred({TestOutcome(1, 1, 4), 2, 1'700'000'900'000}));
    out.Append(EncodeRecipientFailed({TestOutcome(1, 2, 5)}));
    out.Append(EncodeRecipientDelivered({TestOutcome(2, 0, 2)}));
    out.Append(EncodeMessageDone({2, 1'700'000'300'000, DoneReason::kAllFinal}));
  }
  QueueIndex index;
  RecoveryResult result = Recover(&index);
  EXPECT_TRUE(result.clean());
  EXPECT_EQ(index.message_count(), 1u);
  EXPECT_EQ(index.Find(2), nullptr);
  EXPECT_EQ(index.queued_bytes(), 2000u);
  const MessageEntry* entry = index.Find(1);
  ASSERT_NE(entry, nullptr);
  EXPECT_EQ(entry->recipients[0].state, RecipientState::kDelivered);
  EXPECT_EQ(entry->recipients[1].state, RecipientState::kPending);
  EXPECT_EQ(entry->recipients[1].attempts, 2u);
  EXPECT_EQ(entry->recipients[1].next_attempt_ms, 1'700'000'900'000);
  EXPECT_EQ(entry->recipients[2].state, RecipientState::kFailed);
  // Its outcomes in segment 2 keep that segment alive with the message.
  EXPECT_EQ(entry->segments, (absl::InlinedVector<uint32_t, 2>{1, 2}));
}

TEST_F(RecoveryTest, AbandonedTransferIsDroppedSilently) {
  {
    SpoolFileWriter out(dir_, 0);
    WriteMessage(out, TestBegin(1), "kept");
    out.Append(EncodeMessageBegin(TestBegin(2)));  // The client left before the commit.
    out.Append(EncodeBodyChunk({2, 0, "partial"}));
    out.Rotate();
    WriteMessage(out, TestBegin(3), "kept too");
  }
  QueueIndex index;
  RecoveryResult result = Recover(&index);
  EXPECT_TRUE(result.clean());
  EXPECT_EQ(result.abandoned, 1u);
  EXPECT_EQ(index.Find(2), nullptr);
  EXPECT_EQ(index.message_count(), 2u);
}

TEST_F(RecoveryTest, TransferOpenAcrossDamageIsQuarantinedNotDropped) {
  // Its commit may have been in the damaged bytes: the client may have had
  // its 250, so the message must not vanish silently.
  std::string body = Payload(60000, 9);
  RecordSpan chunk;
  {
    SpoolFileWriter out(dir_, 0);
    out.Append(EncodeMessageBegin(TestBegin(9)));
    BodyTally tally;
    tally.Add(body);
    chunk = out.Append(EncodeBodyChunk({9, 0, body}));
    WriteMessage(out, TestBegin(10), "after");
  }
  Poke(1, chunk.offset + 200, "garbage");  // Breaks the FIRST fragment's CRC.
  QueueIndex index;
  RecoveryResult result = Recover(&index);
  EXPECT_GE(result.damaged_regions, 1u);
  EXPECT_EQ(result.abandoned, 0u);
  EXPECT_EQ(result.quarantined_ids, std::vector<uint64_t>{9});
  EXPECT_FALSE(index.Find(10)->quarantined);
}

TEST_F(RecoveryTest, DeadSegmentsWaitForTheSegmentsTheirDoneRecordsCover) {
  {
    SpoolFileWriter out(dir_, 0);
    WriteMessage(out, TestBegin(1), "one");  // Segment 1.
    WriteMessage(out, TestBegin(2), "two");
    out.Rotate();                            // Segment 2.
    WriteMessage(out, TestBegin(3), "three");
    out.Append(EncodeRecipientDelivered({TestOutcome(1, 0, 2)}));
    out.Append(EncodeMessageDone({1, 1, DoneReason::kAllFinal}));
    out.Rotate();                            // Segment 3.
    out.Append(EncodeMessageDone({2, 1, DoneReason::kAllFinal}));
    out.Append(EncodeMessageDone({3, 1, DoneReason::kExpired}));
    WriteMessage(out, TestBegin(4), "four");
  }
  QueueIndex index;
  RecoveryResult result = Recover(&index);
  EXPECT_TRUE(result.clean());
  EXPECT_EQ(index.message_count(), 1u);
  // Segment 2 holds only done messages, but message 1's MessageDone is there
  // and message 1 began in segment 1: segment 2 waits until 1 is gone.
  EXPECT_EQ(result.dead_segments, std::vector<uint32_t>{1});
  ASSERT_TRUE(RemoveDeadSegments(dir_, result.dead_segments, &index).ok());
  EXPECT_FALSE(std::filesystem::exists(SegmentPath(1)));
  EXPECT_EQ(index.DeadSegments(3), std::vector<uint32_t>{2});
  // Replayed without segment 1, message 1's MessageDone is harmless.
  QueueIndex again;
  RecoveryResult second = Recover(&again);
  EXPECT_TRUE(second.clean());
  EXPECT_EQ(again.message_count(), 1u);
  EXPECT_NE(again.Find(4), nullptr);
  EXPECT_EQ(second.dead_segments, std::vector<uint32_t>{2});
}

TEST_F(RecoveryTest, RecordsOfAFinishedMessageWithoutItsBeginAreNotDamage) {
  {
    SpoolFileWriter out(dir_, 0);
    out.Append(EncodeMessageBegin(TestBegin(1)));  // Segment 1.
    out.Rotate();                                  // Segment 2: chunk, commit.
    BodyTally tally;
    tally.Add("spanning");
    out.Append(EncodeBodyChunk({1, 0, "spanning"}));
    out.Append(EncodeMessageCommit(tally.Commit(1)));
    WriteMessage(out, TestBegin(2), "keeps segment 2");
    out.Rotate();                                  // Segment 3.
    out.Append(EncodeMessageDone({1, 1, DoneReason::kAllFinal}));
  }
  std::filesystem::remove(SegmentPath(1));  // Unlinked once message 1 was done.
  QueueIndex index;
  RecoveryResult result = Recover(&index);
  EXPECT_TRUE(result.clean());
  EXPECT_EQ(index.Find(1), nullptr);
  EXPECT_EQ(index.message_count(), 1u);
  // Segment 3's MessageDone still covers segment 2's records of message 1.
  EXPECT_TRUE(result.dead_segments.empty());
}

TEST_F(RecoveryTest, RecordsWithoutBeginAndWithoutDoneAreQuarantined) {
  {
    SpoolFileWriter out(dir_, 0);
    BodyTally tally;
    tally.Add("x");
    out.Append(EncodeBodyChunk({7, 0, "x"}));
    out.Append(EncodeMessageCommit(tally.Commit(7)));
  }
  QueueIndex index;
  RecoveryResult result = Recover(&index);
  EXPECT_EQ(result.quarantined_ids, std::vector<uint64_t>{7});
  EXPECT_TRUE(HasDamage(result, "MessageBegin is missing"));
}

TEST_F(RecoveryTest, SegmentHeaderOfAnotherShardIsDamage) {
  {
    SpoolFileWriter out(dir_, 5);  // Written as shard 5, found in shard-0.
    WriteMessage(out, TestBegin(1), "x");
  }
  QueueIndex index;
  RecoveryResult result = Recover(&index);
  EXPECT_TRUE(HasDamage(result, "names shard 5"));
  EXPECT_EQ(index.message_count(), 1u);  // Still replayed: never lose mail.
}

// Found by queue_recovery_fuzzer (tests/fuzz/queue_recovery_regressions/):
// a later segment whose first write tore holds no record; cutting only the
// last file made the next replay see a different, uncut end.
TEST_F(RecoveryTest, TornSegmentsWithoutRecordsAfterTheTailAreCutToo) {
  {
    SpoolFileWriter out(dir_, 0);
    WriteMessage(out, TestBegin(1), "kept");
    out.Rotate();
    out.Rotate();
  }
  Poke(2, 0, "\x97\xfe\x09\x00\x10\xb1");  // Half a header: a torn first write.
  Poke(3, 0, "\xff\xff\xff\xff");
  QueueIndex index;
  RecoveryResult result = Recover(&index);
  EXPECT_EQ(result.damaged_regions, 0u);
  EXPECT_EQ(result.tail->segment, 1u);
  EXPECT_EQ(result.truncations.size(), 3u);
  EXPECT_EQ(FileBytes(2), 0u);
  EXPECT_EQ(FileBytes(3), 0u);
  QueueIndex again;
  RecoveryResult second = Recover(&again);
  EXPECT_TRUE(second.clean());
  EXPECT_TRUE(second.truncations.empty());
  EXPECT_EQ(second.tail->segment, 1u);
  EXPECT_EQ(again.message_count(), 1u);
  EXPECT_EQ(second.next_segment, 4u);
}

TEST(FirstMessageIdTest, AboveHighestAndClockAndPrefixedByShard) {
  const uint64_t shard3 = uint64_t{3} << 56;
  EXPECT_EQ(FirstMessageId(3, 0, 1000), shard3 | 1000);
  EXPECT_EQ(FirstMessageId(3, shard3 | 5000, 1000), shard3 | 5001);
  // Another shard's id (or a test's small id) does not move this counter.
  EXPECT_EQ(FirstMessageId(0, shard3 | 5000, 1000), 1000u);
}

// Compacted copies (queue_format §4.8): a copy replaces the message only at
// its MessageMoved; a copy cut short by a crash is dropped.
TEST_F(RecoveryTest, CopyWithoutMessageMovedIsDroppedAndTheOriginalStays) {
  {
    SpoolFileWriter out(dir_, 0);
    WriteMessage(out, TestBegin(1, 2), "body");  // Segment 1.
    out.Append(EncodeRecipientDelivered({TestOutcome(1, 0, 2)}));
    out.Rotate();                                // Segment 2: the copy, cut short.
    WriteMessage(out, TestBegin(1, 2), "body");
    out.Append(EncodeRecipientDelivered({TestOutcome(1, 0, 2)}));
  }
  QueueIndex index;
  RecoveryResult result = Recover(&index);
  EXPECT_TRUE(result.clean());
  EXPECT_EQ(result.abandoned_copies, 1u);
  EXPECT_EQ(result.copies_replayed, 0u);
  ASSERT_NE(index.Find(1), nullptr);
  EXPECT_EQ(index.Find(1)->begin.segment, 1u);
  EXPECT_EQ(index.Find(1)->recipients[0].state, RecipientState::kDelivered);
  EXPECT_EQ(index.Find(1)->recipients[1].state, RecipientState::kPending);
}

TEST_F(RecoveryTest, CompleteCopyReplacesTheOriginalAndFreesItsSegment) {
  RecipientOutcome failed = TestOutcome(1, 1, 5);
  failed.response = "550 5.1.1 no such user";
  {
    SpoolFileWriter out(dir_, 0);
    WriteMessage(out, TestBegin(1, 2), "body");  // Segment 1.
    out.Append(EncodeRecipientFailed({failed}));
    out.Rotate();                                // Segment 2: the copy.
    WriteMessage(out, TestBegin(1, 2), "body");
    out.Append(EncodeRecipientFailed({failed}));
    out.Append(EncodeMessageMoved({1, 5}));
    WriteMessage(out, TestBegin(2), "keeps segment 2 live");
  }
  QueueIndex index;
  RecoveryResult result = Recover(&index);
  EXPECT_TRUE(result.clean());
  EXPECT_EQ(result.copies_replayed, 1u);
  const MessageEntry* entry = index.Find(1);
  ASSERT_NE(entry, nullptr);
  EXPECT_EQ(entry->begin.segment, 2u);
  EXPECT_EQ(entry->recipients[1].state, RecipientState::kFailed);
  ASSERT_NE(index.FailedRecordsOf(1), nullptr);
  EXPECT_EQ(index.FailedRecordsOf(1)->at(0).span.segment, 2u);
  // Nothing live is left in segment 1; segment 2 waits for it to go.
  EXPECT_EQ(result.dead_segments, std::vector<uint32_t>{1});
  ASSERT_TRUE(RemoveDeadSegments(dir_, result.dead_segments, &index).ok());
  QueueIndex again;
  RecoveryResult second = Recover(&again);
  EXPECT_TRUE(second.clean());
  ASSERT_NE(again.Find(1), nullptr);
  EXPECT_EQ(again.Find(1)->recipients[1].state, RecipientState::kFailed);
}

TEST_F(RecoveryTest, CopySupersedesOrphanedRecordsOfTheOriginal) {
  {
    SpoolFileWriter out(dir_, 0);
    WriteMessage(out, TestBegin(1), "body");  // Segment 1, unlinked below.
    out.Rotate();                             // Segment 2: a retry record.
    out.Append(EncodeRecipientDeferred({TestOutcome(1, 0, 4), 1, 1'700'000'200'000}));
    WriteMessage(out, TestBegin(2), "keeps segment 2 live");
    out.Rotate();                             // Segment 3: the copy.
    WriteMessage(out, TestBegin(1), "body");
    out.Append(EncodeRecipientDeferred({TestOutcome(1, 0, 4), 1, 1'700'000'200'000}));
    out.Append(EncodeMessageMoved({1, 5}));
  }
  std::filesystem::remove(SegmentPath(1));
  QueueIndex index;
  RecoveryResult result = Recover(&index);
  EXPECT_TRUE(result.clean()) << result.damage.size();
  EXPECT_TRUE(result.quarantined_ids.empty());
  ASSERT_NE(index.Find(1), nullptr);
  EXPECT_FALSE(index.Find(1)->quarantined);
  EXPECT_EQ(index.Find(1)->recipients[0].next_attempt_ms, 1'700'000'200'000);
  EXPECT_EQ(index.quarantined_count(), 0u);
}

TEST_F(RecoveryTest, LaterCopyWinsOverAnEarlierCopyWhoseRestIsGone) {
  {
    SpoolFileWriter out(dir_, 0);
    out.Append(EncodeMessageBegin(TestBegin(1)));  // Segment 1: first copy's begin.
    WriteMessage(out, TestBegin(2), "keeps segment 1 live");
    out.Rotate();                                  // Segment 3 after the rotate below.
    out.Rotate();
    WriteMessage(out, TestBegin(1), "body");       // The second copy, complete.
    out.Append(EncodeMessageMoved({1, 5}));
  }
  std::filesystem::remove(SegmentPath(2));  // The first copy's chunk and commit.
  QueueIndex index;
  RecoveryResult result = Recover(&index);
  EXPECT_TRUE(result.clean());
  ASSERT_NE(index.Find(1), nullptr);
  EXPECT_EQ(index.Find(1)->begin.segment, 3u);
  EXPECT_EQ(index.Find(1)->body_bytes, 4u);
}

TEST_F(RecoveryTest, CopyThatFailsItsBodyCheckQuarantines) {
  {
    SpoolFileWriter out(dir_, 0);
    WriteMessage(out, TestBegin(1), "body");
    out.Rotate();
    out.Append(EncodeMessageBegin(TestBegin(1)));
    out.Append(EncodeBodyChunk({1, 0, "bodY"}));
    BodyTally tally;
    tally.Add("body");
    out.Append(EncodeMessageCommit(tally.Commit(1)));
    out.Append(EncodeMessageMoved({1, 5}));
  }
  QueueIndex index;
  RecoveryResult result = Recover(&index);
  EXPECT_FALSE(result.clean());
  EXPECT_EQ(result.quarantined_ids, std::vector<uint64_t>{1});
}

}  // namespace
}  // namespace ringmta::queue
