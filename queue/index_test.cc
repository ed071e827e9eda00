// QueueIndex on its own: entries, outcomes, totals, and the segment
// liveness rules (live references and MessageDone pins).
#include "queue/index.h"

#include <vector>

#include "gtest/gtest.h"

namespace ringmta::queue {
namespace {

MessageEntry Entry(uint64_t id, uint32_t segment, uint64_t body_bytes, int recipients = 1) {
  MessageEntry entry;
  entry.id = id;
  entry.begin = {segment, 100, 200};
  if (body_bytes > 0) entry.chunks.push_back({segment, 200, static_cast<uint32_t>(300 + body_bytes)});
  entry.commit_segment = segment;
  entry.body_bytes = body_bytes;
  entry.sender = "s@example.org";
  for (int i = 0; i < recipients; ++i) entry.recipients.push_back({"r@example.com"});
  return entry;
}

TEST(QueueIndexTest, AddFindRemoveKeepTotals) {
  QueueIndex index;
  index.AddMessage(Entry(1, 1, 1000));
  index.AddMessage(Entry(2, 1, 500));
  EXPECT_EQ(index.message_count(), 2u);
  EXPECT_EQ(index.queued_bytes(), 1500u);
  ASSERT_NE(index.Find(1), nullptr);
  EXPECT_EQ(index.Find(1)->chunks.size(), 1u);
  EXPECT_EQ(index.Find(3), nullptr);
  EXPECT_TRUE(index.RemoveMessage(1, 1));
  EXPECT_FALSE(index.RemoveMessage(1, 1));
  EXPECT_EQ(index.message_count(), 1u);
  EXPECT_EQ(index.queued_bytes(), 500u);
}

TEST(QueueIndexTest, ChunkSpansKeepOrderBeyondTheInlineOne) {
  MessageEntry entry = Entry(1, 1, 0);
  for (uint32_t i = 0; i < 5; ++i) entry.chunks.push_back({1 + i / 2, i * 10, i * 10 + 5});
  QueueIndex index;
  const MessageEntry& added = index.AddMessage(std::move(entry));
  ASSERT_EQ(added.chunks.size(), 5u);
  for (uint32_t i = 0; i < 5; ++i) EXPECT_EQ(added.chunks[i].offset, i * 10);
  EXPECT_EQ(added.segments, (absl::InlinedVector<uint32_t, 2>{1, 2, 3}));
}

TEST(QueueIndexTest, OutcomesSetStateAndKeepTheirSegment) {
  QueueIndex index;
  index.AddMessage(Entry(1, 1, 10, 3));
  EXPECT_TRUE(index.MarkDelivered(1, 0, 2));
  EXPECT_TRUE(index.MarkDeferred(1, 1, 3, 5000, 2));
  EXPECT_TRUE(index.MarkFailed(1, 2, 3));
  EXPECT_FALSE(index.MarkDelivered(9, 0, 3));  // Deleted meanwhile: not a crash.
  const MessageEntry* entry = index.Find(1);
  EXPECT_EQ(entry->recipients[0].state, RecipientState::kDelivered);
  EXPECT_EQ(entry->recipients[1].state, RecipientState::kPending);
  EXPECT_EQ(entry->recipients[1].next_attempt_ms, 5000);
  EXPECT_EQ(entry->recipients[1].attempts, 2u);
  EXPECT_EQ(entry->recipients[2].state, RecipientState::kFailed);
  EXPECT_EQ(entry->segments, (absl::InlinedVector<uint32_t, 2>{1, 2, 3}));
  for (uint32_t segment : {1, 2, 3}) index.TrackSegment(segment);
  EXPECT_TRUE(index.DeadSegments(4).empty());
}

TEST(QueueIndexTest, QuarantineIsCountedOnce) {
  QueueIndex index;
  index.AddMessage(Entry(1, 1, 10));
  EXPECT_TRUE(index.Quarantine(1));
  EXPECT_TRUE(index.Quarantine(1));
  EXPECT_FALSE(index.Quarantine(2));
  EXPECT_EQ(index.quarantined_count(), 1u);
  index.RemoveMessage(1, 1);
  EXPECT_EQ(index.quarantined_count(), 0u);
}

TEST(QueueIndexTest, SegmentIsDeadOnlyWhenNoLiveMessageUsesIt) {
  QueueIndex index;
  for (uint32_t segment = 1; segment <= 4; ++segment) index.TrackSegment(segment);
  index.AddMessage(Entry(1, 1, 10));
  index.AddMessage(Entry(2, 2, 10));
  // Segment 3 has nothing committed (an abandoned transfer, say).
  EXPECT_EQ(index.DeadSegments(4), std::vector<uint32_t>{3});
  EXPECT_TRUE(index.DeadSegments(3).empty());  // Never at or after keep_from.
  index.RemoveMessage(1, 1);  // Done in its own segment: no pin.
  EXPECT_EQ(index.DeadSegments(4), (std::vector<uint32_t>{1, 3}));
  index.ForgetSegment(1);
  index.ForgetSegment(3);
  EXPECT_EQ(index.segment_count(), 2u);
  EXPECT_EQ(index.SegmentLiveMessages(2), 1u);
}

TEST(QueueIndexTest, MessageDonePinsItsSegmentUntilTheOthersAreGone) {
  QueueIndex index;
  for (uint32_t segment = 1; segment <= 5; ++segment) index.TrackSegment(segment);
  index.AddMessage(Entry(1, 1, 10));
  index.NoteRecord(1, 2);         // A deferral written in segment 2.
  index.AddMessage(Entry(2, 3, 10));
  index.RemoveMessage(1, 3);      // Its MessageDone went into segment 3.
  index.RemoveMessage(2, 4);
  // 3 pins on 1 and 2; 4 pins on 3; only 1 and 2 may go now.
  EXPECT_EQ(index.DeadSegments(5), (std::vector<uint32_t>{1, 2}));
  index.ForgetSegment(1);
  EXPECT_EQ(index.DeadSegments(5), std::vector<uint32_t>{2});
  index.ForgetSegment(2);
  EXPECT_EQ(index.DeadSegments(5), std::vector<uint32_t>{3});
  index.ForgetSegment(3);
  EXPECT_EQ(index.DeadSegments(5), std::vector<uint32_t>{4});
}

TEST(QueueIndexTest, ForEachVisitsEveryMessage) {
  QueueIndex index;
  for (uint64_t id = 1; id <= 100; ++id) index.AddMessage(Entry(id, 1, id));
  uint64_t ids = 0, bytes = 0;
  index.ForEach([&](const MessageEntry& entry) {
    ids += entry.id;
    bytes += entry.body_bytes;
  });
  EXPECT_EQ(ids, 5050u);
  EXPECT_EQ(bytes, index.queued_bytes());
}

TEST(QueueIndexDeathTest, DuplicateIdIsABug) {
  QueueIndex index;
  index.AddMessage(Entry(1, 1, 10));
  EXPECT_DEATH(index.AddMessage(Entry(1, 2, 10)), "inserted");
}

TEST(QueueIndexDeathTest, ForgettingALiveSegmentIsABug) {
  QueueIndex index;
  index.TrackSegment(1);
  index.AddMessage(Entry(1, 1, 10));
  EXPECT_DEATH(index.ForgetSegment(1), "IsDead");
}

TEST(QueueIndexTest, LiveBytesFollowEnvelopesAndBodies) {
  QueueIndex index;
  index.AddMessage(Entry(1, 1, 1000));  // begin 100 bytes, chunk 1100 bytes
  EXPECT_EQ(index.SegmentLiveBytes(1), 1200u);
  index.MarkDeferred(1, 0, 2, 5, 1);
  EXPECT_EQ(index.SegmentLiveBytes(2), 0u);  // Outcomes are not what compaction copies.
  index.RemoveMessage(1, 2);
  EXPECT_EQ(index.SegmentLiveBytes(1), 0u);
}

TEST(QueueIndexTest, FailedRecordsAreKeptUntilTheMessageGoes) {
  QueueIndex index;
  index.AddMessage(Entry(1, 1, 10, 2));
  EXPECT_EQ(index.FailedRecordsOf(1), nullptr);
  index.MarkFailed(1, 1, RecordSpan{2, 64, 128});
  ASSERT_NE(index.FailedRecordsOf(1), nullptr);
  EXPECT_EQ(index.FailedRecordsOf(1)->size(), 1u);
  EXPECT_EQ(index.FailedRecordsOf(1)->at(0).recipient, 1u);
  EXPECT_EQ(index.FailedRecordsOf(1)->at(0).span.offset, 64u);
  EXPECT_EQ(index.Find(1)->recipients[1].state, RecipientState::kFailed);
  index.RemoveMessage(1, 3);
  EXPECT_EQ(index.FailedRecordsOf(1), nullptr);
}

TEST(QueueIndexTest, ReplacedMessageFreesItsOldSegmentWhichPinsTheNewOne) {
  QueueIndex index;
  for (uint32_t segment = 1; segment <= 3; ++segment) index.TrackSegment(segment);
  index.AddMessage(Entry(1, 1, 10, 2));
  index.MarkFailed(1, 1, RecordSpan{1, 300, 400});
  MessageEntry copy = Entry(1, 3, 10, 2);
  copy.recipients[1].state = RecipientState::kFailed;
  FailedRecords failed;
  failed.push_back(FailedRecord{1, RecordSpan{3, 500, 600}});
  index.ReplaceMessage(std::move(copy), failed, 3);
  EXPECT_EQ(index.SegmentLiveMessages(1), 0u);
  EXPECT_EQ(index.SegmentLiveMessages(3), 1u);
  EXPECT_EQ(index.SegmentLiveBytes(1), 0u);
  EXPECT_EQ(index.queued_bytes(), 10u);
  EXPECT_EQ(index.FailedRecordsOf(1)->at(0).span.segment, 3u);
  EXPECT_EQ(index.DeadSegments(4), (std::vector<uint32_t>{1, 2}));
  // Once the message is done, segment 3 still waits for segment 1.
  index.RemoveMessage(1, 3);
  EXPECT_EQ(index.DeadSegments(4), (std::vector<uint32_t>{1, 2}));
  index.ForgetSegment(1);
  EXPECT_EQ(index.DeadSegments(4), (std::vector<uint32_t>{2, 3}));
}

}  // namespace
}  // namespace ringmta::queue
