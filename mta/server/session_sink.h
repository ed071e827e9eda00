// SessionSink: where an inbound session puts accepted mail. It extends the
// protocol core's MessageSink with the one asynchronous step the core cannot
// do itself, Commit (group commit + fdatasync in the queue), and is made per
// session by a SinkFactory. Not here: any storage (queue/ implements it).
#ifndef RINGMTA_MTA_SERVER_SESSION_SINK_H_
#define RINGMTA_MTA_SERVER_SESSION_SINK_H_

#include <memory>

#include "absl/status/status.h"
#include "mta/io/shard.h"
#include "mta/io/task.h"
#include "mta/smtp/message_sink.h"

namespace ringmta::server {

class SessionSink : public smtp::MessageSink {
 public:
  // Makes the message begun last durable. Only an OK status may turn into
  // "250": it means the message is on stable storage.
  virtual io::Task<absl::Status> Commit() = 0;
  // Flow control while a body streams in: when NeedsPacing(), the session
  // awaits Pace() between pieces, so a fast client cannot make the sink
  // buffer without bound.
  virtual bool NeedsPacing() const { return false; }
  virtual io::Task<void> Pace() { co_return; }
};

class SinkFactory {
 public:
  virtual ~SinkFactory() = default;
  virtual std::unique_ptr<SessionSink> NewSink(io::Shard& shard) = 0;
};

// Refuses every message with 451 4.3.0: what the server says while no queue
// is wired in, so nothing is ever acknowledged that was not stored.
class RefusingSinkFactory : public SinkFactory {
 public:
  std::unique_ptr<SessionSink> NewSink(io::Shard& shard) override;
};

}  // namespace ringmta::server

#endif  // RINGMTA_MTA_SERVER_SESSION_SINK_H_
