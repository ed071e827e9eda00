#include "mta/relay/relay_shard.h"

#include "mta/base/check.h"
#include "mta/base/clock.h"
#include "mta/base/log.h"
#include "mta/io/block_on.h"
#include "mta/relay/outbound_session.h"

namespace ringmta::relay {
namespace {

RelayShard& On(io::Shard& target, void* pointer) {
  auto* job = static_cast<DeliveryJob*>(pointer);
  return *(*job->relays)[target.index()];
}

// Runs on the owner shard.
void RunAcceptJob(io::Shard& target, uint64_t, void* pointer) {
  On(target, pointer).AcceptJob(static_cast<DeliveryJob*>(pointer));
}

// Runs on the home shard.
void RunApplyOutcome(io::Shard& target, uint64_t, void* pointer) {
  On(target, pointer).runner().ApplyOutcome(static_cast<DeliveryJob*>(pointer));
}

}  // namespace

RelayShard::RelayShard(std::shared_ptr<const RelaySettings> settings, const RelayShards* all,
                       queue::ShardQueue& queue)
    : settings_(std::move(settings)), all_(all), queue_(queue),
      outbox_timer_(&RelayShard::OnRetryOutbox, this),
      forget_timer_(&RelayShard::OnForgetSweep, this) {
  shutdown_node_.on_shutdown = &RelayShard::OnShutdown;
  shutdown_node_.on_force = &RelayShard::OnForce;
  shutdown_node_.owner = this;
}

void RelayShard::SetSettings(std::shared_ptr<const RelaySettings> settings) {
  settings_ = std::move(settings);
  ++settings_generation_;
  // A larger connection limit may let waiting jobs start now.
  destinations_.ForEach([](Destination& destination) { destination.Kick(); });
}

Destination* RelayShard::FindDestination(const std::string& key) {
  return destinations_.Find(key);
}

Destination& RelayShard::GetDestination(const std::string& key) {
  return destinations_.FindOrAdd(key, {});
}

RelayShard::~RelayShard() {
  CHECK(destinations_.size() == 0 || shard_ == nullptr || stopping_);
}

absl::Status RelayShard::Start(io::Shard& shard) {
  shard_ = &shard;
  dns::ResolverConfig dns;
  dns.servers = config().dns_servers;
  absl::StatusOr<std::unique_ptr<dns::Resolver>> resolver =
      dns::Resolver::Create(shard.reactor(), dns);
  if (!resolver.ok()) return resolver.status();
  resolver_ = std::move(*resolver);
  segments_ = std::make_unique<queue::SegmentReader>(shard.reactor());
  runner_ = std::make_unique<QueueRunner>(*this);
  queue_.listener = runner_.get();
  runner_->Start();
  int64_t now_ms = WallNowMs();
  size_t scheduled = 0;
  queue_.index.ForEach([&](const queue::MessageEntry& entry) {
    if (entry.quarantined) return;
    int64_t due_ms = entry.deadline_ms;
    for (const queue::RecipientEntry& recipient : entry.recipients) {
      if (recipient.state == queue::RecipientState::kPending) {
        due_ms = std::min(due_ms, recipient.next_attempt_ms);
      }
    }
    runner_->Schedule(entry.id, std::min(due_ms, now_ms + config().retry_max_ms));
    ++scheduled;
  });
  if (scheduled > 0) Log(LogLevel::kInfo, "%d queued messages scheduled for delivery", static_cast<int>(scheduled));
  shard.AddShutdownNode(&shutdown_node_);
  ScheduleForgetSweep();
  return absl::OkStatus();
}

// Every quarter of the forget time: a destination goes at most 25% late,
// and the sweep's pass over the table stays rare.
void RelayShard::ScheduleForgetSweep() {
  int64_t period_ms = std::max<int64_t>(1, config().destination_forget_ms / 4);
  reactor().timers().Schedule(&forget_timer_, reactor().now_ms() + period_ms);
}

void RelayShard::OnForgetSweep(io::Timer*, void* context) {
  auto* self = static_cast<RelayShard*>(context);
  if (self->stopping_) return;
  self->ForgetIdleDestinations();
  self->ScheduleForgetSweep();
}

size_t RelayShard::ForgetIdleDestinations() {
  size_t forgotten = destinations_.ForgetIdle(reactor().now_ms(), config().destination_forget_ms);
  if (forgotten > 0) {
    Log(LogLevel::kDebug, "forgot %d idle destinations; %d remain", static_cast<int>(forgotten),
        static_cast<int>(destinations_.size()));
  }
  return forgotten;
}

void RelayShard::OnShutdown(void* owner) { static_cast<RelayShard*>(owner)->Shutdown(); }

void RelayShard::OnForce(void* owner) { static_cast<RelayShard*>(owner)->ForceShutdown(); }

void RelayShard::Shutdown() {
  if (stopping_) return;
  stopping_ = true;
  runner_->Stop();
  reactor().timers().Cancel(&forget_timer_);
  // Sessions in the middle of a message finish it (its outcome is recorded
  // by the runner) and then end: NextJob answers nullptr from now on.
  destinations_.ForEach([](Destination& destination) { destination.Stop(); });
}

void RelayShard::ForceShutdown() {
  Shutdown();
  sessions_scope_.Cancel();
}

void RelayShard::Close() {
  if (shard_ == nullptr) return;
  shard_->RemoveShutdownNode(&shutdown_node_);
  queue_.listener = nullptr;
  reactor().timers().Cancel(&outbox_timer_);
  reactor().timers().Cancel(&forget_timer_);
  if (resolver_ != nullptr) io::BlockOn(reactor(), resolver_->Close());
  resolver_.reset();
  if (segments_ != nullptr) segments_->CloseAll();
  // Every session has ended (the shard waited for its tasks).
  destinations_.Clear();
  runner_.reset();
}

void RelayShard::DeleteOrphanedJobs() {
  for (DeliveryJob* job : jobs_out_) delete job;
  jobs_out_.clear();
}

void RelayShard::AcceptJob(DeliveryJob* job) {
  destinations_.FindOrAdd(job->route_key, job->hops).Submit(job);
}

void RelayShard::StartSession(Destination& destination) {
  io::Spawn(reactor(), shard_->tasks(), RunOutboundSession(*this, destination));
}

void RelayShard::SendJob(DeliveryJob* job, int owner) {
  SendOrQueue(owner, io::ShardMessage{&RunAcceptJob, 0, job});
}

void RelayShard::ReturnJob(DeliveryJob* job) {
  // The owner's view of how the route is doing, for the queue summary.
  for (const RecipientOutcome& outcome : job->outcomes) {
    if (outcome.kind == OutcomeKind::kDelivered) continue;
    if (Destination* destination = FindDestination(job->route_key)) {
      destination->set_last_error(outcome.status + " " + outcome.diagnostic);
    }
    break;
  }
  SendOrQueue(job->home_shard, io::ShardMessage{&RunApplyOutcome, 0, job});
}

void RelayShard::SendOrQueue(int to, io::ShardMessage message) {
  if (outbox_.empty() && shard_->Send(to, message)) return;
  outbox_.push_back({to, message});
  if (!outbox_timer_.armed()) reactor().timers().Schedule(&outbox_timer_, reactor().now_ms() + 1);
}

void RelayShard::OnRetryOutbox(io::Timer*, void* context) {
  auto* self = static_cast<RelayShard*>(context);
  while (!self->outbox_.empty()) {
    const Outgoing& next = self->outbox_.front();
    if (!self->shard_->Send(next.to, next.message)) break;
    self->outbox_.pop_front();
  }
  if (!self->outbox_.empty()) {
    self->reactor().timers().Schedule(&self->outbox_timer_, self->reactor().now_ms() + 1);
  }
}

}  // namespace ringmta::relay
