// ShardQueue: one shard's queue as the rest of the daemon sees it: the
// spool (durable appends), the index (what is queued, in RAM), message ids,
// and a listener told when a message becomes durable. Owned by the daemon,
// one per shard, touched only by that shard's thread.
#ifndef RINGMTA_QUEUE_SHARD_QUEUE_H_
#define RINGMTA_QUEUE_SHARD_QUEUE_H_

#include <cstdint>
#include <limits>
#include <memory>
#include <set>
#include <string>

#include "queue/index.h"
#include "queue/spool.h"

namespace ringmta::queue {

class CommitListener {
 public:
  virtual ~CommitListener() = default;
  // `id` is in the index and durable: schedule its delivery.
  virtual void OnMessageCommitted(uint64_t id) = 0;
};

struct ShardQueue {
  int shard = 0;
  std::string hostname;  // for Received: headers and bounces
  // How long a message may stay queued before it expires (DESIGN §4: every
  // message has a hard deadline). 5 days, as Postfix and Exim default to.
  int64_t lifetime_ms = int64_t{5} * 24 * 3600 * 1000;
  // High-water marks (DESIGN §4): past them new mail gets 452 instead of
  // the queue growing without bound. Per shard (the daemon divides).
  uint64_t messages_max = UINT64_MAX;
  uint64_t bytes_max = UINT64_MAX;
  std::unique_ptr<Spool> spool;
  QueueIndex index;
  CommitListener* listener = nullptr;
  uint64_t next_id = 0;  // the counter part; see NewMessageId
  // Segments holding the MessageBegin of a transfer not yet committed: they
  // must outlive it even if nothing committed remains in them.
  std::multiset<uint32_t> open_transfer_segments;
  uint64_t accepted = 0;

  // Unique per spool across restarts: the shard in the top 8 bits, then a
  // counter that starts above both the wall clock (in microseconds) and the
  // highest id recovery found (queue/recovery.h, FirstMessageId).
  uint64_t NewMessageId();
};

// The queue id as people read it (logs, Received: header): 16 hex digits.
std::string FormatQueueId(uint64_t message_id);

inline RecordSpan ToSpan(const RecordLocation& location) {
  return RecordSpan{location.segment, static_cast<uint32_t>(location.offset),
                    static_cast<uint32_t>(location.end_offset)};
}

}  // namespace ringmta::queue

#endif  // RINGMTA_QUEUE_SHARD_QUEUE_H_
