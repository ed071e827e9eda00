// The periodic sweep of one shard's spool: unlinks segments nothing live
// needs (RemoveDeadSegmentsFully), and on a full disk also the full current
// segment once it is dead, so that a disk with room for less than one more
// segment accepts mail again when the queue drains (queue_format.md §1.1).
// Blocking unlinks and directory fsyncs: the caller runs it every few
// seconds on the shard's thread. Not here: compaction (compactor.h).
#ifndef RINGMTA_QUEUE_SEGMENT_SWEEP_H_
#define RINGMTA_QUEUE_SEGMENT_SWEEP_H_

#include <cstddef>
#include <cstdint>
#include <functional>

#include "absl/status/statusor.h"
#include "queue/shard_queue.h"

namespace ringmta::queue {

// The oldest segment the sweep and the compactor must leave alone: the
// spool's first unsealed one, or the oldest holding the MessageBegin of a
// transfer not yet committed if that is older.
uint32_t SweepKeepFrom(const ShardQueue& queue);

// Unlinks the dead segments below SweepKeepFrom, calling removed(segment)
// for each. When the spool is out of space and its current segment holds
// nothing live (and no open transfer), seals it and unlinks it too: the
// room it frees lets the spool's retry make the next segment. Returns how
// many segments were unlinked.
absl::StatusOr<size_t> SweepDeadSegments(ShardQueue& queue,
                                         const std::function<void(uint32_t)>& removed);

}  // namespace ringmta::queue

#endif  // RINGMTA_QUEUE_SEGMENT_SWEEP_H_
