#include "mta/daemon/shard_services.h"

#include "mta/base/clock.h"
#include "mta/base/log.h"
#include "mta/base/status.h"
#include "mta/io/block_on.h"
#include "queue/recovery.h"

namespace ringmta::daemon {
namespace {

void LogRecovery(int shard, const queue::RecoveryResult& result) {
  Log(LogLevel::kInfo,
      "shard %d queue recovered in %d ms: %d messages, %d segments, %d records%s", shard,
      static_cast<int>(result.elapsed_ms), static_cast<int>(result.messages),
      static_cast<int>(result.segments_scanned), static_cast<int>(result.records_replayed),
      result.truncated ? ", torn tail truncated" : "");
  if (result.damaged_regions > 0 || !result.quarantined_ids.empty()) {
    Log(LogLevel::kError,
        "shard %d queue damage: %d regions, %d bytes dropped, %d messages quarantined", shard,
        static_cast<int>(result.damaged_regions), static_cast<int>(result.bytes_dropped),
        static_cast<int>(result.quarantined_ids.size()));
  }
}

// Before anything on this shard counts or logs: its stats and delivery log
// become the thread's current ones (mta/base/shard_stats.h).
absl::Status StartObservability(io::Shard& shard, ShardServices& services) {
  SetCurrentShardStats(services.stats[shard.index()].get());
  if (services.delivery_log == nullptr) return absl::OkStatus();
  auto log = std::make_unique<admin::ShardDeliveryLog>(
      *services.delivery_log, shard.reactor(), *services.stats[shard.index()],
      limits::kDeliveryLogBufferBytesMax);
  RETURN_IF_ERROR(log->Open());
  SetCurrentDeliveryEvents(log.get());
  services.delivery_logs[shard.index()] = std::move(log);
  return absl::OkStatus();
}

// After the last event of this shard: write what the log still holds.
void StopObservability(io::Shard& shard, ShardServices& services) {
  std::unique_ptr<admin::ShardDeliveryLog>& log = services.delivery_logs[shard.index()];
  if (log != nullptr) log->Drain();
  SetCurrentDeliveryEvents(nullptr);
  log.reset();
}

}  // namespace

ShardServices::ShardServices(int shards, std::string spool_directory, std::string hostname,
                             std::shared_ptr<const relay::RelaySettings> relay_settings,
                             uint64_t messages_max, uint64_t bytes_max)
    : spool_directory(std::move(spool_directory)) {
  for (int shard = 0; shard < shards; ++shard) {
    queues.push_back(std::make_unique<queue::ShardQueue>());
    queues.back()->shard = shard;
    queues.back()->hostname = hostname;
    // Shards share nothing, so each gets its part of the daemon's marks.
    queues.back()->messages_max = std::max<uint64_t>(1, messages_max / shards);
    queues.back()->bytes_max = std::max<uint64_t>(1, bytes_max / shards);
    relays.push_back(
        std::make_unique<relay::RelayShard>(relay_settings, &relays, *queues.back()));
    stats.push_back(std::make_unique<ShardStats>());
  }
  delivery_logs.resize(shards);
}

ShardServices::~ShardServices() {
  // Jobs still in a mailbox when the shards stopped belong to nobody now.
  for (auto& relay : relays) relay->DeleteOrphanedJobs();
}

absl::Status StartShardServices(io::Shard& shard, void* context) {
  auto* services = static_cast<ShardServices*>(context);
  RETURN_IF_ERROR(StartObservability(shard, *services));
  queue::ShardQueue& queue = *services->queues[shard.index()];
  std::string directory = services->spool_directory + "/shard-" + std::to_string(shard.index());
  absl::StatusOr<queue::RecoveryResult> recovered =
      queue::RecoverShard(directory, shard.index(), &queue.index);
  if (!recovered.ok()) return recovered.status();
  LogRecovery(shard.index(), *recovered);
  absl::Status removed = queue::RemoveDeadSegments(directory, recovered->dead_segments, &queue.index);
  if (!removed.ok()) Log(LogLevel::kWarning, "%s", std::string(removed.message()));
  constexpr uint64_t kCounterMask = (uint64_t{1} << 56) - 1;
  queue.next_id = queue::FirstMessageId(shard.index(), recovered->highest_message_id,
                                        WallNowMs() * 1000) &
                  kCounterMask;

  queue::SpoolOptions options;
  options.directory = services->spool_directory;
  options.shard = shard.index();
  options.on_segment_created = [&queue](uint32_t segment) { queue.index.TrackSegment(segment); };
  absl::StatusOr<std::unique_ptr<queue::Spool>> spool = io::BlockOn(
      shard.reactor(), queue::Spool::Open(shard.reactor(), options, recovered->next_segment));
  if (!spool.ok()) return spool.status();
  queue.spool = std::move(*spool);
  RETURN_IF_ERROR(services->relays[shard.index()]->Start(shard));
  if (shard.index() == 0 && services->control != nullptr) services->control->Start(shard);
  return absl::OkStatus();
}

void StopShardServices(io::Shard& shard, void* context) {
  auto* services = static_cast<ShardServices*>(context);
  if (shard.index() == 0 && services->control != nullptr) services->control->Close();
  services->relays[shard.index()]->Close();
  queue::ShardQueue& queue = *services->queues[shard.index()];
  if (queue.spool != nullptr) {
    // Records appended since the last commit (outcomes of deliveries that
    // ended during the drain, operator deletions) are written and synced
    // now: the spool's close writes only what a commit waits for.
    (void)io::BlockOn(shard.reactor(), queue.spool->Commit());
    io::BlockOn(shard.reactor(), queue.spool->Close());
    queue.spool.reset();
  }
  StopObservability(shard, *services);
}

}  // namespace ringmta::daemon
