// QueueSink: the SessionSink that stores accepted mail in the shard's spool.
// The envelope becomes a MessageBegin record, the body (Received: header
// first) streams out as BodyChunk records, and Commit appends the
// MessageCommit and waits for the group commit: only then may the session
// say 250. Not here: the spool's I/O (queue/spool) or delivery.
#ifndef RINGMTA_MTA_SERVER_QUEUE_SINK_H_
#define RINGMTA_MTA_SERVER_QUEUE_SINK_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "mta/server/session_sink.h"
#include "queue/spool.h"

namespace ringmta::server {

// One shard's queue as the inbound side sees it. Owned by the daemon, one
// per shard, and touched only by that shard's thread.
struct ShardQueue {
  int shard = 0;
  std::string hostname;  // for the Received: header
  // How long a message may stay queued before it expires (DESIGN §4: every
  // message has a hard deadline). 5 days, as Postfix and Exim default to.
  int64_t lifetime_ms = int64_t{5} * 24 * 3600 * 1000;
  std::unique_ptr<queue::Spool> spool;
  uint64_t next_id = 0;  // see NewMessageId
  uint64_t accepted = 0;

  // Unique per spool across restarts: the shard in the top 8 bits, then a
  // counter that starts above both the wall clock (ms << 6) and the highest
  // id recovery found, so it never repeats an id still on disk.
  uint64_t NewMessageId();
};

class QueueSinkFactory : public SinkFactory {
 public:
  // `queues` is indexed by shard and must outlive the factory.
  explicit QueueSinkFactory(const std::vector<std::unique_ptr<ShardQueue>>* queues)
      : queues_(queues) {}
  std::unique_ptr<SessionSink> NewSink(io::Shard& shard) override;

 private:
  const std::vector<std::unique_ptr<ShardQueue>>* queues_;
};

// The queue id as people read it (logs, Received: header).
std::string FormatQueueId(uint64_t message_id);

}  // namespace ringmta::server

#endif  // RINGMTA_MTA_SERVER_QUEUE_SINK_H_
