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
#include "queue/shard_queue.h"

namespace ringmta::server {

class QueueSinkFactory : public SinkFactory {
 public:
  // `queues` is indexed by shard and must outlive the factory.
  explicit QueueSinkFactory(const std::vector<std::unique_ptr<queue::ShardQueue>>* queues)
      : queues_(queues) {}
  std::unique_ptr<SessionSink> NewSink(io::Shard& shard) override;

 private:
  const std::vector<std::unique_ptr<queue::ShardQueue>>* queues_;
};

}  // namespace ringmta::server

#endif  // RINGMTA_MTA_SERVER_QUEUE_SINK_H_
