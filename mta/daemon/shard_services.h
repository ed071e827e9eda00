// Per-shard services and their life on the shard's own thread: before the
// shard accepts, its queue is recovered by replay, dead segments go, its
// spool opens and delivery starts (queued mail is scheduled); after its
// last session, they close in reverse. The daemon passes StartShardServices
// and StopShardServices as the ShardGroup's hooks.
#ifndef RINGMTA_MTA_DAEMON_SHARD_SERVICES_H_
#define RINGMTA_MTA_DAEMON_SHARD_SERVICES_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "mta/admin/delivery_log.h"
#include "mta/base/shard_stats.h"
#include "mta/admin/control_server.h"
#include "mta/io/shard.h"
#include "mta/relay/relay_config.h"
#include "mta/relay/relay_shard.h"
#include "mta/relay/route.h"
#include "queue/shard_queue.h"

namespace ringmta::daemon {

struct ShardServices {
  ShardServices(int shards, std::string spool_directory, std::string hostname,
                std::shared_ptr<const relay::RelaySettings> relay_settings, uint64_t messages_max,
                uint64_t bytes_max);
  // After every shard thread has ended.
  ~ShardServices();

  std::string spool_directory;
  std::vector<std::unique_ptr<queue::ShardQueue>> queues;  // by shard
  relay::RelayShards relays;                               // by shard
  // Observability (mta/admin): each shard writes only its own stats; the
  // delivery log is off when `delivery_log` is null.
  std::vector<std::unique_ptr<ShardStats>> stats;          // by shard
  std::unique_ptr<admin::DeliveryLog> delivery_log;
  std::vector<std::unique_ptr<admin::ShardDeliveryLog>> delivery_logs;  // by shard
  // The control plane, started on shard 0 after its queue (may be null).
  admin::ControlServer* control = nullptr;
};

absl::Status StartShardServices(io::Shard& shard, void* services);
void StopShardServices(io::Shard& shard, void* services);

}  // namespace ringmta::daemon

#endif  // RINGMTA_MTA_DAEMON_SHARD_SERVICES_H_
