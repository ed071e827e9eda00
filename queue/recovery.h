// Crash recovery of one shard's spool: a pure replay of its segments, in
// order, folded into a QueueIndex (docs/queue_format.md §3, §4), then the torn
// tail truncated. Runs once at startup, before the shard serves, with plain
// blocking I/O. Not here: the live spool, unlinking, or scheduling.
//
// Replay rules beyond the spec's letter, each chosen so that no acknowledged
// message is ever dropped silently:
// - A MessageBegin without a MessageCommit by the end of the log is an
//   abandoned transfer and dropped, unless damage was found while it was
//   open (its commit may have been in the lost bytes): then it is quarantined.
// - Records of a message whose MessageBegin was never seen (its segment is
//   gone, or the record was lost) make a quarantined entry without envelope;
//   a later MessageDone removes it (the message was finished and its early
//   segments unlinked), so only what is left at the end is reported.
// - A MessageBegin for a message already known starts a compacted copy
//   (queue_format §4.8): it replaces the message at its MessageMoved, and is
//   dropped if the log ends first. A copy that fails its body check, or a
//   MessageMoved before the copy's commit, quarantines the message.
// - A second MessageBegin while the first transfer is still open, a chunk
//   after the commit, or an outcome naming a recipient the envelope lacks
//   quarantines the message.
//
// Message ids (proposal for the spool): id = shard << 56 | counter, the
// counter starting after restart at max(highest counter seen + 1, wall clock
// in microseconds): unique across shards, and across restarts even when every
// segment holding earlier ids was unlinked. FirstMessageId() computes it.
#ifndef RINGMTA_QUEUE_RECOVERY_H_
#define RINGMTA_QUEUE_RECOVERY_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "queue/index.h"
#include "queue/log_reader.h"
#include "queue/records.h"
#include "queue/segment_scan.h"

namespace ringmta::queue {

// Damage beyond this many regions is counted and logged in summary only: a
// file of garbage must not flood the log or RAM.
inline constexpr size_t kDamageReportsMax = 1000;

// Bytes that were dropped (physical) or a record that could not be used
// (logical): where, and why.
struct ReplayDamage {
  uint32_t segment = 0;
  uint64_t offset = 0;
  uint64_t bytes = 0;         // Dropped bytes; the record's size if logical.
  std::string kind;           // LogProblemName, or the decoder's reason.
  uint64_t message_id = 0;    // The message quarantined for it, 0 if none.
};

// Where a segment's log ends (queue_format §3).
struct ReplayTail {
  uint32_t segment = 0;
  uint64_t end_offset = 0;    // Truncation point.
  uint64_t file_bytes = 0;
  bool torn = false;          // Non-zero bytes after end_offset.
  std::optional<LogProblem> problem;
};

struct RecoveryResult {
  uint32_t segments_scanned = 0;
  uint64_t bytes_scanned = 0;
  uint64_t records_replayed = 0;
  uint64_t damaged_regions = 0;       // Physical and logical.
  uint64_t bytes_dropped = 0;
  std::vector<ReplayDamage> damage;   // The first kDamageReportsMax.
  std::vector<uint64_t> quarantined_ids;  // Ascending; all of them.
  uint64_t abandoned = 0;             // Uncommitted transfers dropped.
  uint64_t copies_replayed = 0;       // Compacted copies that replaced a message.
  uint64_t abandoned_copies = 0;      // Copies without MessageMoved, dropped.
  // The end of the log: the last segment holding a record (else the last
  // torn one); empty when every segment is empty or zeros.
  std::optional<ReplayTail> tail;
  // What RecoverShard cuts: the tail's segment when bytes follow its end,
  // and torn segments after it that hold no record (a cut-short first write).
  std::vector<ReplayTail> truncations;
  bool truncated = false;             // RecoverShard cut something.
  uint32_t next_segment = 1;          // Highest on disk + 1: never reused.
  // Segments nothing live needs, the highest file excepted (so that its
  // number stays the highest used until the spool creates next_segment).
  // Not unlinked here: see RemoveDeadSegments.
  std::vector<uint32_t> dead_segments;
  uint64_t highest_message_id = 0;
  uint64_t messages = 0;              // In the index afterwards.
  uint64_t queued_bytes = 0;
  int64_t elapsed_ms = 0;

  bool clean() const { return damaged_regions == 0 && quarantined_ids.empty(); }
};

// Sees every segment and record of a replay (the dump prints them).
class ReplayObserver {
 public:
  virtual ~ReplayObserver() = default;
  virtual void SegmentStart(const SegmentFile& file) {}
  // decoded is the DecodeRecord result (a BodyChunk views record.payload).
  virtual void Record(uint32_t segment, const LogRecord& record,
                      const absl::StatusOr<Record>& decoded) {}
  virtual void Damage(const ReplayDamage& damage) {}
  virtual void SegmentEnd(const SegmentFile& file, const SegmentScan& scan) {}
};

// Read-only: replays shard_directory's segments into `index` (which must be
// empty) and says what RecoverShard would truncate, without writing. A
// missing directory is an empty spool. Errors: I/O only (damage is data).
absl::StatusOr<RecoveryResult> ReplayShard(const std::string& shard_directory, int shard,
                                           QueueIndex* index, ReplayObserver* observer = nullptr);

// ReplayShard, logging each damage, then truncating the tail's file at its
// end offset (ftruncate + fsync) when bytes lie beyond it, so later replays
// end cleanly and nothing is ever appended to an old segment.
absl::StatusOr<RecoveryResult> RecoverShard(const std::string& shard_directory, int shard,
                                            QueueIndex* index);

// Unlinks the segments (from DeadSegments), fsyncs the directory so the
// unlinks are durable in this order, then forgets them in the index.
absl::Status RemoveDeadSegments(const std::string& shard_directory,
                                const std::vector<uint32_t>& segments, QueueIndex* index);

// RemoveDeadSegments repeated while it frees something (at most
// kSweepRoundsMax times): unlinking one segment can make the segment it
// pinned dead (a MessageDone's, or a compacted copy's MessageMoved), and
// each such step needs its own durable unlink first. Calls removed(segment)
// for each one unlinked. Returns how many were.
// Each round is a blocking directory fsync on the shard's thread: 8 bound
// the stall per sweep; a longer chain finishes in the next sweeps.
inline constexpr int kSweepRoundsMax = 8;
absl::StatusOr<size_t> RemoveDeadSegmentsFully(const std::string& shard_directory,
                                               uint32_t keep_from, QueueIndex* index,
                                               const std::function<void(uint32_t)>& removed);

// The first id to allocate after recovery under the scheme above.
uint64_t FirstMessageId(int shard, uint64_t highest_message_id, int64_t wall_us);

}  // namespace ringmta::queue

#endif  // RINGMTA_QUEUE_RECOVERY_H_
