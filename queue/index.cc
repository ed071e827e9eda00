// QueueIndex bookkeeping: messages by id, per-segment live counts, and the
// MessageDone pins that keep a segment until the message's other segments go.
#include "queue/index.h"

#include <algorithm>
#include <utility>

#include "mta/base/check.h"
#include "mta/base/shard_stats.h"

namespace ringmta::queue {
namespace {

// Inserts into an ascending, duplicate-free list; true if it was new. Records
// are appended in log order, so the common case is a check of back().
template <typename List>
bool InsertSorted(List& list, uint32_t value) {
  if (list.empty() || list.back() < value) {
    list.push_back(value);
    return true;
  }
  auto it = std::lower_bound(list.begin(), list.end(), value);
  if (it != list.end() && *it == value) return false;
  list.insert(it, value);
  return true;
}

}  // namespace

MessageEntry& QueueIndex::AddMessage(MessageEntry entry) {
  CHECK(entry.id != 0);
  const uint64_t id = entry.id;
  absl::InlinedVector<uint32_t, 2> listed = std::move(entry.segments);
  entry.segments.clear();
  auto [it, inserted] = messages_.try_emplace(id, std::move(entry));
  CHECK(inserted);  // Ids are unique within a shard; the caller checks replayed ones.
  MessageEntry& added = it->second;
  for (uint32_t segment : listed) AddSegmentRef(added, segment);
  if (added.begin.segment != 0) AddSegmentRef(added, added.begin.segment);
  for (size_t i = 0; i < added.chunks.size(); ++i) AddSegmentRef(added, added.chunks[i].segment);
  if (added.commit_segment != 0) AddSegmentRef(added, added.commit_segment);
  // A message with no record anywhere could never be found again on disk.
  CHECK(!added.segments.empty());
  CountLiveBytes(added, true);
  queued_bytes_ += added.body_bytes;
  if (added.quarantined) ++quarantined_;
  CurrentShardStats().SetQueueSize(messages_.size(), queued_bytes_);
  return added;
}

MessageEntry* QueueIndex::Find(uint64_t id) {
  auto it = messages_.find(id);
  return it == messages_.end() ? nullptr : &it->second;
}

const MessageEntry* QueueIndex::Find(uint64_t id) const {
  auto it = messages_.find(id);
  return it == messages_.end() ? nullptr : &it->second;
}

void QueueIndex::AddSegmentRef(MessageEntry& entry, uint32_t segment) {
  CHECK(segment != 0);
  if (InsertSorted(entry.segments, segment)) ++segments_[segment].live_messages;
}

MessageEntry* QueueIndex::Outcome(uint64_t id, uint32_t recipient, uint32_t segment) {
  MessageEntry* entry = Find(id);
  if (entry == nullptr) return nullptr;
  CHECK(recipient < entry->recipients.size());
  AddSegmentRef(*entry, segment);
  return entry;
}

void QueueIndex::CountLiveBytes(const MessageEntry& entry, bool add) {
  auto count = [&](const RecordSpan& span) {
    SegmentState& state = segments_[span.segment];
    const uint64_t bytes = span.end_offset - span.offset;
    if (add) {
      state.live_bytes += bytes;
    } else {
      CHECK(state.live_bytes >= bytes);
      state.live_bytes -= bytes;
    }
  };
  if (entry.begin.segment != 0) count(entry.begin);
  for (size_t i = 0; i < entry.chunks.size(); ++i) count(entry.chunks[i]);
}

void QueueIndex::ForgetFailure(uint64_t id, uint32_t recipient) {
  auto it = failed_.find(id);
  if (it == failed_.end()) return;
  FailedRecords& records = it->second;
  for (size_t i = 0; i < records.size(); ++i) {
    if (records[i].recipient == recipient) {
      records.erase(records.begin() + static_cast<std::ptrdiff_t>(i));
      break;
    }
  }
  if (records.empty()) failed_.erase(it);
}

bool QueueIndex::MarkDelivered(uint64_t id, uint32_t recipient, uint32_t segment) {
  MessageEntry* entry = Outcome(id, recipient, segment);
  if (entry == nullptr) return false;
  entry->recipients[recipient].state = RecipientState::kDelivered;
  ForgetFailure(id, recipient);
  return true;
}

bool QueueIndex::MarkFailed(uint64_t id, uint32_t recipient, uint32_t segment) {
  MessageEntry* entry = Outcome(id, recipient, segment);
  if (entry == nullptr) return false;
  entry->recipients[recipient].state = RecipientState::kFailed;
  ForgetFailure(id, recipient);
  return true;
}

bool QueueIndex::MarkFailed(uint64_t id, uint32_t recipient, RecordSpan record) {
  if (!MarkFailed(id, recipient, record.segment)) return false;
  failed_[id].push_back(FailedRecord{recipient, record});
  return true;
}

const FailedRecords* QueueIndex::FailedRecordsOf(uint64_t id) const {
  auto it = failed_.find(id);
  return it == failed_.end() ? nullptr : &it->second;
}

bool QueueIndex::MarkDeferred(uint64_t id, uint32_t recipient, uint32_t segment,
                              int64_t next_attempt_ms, uint32_t attempts) {
  MessageEntry* entry = Outcome(id, recipient, segment);
  if (entry == nullptr) return false;
  RecipientEntry& rcpt = entry->recipients[recipient];
  // A recipient's state is its last outcome record (queue_format §4.6).
  rcpt.state = RecipientState::kPending;
  rcpt.next_attempt_ms = next_attempt_ms;
  rcpt.attempts = attempts;
  ForgetFailure(id, recipient);
  return true;
}

bool QueueIndex::Quarantine(uint64_t id) {
  MessageEntry* entry = Find(id);
  if (entry == nullptr) return false;
  if (!entry->quarantined) ++quarantined_;
  entry->quarantined = true;
  return true;
}

bool QueueIndex::NoteRecord(uint64_t id, uint32_t segment) {
  MessageEntry* entry = Find(id);
  if (entry == nullptr) return false;
  AddSegmentRef(*entry, segment);
  return true;
}

bool QueueIndex::RemoveMessage(uint64_t id, uint32_t done_segment) {
  CHECK(done_segment != 0);
  auto it = messages_.find(id);
  if (it == messages_.end()) return false;
  MessageEntry& entry = it->second;
  CountLiveBytes(entry, false);
  for (uint32_t segment : entry.segments) {
    auto state = segments_.find(segment);
    CHECK(state != segments_.end() && state->second.live_messages > 0);
    --state->second.live_messages;
  }
  // Inserting into a btree moves its nodes: take this reference only now.
  SegmentState& done = segments_[done_segment];
  for (uint32_t segment : entry.segments) {
    if (segment != done_segment) InsertSorted(done.needs_gone, segment);
  }
  CHECK(queued_bytes_ >= entry.body_bytes);
  queued_bytes_ -= entry.body_bytes;
  if (entry.quarantined) --quarantined_;
  messages_.erase(it);
  failed_.erase(id);
  CurrentShardStats().SetQueueSize(messages_.size(), queued_bytes_);
  return true;
}

void QueueIndex::ReplaceMessage(MessageEntry replacement, FailedRecords failed,
                                uint32_t moved_segment) {
  CHECK(moved_segment != 0);
  const uint64_t id = replacement.id;
  auto it = messages_.find(id);
  CHECK(it != messages_.end());
  MessageEntry& entry = it->second;
  CountLiveBytes(entry, false);
  for (uint32_t segment : entry.segments) {
    auto state = segments_.find(segment);
    CHECK(state != segments_.end() && state->second.live_messages > 0);
    --state->second.live_messages;
  }
  // Inserting into a btree moves its nodes: take this reference only now,
  // and drop it before AddSegmentRef inserts again.
  {
    SegmentState& moved = segments_[moved_segment];
    for (uint32_t segment : entry.segments) {
      if (segment != moved_segment) InsertSorted(moved.needs_gone, segment);
    }
  }
  CHECK(queued_bytes_ >= entry.body_bytes);
  queued_bytes_ -= entry.body_bytes;
  if (entry.quarantined) --quarantined_;
  absl::InlinedVector<uint32_t, 2> listed = std::move(replacement.segments);
  replacement.segments.clear();
  entry = std::move(replacement);
  entry.segments.clear();
  for (uint32_t segment : listed) AddSegmentRef(entry, segment);
  if (entry.begin.segment != 0) AddSegmentRef(entry, entry.begin.segment);
  for (size_t i = 0; i < entry.chunks.size(); ++i) AddSegmentRef(entry, entry.chunks[i].segment);
  if (entry.commit_segment != 0) AddSegmentRef(entry, entry.commit_segment);
  AddSegmentRef(entry, moved_segment);
  for (const FailedRecord& record : failed) AddSegmentRef(entry, record.span.segment);
  CountLiveBytes(entry, true);
  queued_bytes_ += entry.body_bytes;
  if (entry.quarantined) ++quarantined_;
  failed_.erase(id);
  if (!failed.empty()) failed_[id] = std::move(failed);
}

void QueueIndex::TrackSegment(uint32_t segment) {
  CHECK(segment != 0);
  segments_.try_emplace(segment);
}

bool QueueIndex::IsDead(uint32_t segment, const SegmentState& state) const {
  if (state.live_messages != 0) return false;
  for (uint32_t other : state.needs_gone) {
    if (other != segment && segments_.contains(other)) return false;
  }
  return true;
}

std::vector<uint32_t> QueueIndex::DeadSegments(uint32_t keep_from) const {
  std::vector<uint32_t> dead;
  for (auto it = segments_.begin(); it != segments_.end() && it->first < keep_from; ++it) {
    if (IsDead(it->first, it->second)) dead.push_back(it->first);
  }
  return dead;
}

void QueueIndex::ForgetSegment(uint32_t segment) {
  auto it = segments_.find(segment);
  CHECK(it != segments_.end());
  CHECK(IsDead(segment, it->second));
  segments_.erase(it);
}

uint32_t QueueIndex::SegmentLiveMessages(uint32_t segment) const {
  auto it = segments_.find(segment);
  return it == segments_.end() ? 0 : it->second.live_messages;
}

uint64_t QueueIndex::SegmentLiveBytes(uint32_t segment) const {
  auto it = segments_.find(segment);
  return it == segments_.end() ? 0 : it->second.live_bytes;
}

}  // namespace ringmta::queue
