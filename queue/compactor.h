// Compactor: keeps one shard's spool bounded when some mail stays queued for
// long (DESIGN §4). A sealed segment that is mostly dead cannot be unlinked
// while any live message has a record in it, so its live messages are
// re-appended at the end of the log as a "compacted copy" (queue_format
// §4.8: envelope, body, recipient states, then MessageMoved), and only once
// the copy is durable does the index point at it; the old segment is then
// dead and the runner's sweep unlinks it. Not here: unlinking, scheduling,
// or deciding which messages are busy (the caller says).
#ifndef RINGMTA_QUEUE_COMPACTOR_H_
#define RINGMTA_QUEUE_COMPACTOR_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "mta/io/reactor.h"
#include "mta/io/task.h"
#include "queue/index.h"
#include "queue/segment_reader.h"
#include "queue/shard_queue.h"

namespace ringmta::queue {

struct CompactorStats {
  uint64_t passes = 0;
  uint64_t segments_chosen = 0;
  uint64_t messages_moved = 0;
  uint64_t bytes_copied = 0;     // Framed payload bytes of envelopes and bodies.
  uint64_t copies_abandoned = 0; // Gave up on (write error, message changed).
};

class Compactor {
 public:
  // busy(id): the message must not move now, because a delivery or a bounce
  // is reading its records (their locations were handed out).
  Compactor(io::Reactor& reactor, ShardQueue& queue, SegmentReader& reader,
            std::function<bool(uint64_t)> busy);
  Compactor(const Compactor&) = delete;
  Compactor& operator=(const Compactor&) = delete;

  // Spawns a pass in `tasks` unless one is running. Segments numbered from
  // keep_from on (the current one, or an open transfer's) are never chosen.
  void MaybeStart(io::TaskGroup& tasks, uint32_t keep_from);
  // One pass, awaited (tests, benchmarks): chooses segments oldest first,
  // moves their live messages in batches, at most kCompactPassBytesMax.
  io::Task<absl::Status> RunPass(uint32_t keep_from);
  // The running pass ends after its current step.
  void Stop() { stopping_ = true; }

  // A message being copied may not be dispatched: its delivery would read
  // locations that are about to go stale. The caller retries it shortly.
  bool Moving(uint64_t id) const { return moving_.contains(id); }
  bool running() const { return running_; }
  const CompactorStats& stats() const { return stats_; }

 private:
  // A copy appended (not yet durable) and where its records went so far.
  struct Copy {
    uint64_t id = 0;
    RecordSpan begin;
    ChunkSpans chunks;
    uint32_t commit_segment = 0;
    std::vector<uint32_t> outcome_segments;
    FailedRecords failed;
    uint32_t moved_segment = 0;
  };

  // The ids to move this pass: live messages with a record in a chosen
  // segment, oldest segment first.
  std::vector<uint64_t> ChooseMessages(uint32_t keep_from);
  io::Task<absl::Status> MoveBatch(const std::vector<uint64_t>& ids);
  // Reads the message's records back and appends the copy; false (and
  // nothing to swap) if the message changed or could not be read.
  io::Task<absl::StatusOr<bool>> AppendCopy(uint64_t id, Copy* copy);
  // The message's recipient states as outcome records (failures verbatim).
  struct StateRecord {
    std::string payload;
    uint32_t recipient = 0;
    bool failure = false;
  };
  std::vector<StateRecord> StateRecords(
      const MessageEntry& entry, const std::vector<std::string>& failed_payloads,
      const FailedRecords& failed) const;
  // Spool::Append, waiting out a rotation whose next segment is still being
  // made (kUnavailable while the epoch holds), as a session would not.
  io::Task<absl::StatusOr<RecordLocation>> Put(const std::string& payload);
  void Swap(Copy& copy);
  // A copy that will not be swapped in (write error, message changed).
  void Abandon(const Copy& copy);

  io::Reactor& reactor_;
  ShardQueue& queue_;
  SegmentReader& reader_;
  std::function<bool(uint64_t)> busy_;
  absl::flat_hash_set<uint64_t> moving_;
  // Segments judged too costly, with their live count then: the messages
  // touching a sealed segment only ever leave, so the verdict stands until
  // that count falls.
  absl::flat_hash_map<uint32_t, uint32_t> too_costly_;
  bool running_ = false;
  bool stopping_ = false;
  CompactorStats stats_;
};

}  // namespace ringmta::queue

#endif  // RINGMTA_QUEUE_COMPACTOR_H_
