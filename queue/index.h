// QueueIndex: the only per-message state one shard keeps in RAM (DESIGN §4):
// where each queued message's records are, its recipients' states and
// timers, queue totals for backpressure, and which segments may be unlinked.
// Not here: bodies or DSN details (read back from disk: the index keeps only
// where each failed recipient's record is), I/O, or scheduling.
#ifndef RINGMTA_QUEUE_INDEX_H_
#define RINGMTA_QUEUE_INDEX_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/inlined_vector.h"
#include "absl/container/node_hash_map.h"
#include "queue/queue_limits.h"

namespace ringmta::queue {

// A logical record's place in its shard's log, packed for RAM: segments are
// at most 1 GiB, so 32-bit offsets suffice (12 bytes instead of the spool's
// 24-byte RecordLocation, which matters once per body chunk of every message).
struct RecordSpan {
  uint32_t segment = 0;
  uint32_t offset = 0;
  uint32_t end_offset = 0;
};
static_assert(kSegmentBytesMax <= UINT32_MAX, "RecordSpan offsets are 32-bit");

// Body chunk locations in order: the first inline, so the common 1 KB
// message allocates nothing for them; the rest in a vector. (Not
// absl::InlinedVector: GCC 12 warns about its uninitialised inline storage
// whenever an entry with an empty body is moved.)
class ChunkSpans {
 public:
  void push_back(RecordSpan span) {
    if (size_++ == 0) {
      first_ = span;
    } else {
      rest_.push_back(span);
    }
  }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  const RecordSpan& operator[](size_t i) const { return i == 0 ? first_ : rest_[i - 1]; }

 private:
  RecordSpan first_;
  uint32_t size_ = 0;
  std::vector<RecordSpan> rest_;
};

// Where a failed recipient's RecipientFailed record lies: its bounce reads
// the remote host, status and diagnostic back from there, also after a
// restart or a compaction (the record moves with the message).
struct FailedRecord {
  uint32_t recipient = 0;
  RecordSpan span;
};
using FailedRecords = absl::InlinedVector<FailedRecord, 1>;

enum class RecipientState : uint8_t { kPending = 0, kDelivered = 1, kFailed = 2 };

// ORCPT (up to 500 bytes) and the other DSN envelope fields (ENVID, RET) are
// deliberately not kept: only bounces need them, bounces are rare, and the
// MessageBegin at `begin` holds them. NOTIFY is one byte that fits padding
// and decides whether a DSN is wanted at all, so it stays.
struct RecipientEntry {
  std::string address;
  int64_t next_attempt_ms = 0;  // 0: due now (never attempted).
  uint32_t attempts = 0;
  RecipientState state = RecipientState::kPending;
  uint8_t notify = 0;  // kNotify* bits of records.h.
};

struct MessageEntry {
  uint64_t id = 0;
  RecordSpan begin;
  ChunkSpans chunks;
  uint32_t commit_segment = 0;
  uint64_t body_bytes = 0;
  int64_t received_ms = 0;
  int64_t deadline_ms = 0;
  std::string sender;  // Reverse-path without <>; empty is the null sender.
  std::vector<RecipientEntry> recipients;
  // Never delivered or bounced automatically (queue_format §3.1). A message
  // quarantined before its MessageBegin could be read has no envelope:
  // begin.segment == 0 and no recipients.
  bool quarantined = false;
  // Every segment holding one of its records, ascending; kept by the index.
  absl::InlinedVector<uint32_t, 2> segments;
};

// One per shard, used only by that shard's thread: no locking.
class QueueIndex {
 public:
  QueueIndex() = default;
  QueueIndex(const QueueIndex&) = delete;
  QueueIndex& operator=(const QueueIndex&) = delete;

  // A message whose commit is durable (the live path) or replayed. CHECKs that
  // the id is new and non-zero. `segments` is derived here from begin,
  // chunks, commit_segment and any segments the caller already listed.
  MessageEntry& AddMessage(MessageEntry entry);
  // Null if unknown. Valid until the message is removed (nodes are stable).
  MessageEntry* Find(uint64_t id);
  const MessageEntry* Find(uint64_t id) const;

  // Outcomes, each naming the segment its record was written in, which then
  // stays as long as the message does (else a replay would forget the
  // outcome). False if the id is unknown (an operator may have deleted it
  // while a delivery was in flight); a recipient index out of range is a bug.
  bool MarkDelivered(uint64_t id, uint32_t recipient, uint32_t segment);
  bool MarkFailed(uint64_t id, uint32_t recipient, uint32_t segment);
  // The same, remembering where the RecipientFailed record is.
  bool MarkFailed(uint64_t id, uint32_t recipient, RecordSpan record);
  bool MarkDeferred(uint64_t id, uint32_t recipient, uint32_t segment, int64_t next_attempt_ms,
                    uint32_t attempts);
  bool Quarantine(uint64_t id);
  // Any other record of a live message written in `segment`.
  bool NoteRecord(uint64_t id, uint32_t segment);

  // MessageDone written in done_segment. The message's other segments then
  // pin done_segment until they are all forgotten: unlinking the MessageDone
  // first would let a replay of those segments bring the message back.
  // False if the id is unknown.
  bool RemoveMessage(uint64_t id, uint32_t done_segment);

  // A compacted copy of a live message became durable (its MessageMoved is
  // in moved_segment): `replacement` (same id) takes the entry's place with
  // its new locations, states and failed records. The old segments stop
  // counting the message but pin moved_segment until they are all
  // forgotten, for the reason MessageDone pins its segment: a replay of an
  // old record without the copy after it would revive a stale message.
  void ReplaceMessage(MessageEntry replacement, FailedRecords failed, uint32_t moved_segment);

  // Failed recipients' record locations; null when the message has none.
  const FailedRecords* FailedRecordsOf(uint64_t id) const;

  size_t message_count() const { return messages_.size(); }
  size_t quarantined_count() const { return quarantined_; }
  // Sum of body_bytes over every message, quarantined ones included (they
  // occupy the disk too): the high-water backpressure input.
  uint64_t queued_bytes() const { return queued_bytes_; }

  // f(const MessageEntry&), in no particular order; f must not add or remove.
  template <typename F>
  void ForEach(F&& f) const {
    for (const auto& [id, entry] : messages_) f(entry);
  }

  // Segments: the live path calls TrackSegment when it creates one (replay
  // for every file), so a segment with no committed message is still seen.
  void TrackSegment(uint32_t segment);
  // Tracked segments numbered below keep_from that no live message uses and
  // no MessageDone in them is still needed, ascending. Pass the current
  // segment, or the oldest segment holding a record of a transfer not yet
  // committed if that is older (its Begin must stay).
  std::vector<uint32_t> DeadSegments(uint32_t keep_from) const;
  // After the segment's unlink is durable (directory fsynced). CHECKs it is dead.
  void ForgetSegment(uint32_t segment);
  size_t segment_count() const { return segments_.size(); }
  // Live messages with a record in `segment` (0 if untracked): for tools.
  uint32_t SegmentLiveMessages(uint32_t segment) const;
  // Bytes of live messages' envelopes and bodies (MessageBegin and
  // BodyChunk records) in `segment`: what compacting it would copy.
  uint64_t SegmentLiveBytes(uint32_t segment) const;
  // f(segment, live_messages, live_bytes) for tracked segments below
  // keep_from, ascending (oldest first).
  template <typename F>
  void ForEachSegmentBelow(uint32_t keep_from, F&& f) const {
    for (auto it = segments_.begin(); it != segments_.end() && it->first < keep_from; ++it) {
      f(it->first, it->second.live_messages, it->second.live_bytes);
    }
  }

 private:
  struct SegmentState {
    uint32_t live_messages = 0;
    uint64_t live_bytes = 0;  // See SegmentLiveBytes.
    // Segments that must be forgotten before this one may go: the other
    // segments of done messages whose MessageDone is here. Short, deduped.
    absl::InlinedVector<uint32_t, 2> needs_gone;
  };

  MessageEntry* Outcome(uint64_t id, uint32_t recipient, uint32_t segment);
  void AddSegmentRef(MessageEntry& entry, uint32_t segment);
  bool IsDead(uint32_t segment, const SegmentState& state) const;
  // Adds (or with `add` false, subtracts) the entry's begin and chunk bytes
  // to their segments' live_bytes.
  void CountLiveBytes(const MessageEntry& entry, bool add);
  void ForgetFailure(uint64_t id, uint32_t recipient);

  absl::node_hash_map<uint64_t, MessageEntry> messages_;
  absl::btree_map<uint32_t, SegmentState> segments_;
  // Only messages with a failed recipient: failures are rare, so this costs
  // nothing per ordinary message.
  absl::flat_hash_map<uint64_t, FailedRecords> failed_;
  uint64_t queued_bytes_ = 0;
  size_t quarantined_ = 0;
};

}  // namespace ringmta::queue

#endif  // RINGMTA_QUEUE_INDEX_H_
