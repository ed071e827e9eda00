// ControlCommands: carries out one parsed admin request against the shards
// and builds its response. Every request is answered from the shards' own
// state, asked on their own threads through FanOut; shard 0 only merges.
// Counts are exact: each shard reports what it did, the sums are returned.
// Not here: the socket (control_server) or parsing (control_request).
#ifndef RINGMTA_MTA_ADMIN_CONTROL_COMMANDS_H_
#define RINGMTA_MTA_ADMIN_CONTROL_COMMANDS_H_

#include <cstdint>
#include <functional>
#include <string>

#include "mta/admin/admin_limits.h"
#include "mta/admin/control_request.h"
#include "mta/admin/fanout.h"
#include "mta/admin/json.h"
#include "mta/io/task.h"
#include "mta/relay/delivery_job.h"

namespace ringmta::admin {

// What the daemon gives the control plane. Everything but `relays` is read
// on shard 0 only.
struct ControlContext {
  // Every shard's relay state (and through it, its queue); fixed before
  // the shards start. Each element is touched only by its own shard.
  const relay::RelayShards* relays = nullptr;
  std::string version;
  int64_t started_ms = 0;  // wall clock
  // Fan-out answers slower than this count as errors.
  int64_t shard_timeout_ms = kShardAnswerTimeoutMs;
};

class ControlCommands {
 public:
  ControlCommands(const ControlContext& context, FanOut& fanout)
      : context_(context), fanout_(fanout) {}

  // status, queue_summary, list, show, flush, suspend, resume, delete,
  // bounce. (reload and drain belong to the server: they involve the
  // daemon's main thread.)
  io::Task<Json> Execute(ControlRequest request);

 private:
  io::Task<Json> Status();
  io::Task<Json> QueueSummary();
  io::Task<Json> List(ControlRequest request);
  io::Task<Json> Show(uint64_t id);
  io::Task<Json> Flush(ControlRequest request);
  io::Task<Json> Suspend(ControlRequest request, bool suspend);
  io::Task<Json> DeleteOrBounce(ControlRequest request, bool bounce);

  std::vector<int> AllShards() const;
  // The home shard of a message id (top 8 bits), or -1 if none such.
  int HomeShard(uint64_t id) const;

  const ControlContext& context_;
  FanOut& fanout_;
};

// {"ok":false,"error":text}
Json ErrorResponse(const std::string& text);
// "2026-11-28T22:51:51Z"
std::string FormatTimeMs(int64_t wall_ms);

}  // namespace ringmta::admin

#endif  // RINGMTA_MTA_ADMIN_CONTROL_COMMANDS_H_
