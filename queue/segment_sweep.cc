#include "queue/segment_sweep.h"

#include <algorithm>
#include <vector>

#include "mta/base/log.h"
#include "mta/base/status.h"
#include "queue/recovery.h"

namespace ringmta::queue {

uint32_t SweepKeepFrom(const ShardQueue& queue) {
  if (queue.spool == nullptr) return 0;
  uint32_t keep_from = queue.spool->sealed_below();
  if (!queue.open_transfer_segments.empty()) {
    keep_from = std::min(keep_from, *queue.open_transfer_segments.begin());
  }
  return keep_from;
}

absl::StatusOr<size_t> SweepDeadSegments(ShardQueue& queue,
                                         const std::function<void(uint32_t)>& removed) {
  if (queue.spool == nullptr) return 0;
  Spool& spool = *queue.spool;
  const std::string& directory = spool.shard_directory();
  ASSIGN_OR_RETURN(size_t count, RemoveDeadSegmentsFully(directory, SweepKeepFrom(queue),
                                                         &queue.index, removed));
  // Older segments went first: they may have pinned the current one (its
  // MessageDone records), and their room may not be enough on its own.
  const uint32_t current = spool.current_segment();
  if (!spool.out_of_space() || current == 0 || SweepKeepFrom(queue) != current) return count;
  std::vector<uint32_t> dead = queue.index.DeadSegments(current + 1);
  if (dead.empty() || dead.back() != current) return count;
  Log(LogLevel::kWarning,
      "queue shard %d: disk full and segment %d holds nothing live: sealing it to free its room",
      queue.shard, current);
  spool.SealForSpace();
  ASSIGN_OR_RETURN(size_t more, RemoveDeadSegmentsFully(directory, SweepKeepFrom(queue),
                                                        &queue.index, removed));
  return count + more;
}

}  // namespace ringmta::queue
