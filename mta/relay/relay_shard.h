// RelayShard: one shard's part in delivery. As a home shard it runs the
// QueueRunner over its own queue; as an owner shard it keeps the
// Destinations whose routes hash to it, with their outbound sessions. Jobs
// cross between the two only through shard mailboxes (DESIGN §2); a full
// mailbox is retried every millisecond, never dropped. Idle destinations
// are forgotten by a periodic sweep, so their number stays bounded.
#ifndef RINGMTA_MTA_RELAY_RELAY_SHARD_H_
#define RINGMTA_MTA_RELAY_RELAY_SHARD_H_

#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "dns/resolver.h"
#include "mta/io/cancel_scope.h"
#include "mta/io/shard.h"
#include "mta/relay/delivery_job.h"
#include "mta/relay/destination.h"
#include "mta/relay/destination_host.h"
#include "mta/relay/destination_table.h"
#include "mta/relay/outbound_tls.h"
#include "mta/relay/queue_runner.h"
#include "mta/relay/relay_config.h"
#include "mta/relay/route.h"
#include "queue/segment_reader.h"
#include "queue/shard_queue.h"

namespace ringmta::relay {

// What a reload replaces as one immutable snapshot: delivery settings and
// the routes built from them. A shard swaps its pointer on its own thread
// (SetSettings); work under way keeps reading fields through config() at
// each use, and the old snapshot lives on while anything still holds it.
struct RelaySettings {
  RelayConfig config;
  Router router;
};

class RelayShard : public DestinationHost {
 public:
  RelayShard(std::shared_ptr<const RelaySettings> settings, const RelayShards* all,
             queue::ShardQueue& queue);
  ~RelayShard() override;
  RelayShard(const RelayShard&) = delete;
  RelayShard& operator=(const RelayShard&) = delete;

  // On the shard's thread before it accepts: DNS, and every message already
  // in the index (after recovery) scheduled for delivery.
  absl::Status Start(io::Shard& shard);
  // On the shard's thread after its loop ended: close DNS and files.
  void Close();
  // After every shard thread has ended: frees jobs that were still out.
  void DeleteOrphanedJobs();

  // Owner side.
  void AcceptJob(DeliveryJob* job);
  void StartSession(Destination& destination) override;
  void ReturnJob(DeliveryJob* job) override;
  // The shard is stopping (a drain): no new dispatches, queued jobs go home
  // deferred, idle sessions end; sessions with a message finish it.
  void Shutdown();
  // The drain is over (timeout or second signal): cancel every session.
  void ForceShutdown();

  // Control plane (mta/admin), on this shard's thread.
  void SetSettings(std::shared_ptr<const RelaySettings> settings);
  uint64_t settings_generation() const { return settings_generation_; }
  DestinationTable& destinations() { return destinations_; }
  Destination* FindDestination(const std::string& key);
  // For suspend: a destination no job has reached yet is made idle.
  Destination& GetDestination(const std::string& key);

  // Home side.
  void SendJob(DeliveryJob* job, int owner);
  void TrackJob(DeliveryJob* job) { jobs_out_.insert(job); }
  void ForgetJob(DeliveryJob* job) { jobs_out_.erase(job); }

  io::Shard& shard() { return *shard_; }
  io::Reactor& reactor() { return shard_->reactor(); }
  const RelayConfig& config() const override { return settings_->config; }
  const Router& router() const { return settings_->router; }
  int64_t now_ms() const override { return shard_->reactor().now_ms(); }
  io::TimerWheel& timers() override { return reactor().timers(); }
  void Resume(std::coroutine_handle<> handle) override { reactor().Post(handle); }
  // Deletes destinations idle for destination_forget_ms; the sweep timer
  // calls it, tests may too. Returns how many went.
  size_t ForgetIdleDestinations();
  dns::Resolver& resolver() { return *resolver_; }
  queue::SegmentReader& segments() { return *segments_; }
  queue::ShardQueue& queue() { return queue_; }
  QueueRunner& runner() { return *runner_; }
  const RelayShards* all() const { return all_; }
  bool stopping() const { return stopping_; }
  io::CancelScope& sessions_scope() { return sessions_scope_; }
  // Outbound TLS contexts (with their session caches) and the hosts in
  // cleartext fallback: this shard's alone (DESIGN §2).
  OutboundTls& outbound_tls() { return outbound_tls_; }

 private:
  struct Outgoing {
    int to;
    io::ShardMessage message;
  };
  void SendOrQueue(int to, io::ShardMessage message);
  static void OnRetryOutbox(io::Timer* timer, void* context);
  static void OnShutdown(void* owner);
  static void OnForgetSweep(io::Timer* timer, void* context);
  void ScheduleForgetSweep();
  static void OnForce(void* owner);

  std::shared_ptr<const RelaySettings> settings_;
  uint64_t settings_generation_ = 1;
  const RelayShards* all_;
  queue::ShardQueue& queue_;
  io::Shard* shard_ = nullptr;
  std::unique_ptr<dns::Resolver> resolver_;
  std::unique_ptr<queue::SegmentReader> segments_;
  std::unique_ptr<QueueRunner> runner_;
  DestinationTable destinations_{*this};
  // Jobs this shard made and has not had back: freed at teardown if lost.
  absl::flat_hash_set<DeliveryJob*> jobs_out_;
  std::deque<Outgoing> outbox_;  // mailbox was full; retried in order
  io::Timer outbox_timer_;
  io::Timer forget_timer_;
  io::CancelScope sessions_scope_;
  OutboundTls outbound_tls_;
  io::ShutdownNode shutdown_node_;
  bool stopping_ = false;
};

}  // namespace ringmta::relay

#endif  // RINGMTA_MTA_RELAY_RELAY_SHARD_H_
