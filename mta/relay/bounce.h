// Bounces: turns a finished message's failed recipients into an RFC 3464
// DSN (dsn.h) and queues it like any message, from the null sender, so a
// bounce is never bounced. Not here: deciding that a message is finished
// (QueueRunner) or the DSN's content rules (dsn.h).
#ifndef RINGMTA_MTA_RELAY_BOUNCE_H_
#define RINGMTA_MTA_RELAY_BOUNCE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "mta/io/task.h"
#include "mta/relay/dsn.h"
#include "queue/index.h"
#include "queue/shard_queue.h"

namespace ringmta::relay {

class RelayShard;

// What the runner remembers of a recipient's failure until the message ends.
struct FailureReport {
  uint32_t index = 0;
  std::string status;  // "5.1.1"
  std::string remote_host;
  std::string diagnostic;
  int64_t at_ms = 0;
};

// Queues the DSN for `entry`'s failures, if one is due (not for the null
// sender, nor when NOTIFY says never). Returns the DSN's queue id, or 0
// when none was due.
io::Task<absl::StatusOr<uint64_t>> QueueBounce(RelayShard& relay, uint64_t message_id,
                                               std::vector<FailureReport> failures);

// Appends a complete message (MessageBegin, body chunks, MessageCommit),
// waits for its group commit, and adds it to the index. The body must use
// CRLF line endings.
io::Task<absl::StatusOr<uint64_t>> QueueLocalMessage(queue::ShardQueue& queue,
                                                     const std::string& sender,
                                                     const std::vector<std::string>& recipients,
                                                     const std::string& body, bool smtputf8,
                                                     bool eight_bit);

}  // namespace ringmta::relay

#endif  // RINGMTA_MTA_RELAY_BOUNCE_H_
