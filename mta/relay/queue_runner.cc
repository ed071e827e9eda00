#include "mta/relay/queue_runner.h"

#include <algorithm>

#include "mta/base/clock.h"
#include "mta/base/log.h"
#include "mta/relay/enhanced_status.h"
#include "mta/relay/outcome_report.h"
#include "mta/relay/relay_shard.h"
#include "queue/queue_limits.h"
#include "queue/recovery.h"
#include "queue/records.h"
#include "queue/segment_sweep.h"

namespace ringmta::relay {
namespace {

// Due messages dispatched per timer firing: a restart with a million queued
// messages must not stall the shard's loop in one turn.
constexpr int kDispatchBatchMax = 1000;
// How long outcome records may wait for a commit that makes them durable.
constexpr int64_t kOutcomeCommitDelayMs = 100;
// How often dead segments are looked for: deleting a few seconds late
// costs only disk space.
constexpr int64_t kSweepIntervalMs = 5'000;
// A message being compacted is tried again this much later (a batch of
// copies takes a group commit or two).
constexpr int64_t kMovingRetryMs = 200;
// A delivery whose final reply never came may have succeeded; retrying it
// soon would likely duplicate it, so it waits at least this long (DESIGN §3:
// "delivery uncertain" is logged, not blindly retried).
constexpr int64_t kUncertainRetryMs = 3'600'000;
// Domains whose MX site the control plane remembers per shard (~100 bytes
// each): enough for the summary of a busy relay, bounded in any case.
constexpr size_t kMxSiteHintsMax = 10'000;
// The longest response kept per recipient for `ringctl show`.
constexpr size_t kLastResponseBytesMax = 300;

// The outcome's status, or the class its kind implies when there is none.
queue::EnhancedStatus ToRecordStatus(const std::string& text, OutcomeKind kind) {
  if (std::optional<EnhancedStatusParts> parts = ParseEnhancedStatus(text)) {
    return {static_cast<uint8_t>(parts->code_class), static_cast<uint16_t>(parts->subject),
            static_cast<uint16_t>(parts->detail)};
  }
  return {static_cast<uint8_t>(kind == OutcomeKind::kDelivered ? 2
                               : kind == OutcomeKind::kFailed  ? 5
                                                               : 4),
          0, 0};
}

}  // namespace

QueueRunner::QueueRunner(RelayShard& relay)
    : relay_(relay), timer_(&QueueRunner::OnTimer, this), sweep_timer_(&QueueRunner::OnSweep, this),
      commit_timer_(&QueueRunner::OnCommitTimer, this) {}

QueueRunner::~QueueRunner() {
  relay_.reactor().timers().Cancel(&timer_);
  relay_.reactor().timers().Cancel(&sweep_timer_);
  relay_.reactor().timers().Cancel(&commit_timer_);
}

void QueueRunner::Start() {
  compactor_ = std::make_unique<queue::Compactor>(
      relay_.reactor(), relay_.queue(), relay_.segments(),
      [this](uint64_t id) { return in_flight_.contains(id); });
  relay_.reactor().timers().Schedule(&sweep_timer_, relay_.reactor().now_ms() + kSweepIntervalMs);
}

void QueueRunner::Stop() {
  stopped_ = true;
  if (compactor_ != nullptr) compactor_->Stop();
  relay_.reactor().timers().Cancel(&timer_);
  relay_.reactor().timers().Cancel(&sweep_timer_);
  // Write and sync what is appended now, at once: the spool's close writes
  // only what a waiting commit asks for. Outcomes of deliveries that finish
  // during the drain still commit through CommitSoon.
  relay_.reactor().timers().Cancel(&commit_timer_);
  commit_pending_ = false;
  if (commit_running_) {
    commit_again_ = true;
  } else {
    OnCommitTimer(&commit_timer_, this);
  }
}

void QueueRunner::OnSweep(io::Timer*, void* context) {
  auto* self = static_cast<QueueRunner*>(context);
  self->SweepSegments();
  if (!self->stopped_) {
    self->relay_.reactor().timers().Schedule(&self->sweep_timer_,
                                             self->relay_.reactor().now_ms() + kSweepIntervalMs);
  }
}

void QueueRunner::SweepSegments() {
  queue::ShardQueue& queue = relay_.queue();
  if (queue.spool == nullptr) return;
  // Blocking unlinks + directory fsyncs on the shard's thread: at most once
  // per sweep and per segment (64 MiB of mail), so they stay off the hot path.
  const std::string& directory = queue.spool->shard_directory();
  absl::StatusOr<size_t> removed = queue::SweepDeadSegments(
      queue, [&](uint32_t segment) { relay_.segments().Forget(directory, segment); });
  if (!removed.ok()) {
    Log(LogLevel::kWarning, "cannot remove dead segments: %s", std::string(removed.status().message()));
  }
  // Other shards unlink their own dead segments; our descriptors to them
  // would keep the space allocated.
  relay_.segments().CloseUnlinked();
  if (compactor_ != nullptr) compactor_->MaybeStart(relay_.shard().tasks(), queue::SweepKeepFrom(queue));
}

int64_t QueueRunner::BackoffMs(uint32_t attempts) {
  const RelayConfig& config = relay_.config();
  int64_t delay = config.retry_initial_ms;
  for (uint32_t i = 1; i < attempts && delay < config.retry_max_ms; ++i) delay *= 2;
  delay = std::min(delay, config.retry_max_ms);
  // +-20% so deferrals from one burst spread out instead of returning together.
  double jitter = absl::Uniform(random_, 0.8, 1.2);
  return std::max<int64_t>(1, static_cast<int64_t>(static_cast<double>(delay) * jitter));
}

void QueueRunner::Schedule(uint64_t id, int64_t due_ms) {
  if (stopped_) return;
  schedule_.insert({due_ms, id});
  ArmTimer();
}

void QueueRunner::ArmTimer() {
  if (schedule_.empty() || stopped_) return;
  int64_t wait_ms = std::max<int64_t>(0, schedule_.begin()->first - WallNowMs());
  // Wall-clock due times (they survive restarts) become a monotonic timer.
  wait_ms = std::min<int64_t>(wait_ms, 3'600'000);
  int64_t deadline = relay_.reactor().now_ms() + wait_ms;
  if (!timer_.armed() || timer_.deadline_ms() > deadline) {
    relay_.reactor().timers().Schedule(&timer_, deadline);
  }
}

void QueueRunner::OnTimer(io::Timer*, void* context) { static_cast<QueueRunner*>(context)->RunDue(); }

void QueueRunner::RunDue() {
  int64_t now_ms = WallNowMs();
  int dispatched = 0;
  std::vector<uint64_t> moving;
  while (!schedule_.empty() && schedule_.begin()->first <= now_ms && dispatched < kDispatchBatchMax) {
    uint64_t id = schedule_.begin()->second;
    schedule_.erase(schedule_.begin());
    if (in_flight_.contains(id)) continue;  // its outcome reschedules it
    if (compactor_ != nullptr && compactor_->Moving(id)) {
      moving.push_back(id);  // its locations are about to change
      continue;
    }
    in_flight_.insert(id);
    ++dispatched;
    io::Spawn(relay_.reactor(), relay_.shard().tasks(), Dispatch(id));
  }
  for (uint64_t id : moving) schedule_.insert({now_ms + kMovingRetryMs, id});
  ArmTimer();
}

io::Task<void> QueueRunner::Dispatch(uint64_t id) {
  struct Group {
    std::string key;
    std::vector<NextHop> hops;
    std::vector<uint32_t> recipients;
  };
  queue::MessageEntry* entry = relay_.queue().index.Find(id);
  if (entry == nullptr || entry->quarantined) {
    in_flight_.erase(id);
    co_return;
  }
  int64_t now_ms = WallNowMs();
  if (now_ms >= entry->deadline_ms) {
    Expire(*entry);
    in_flight_.erase(id);
    FinishIfDone(id);
    co_return;
  }
  // Pending recipients that are due, by domain.
  std::vector<std::pair<std::string, std::vector<uint32_t>>> domains;
  for (uint32_t i = 0; i < entry->recipients.size(); ++i) {
    const queue::RecipientEntry& recipient = entry->recipients[i];
    if (recipient.state != queue::RecipientState::kPending || recipient.next_attempt_ms > now_ms) {
      continue;
    }
    std::string domain = DomainOf(recipient.address);
    auto it = std::find_if(domains.begin(), domains.end(),
                           [&](const auto& d) { return d.first == domain; });
    if (it == domains.end()) it = domains.insert(domains.end(), {domain, {}});
    it->second.push_back(i);
  }
  std::vector<Group> groups;
  for (auto& [domain, indices] : domains) {
    Group group;
    if (const NextHop* hop = relay_.router().SmartHostFor(domain)) {
      group = Group{SmartHostKey(*hop), {*hop}, indices};
    } else {
      absl::StatusOr<dns::MxResult> mx = co_await relay_.resolver().ResolveMx(domain);
      if (!mx.ok()) {
        bool permanent = mx.status().code() == absl::StatusCode::kNotFound ||
                         mx.status().code() == absl::StatusCode::kFailedPrecondition ||
                         mx.status().code() == absl::StatusCode::kInvalidArgument;
        if (mx.status().code() == absl::StatusCode::kCancelled) break;  // shutting down
        // RFC 7505 §3: a null MX bounces with 5.1.10; an unknown domain 5.1.2.
        std::string status = !permanent ? "4.4.3"
                             : mx.status().code() == absl::StatusCode::kFailedPrecondition ? "5.1.10"
                                                                                           : "5.1.2";
        for (uint32_t index : indices) {
          RecordOutcome(id, RecipientOutcome{index,
                                             permanent ? OutcomeKind::kFailed : OutcomeKind::kDeferred,
                                             0, status, "dns: " + std::string(mx.status().message()),
                                             "", false});
        }
        continue;
      }
      std::vector<std::string> names;
      for (const dns::MxHost& host : mx->hosts) {
        group.hops.push_back(NextHop{host.name, relay_.config().mx_port});
        names.push_back(host.name);
      }
      group.key = MxSiteKey(names, relay_.config().mx_port);
      if (mx_site_of_domain_.size() >= kMxSiteHintsMax) mx_site_of_domain_.clear();
      mx_site_of_domain_[domain] = group.key;
      group.recipients = indices;
    }
    groups.push_back(std::move(group));
  }
  // The index may have changed while DNS answered.
  entry = relay_.queue().index.Find(id);
  if (entry == nullptr || groups.empty() || relay_.stopping()) {
    in_flight_.erase(id);
    if (entry != nullptr) FinishIfDone(id);
    co_return;
  }
  pending_jobs_[id] = static_cast<int>(groups.size());
  for (Group& group : groups) {
    auto* job = new DeliveryJob();
    job->relays = relay_.all();
    job->home_shard = relay_.shard().index();
    job->message_id = id;
    job->route_key = std::move(group.key);
    job->hops = std::move(group.hops);
    job->shard_directory = relay_.queue().spool->shard_directory();
    job->begin = entry->begin;
    for (size_t c = 0; c < entry->chunks.size(); ++c) job->chunks.push_back(entry->chunks[c]);
    job->body_bytes = entry->body_bytes;
    job->recipients = std::move(group.recipients);
    relay_.TrackJob(job);
    relay_.SendJob(job, OwnerShard(job->route_key, relay_.shard().shard_count()));
  }
}

void QueueRunner::ApplyOutcome(DeliveryJob* job) {
  relay_.ForgetJob(job);
  uint64_t id = job->message_id;
  for (const RecipientOutcome& outcome : job->outcomes) RecordOutcome(id, outcome, job);
  delete job;
  auto it = pending_jobs_.find(id);
  if (it != pending_jobs_.end() && --it->second > 0) return;
  if (it != pending_jobs_.end()) pending_jobs_.erase(it);
  in_flight_.erase(id);
  FinishIfDone(id);
}

void QueueRunner::RecordOutcome(uint64_t id, const RecipientOutcome& outcome,
                                const DeliveryJob* job) {
  queue::ShardQueue& queue = relay_.queue();
  queue::MessageEntry* entry = queue.index.Find(id);
  if (entry == nullptr || outcome.index >= entry->recipients.size()) return;
  queue::RecipientEntry& recipient = entry->recipients[outcome.index];
  if (recipient.state != queue::RecipientState::kPending) return;
  int64_t now_ms = WallNowMs();
  queue::RecipientOutcome record;
  record.message_id = id;
  record.recipient = outcome.index;
  record.at_ms = now_ms;
  record.status = ToRecordStatus(outcome.status, outcome.kind);
  record.remote_host = outcome.remote_host.substr(0, queue::kHostBytesMax);
  record.response = outcome.diagnostic.substr(0, queue::kResponseBytesMax);
  std::string encoded;
  uint32_t attempts = recipient.attempts + 1;
  int64_t retry_at_ms = 0;
  const char* verb = "delivered";
  switch (outcome.kind) {
    case OutcomeKind::kDelivered:
      encoded = queue::EncodeRecipientDelivered({record});
      break;
    case OutcomeKind::kFailed:
      encoded = queue::EncodeRecipientFailed({record});
      verb = "bounced";
      break;
    case OutcomeKind::kDeferred:
      retry_at_ms = now_ms + std::max(BackoffMs(attempts), outcome.uncertain ? kUncertainRetryMs : 0);
      retry_at_ms = std::min(retry_at_ms, entry->deadline_ms);
      encoded = queue::EncodeRecipientDeferred({record, std::min(attempts, queue::kAttemptsMax),
                                               retry_at_ms});
      verb = outcome.uncertain ? "deferred (delivery uncertain)" : "deferred";
      break;
  }
  absl::StatusOr<queue::RecordLocation> location = queue.spool->Append({encoded});
  // Unrecorded (disk full): charge a segment the message already uses; the
  // spool may have none to append to (0).
  uint32_t segment = location.ok() ? location->segment : entry->segments.back();
  if (!location.ok()) {
    // The outcome holds in memory; after a restart the recipient would be
    // tried again (at least once, never lost).
    Log(LogLevel::kError, "queue %s: cannot record outcome: %s", queue::FormatQueueId(id),
        std::string(location.status().message()));
  }
  switch (outcome.kind) {
    case OutcomeKind::kDelivered:
      queue.index.MarkDelivered(id, outcome.index, segment);
      break;
    case OutcomeKind::kFailed:
      if (location.ok()) {
        queue.index.MarkFailed(id, outcome.index, queue::ToSpan(*location));
      } else {
        queue.index.MarkFailed(id, outcome.index, segment);
      }
      failures_[id].push_back(FailureReport{outcome.index, outcome.status, outcome.remote_host,
                                            outcome.diagnostic, now_ms});
      break;
    case OutcomeKind::kDeferred:
      queue.index.MarkDeferred(id, outcome.index, segment, retry_at_ms, attempts);
      break;
  }
  if (outcome.kind != OutcomeKind::kDelivered) NoteResponse(id, outcome, entry->recipients.size());
  Log(LogLevel::kInfo, "%s %s to=<%s> relay=%s%s status=%s: %s", queue::FormatQueueId(id), verb,
      SanitizePeerText(recipient.address, 256), SanitizePeerText(outcome.remote_host, 255),
      outcome.tls.empty() ? std::string() : " tls=\"" + outcome.tls + "\"", outcome.status,
      SanitizePeerText(outcome.diagnostic, limits::kLogPeerTextBytesMax * 3));
  ReportOutcome(*entry, recipient, outcome, job, attempts, retry_at_ms, now_ms);
  CommitSoon();
}

void QueueRunner::Expire(queue::MessageEntry& entry) {
  for (uint32_t i = 0; i < entry.recipients.size(); ++i) {
    if (entry.recipients[i].state != queue::RecipientState::kPending) continue;
    // RFC 3463 §3.5: 4.4.7 "delivery time expired", reported as a failure.
    RecordOutcome(entry.id, RecipientOutcome{i, OutcomeKind::kFailed, 0, "4.4.7",
                                             "message expired: not delivered before its deadline",
                                             "", false, /*expired=*/true});
  }
}

void QueueRunner::FinishIfDone(uint64_t id) {
  queue::ShardQueue& queue = relay_.queue();
  queue::MessageEntry* entry = queue.index.Find(id);
  if (entry == nullptr || in_flight_.contains(id)) return;
  int64_t next_due_ms = -1;
  for (const queue::RecipientEntry& recipient : entry->recipients) {
    if (recipient.state != queue::RecipientState::kPending) continue;
    if (next_due_ms < 0 || recipient.next_attempt_ms < next_due_ms) {
      next_due_ms = recipient.next_attempt_ms;
    }
  }
  if (next_due_ms >= 0) {
    Schedule(id, next_due_ms);
    return;
  }
  // Every recipient is final: bounce the failed ones, then the message is done.
  // Failures learnt before a restart are only on disk: the bounce reads
  // them back (QueueBounce), so any failed recipient calls for one. Also
  // while draining: a delivery that ends in a 5xx then still bounces (the
  // spool stays open until the shard's last task is done).
  auto failures = failures_.extract(id);
  bool any_failed = std::any_of(entry->recipients.begin(), entry->recipients.end(),
                                [](const queue::RecipientEntry& recipient) {
                                  return recipient.state == queue::RecipientState::kFailed;
                                });
  if (any_failed && !entry->sender.empty()) {
    in_flight_.insert(id);
    io::Spawn(relay_.reactor(), relay_.shard().tasks(),
              BounceThenDone(id, failures.empty() ? std::vector<FailureReport>{}
                                                  : std::move(failures.mapped())));
    return;
  }
  WriteDone(id);
}

io::Task<void> QueueRunner::BounceThenDone(uint64_t id, std::vector<FailureReport> failures) {
  absl::StatusOr<uint64_t> bounce = co_await QueueBounce(relay_, id, std::move(failures));
  in_flight_.erase(id);
  if (!bounce.ok()) {
    // The failures stay in the log; a restart would bounce them again. Not
    // retried here: a bounce that cannot be queued now (disk full) must not
    // keep the message spinning.
    Log(LogLevel::kError, "%s: cannot queue the bounce: %s", queue::FormatQueueId(id),
        std::string(bounce.status().message()));
  } else if (*bounce != 0) {
    Log(LogLevel::kInfo, "%s: bounce queued as %s", queue::FormatQueueId(id),
        queue::FormatQueueId(*bounce));
  }
  WriteDone(id);
}

void QueueRunner::WriteDone(uint64_t id) {
  queue::ShardQueue& queue = relay_.queue();
  if (queue.index.Find(id) == nullptr) return;
  queue::MessageDone done{id, WallNowMs(), queue::DoneReason::kAllFinal};
  absl::StatusOr<queue::RecordLocation> location = queue.spool->Append({queue::EncodeMessageDone(done)});
  // Unrecorded (disk full): its newest segment stays until the older go.
  queue.index.RemoveMessage(id, location.ok() ? location->segment
                                              : queue.index.Find(id)->segments.back());
  last_responses_.erase(id);
  CommitSoon();
}

void QueueRunner::CommitSoon() {
  // Outcome records need no acknowledgement, and any acceptance commit
  // that happens meanwhile makes them durable for free. So they wait a
  // little for one instead of costing an fdatasync each (which halved
  // single-session throughput); the wait only bounds how many deliveries
  // a crash could repeat.
  if (commit_pending_) return;  // the commit the timer starts includes this record
  if (commit_running_) {
    // The round under way may have begun before this record: one more.
    commit_again_ = true;
    return;
  }
  commit_pending_ = true;
  relay_.reactor().timers().Schedule(&commit_timer_, relay_.reactor().now_ms() + kOutcomeCommitDelayMs);
}

void QueueRunner::OnCommitTimer(io::Timer*, void* context) {
  auto* self = static_cast<QueueRunner*>(context);
  self->commit_pending_ = false;
  self->commit_running_ = true;
  io::Spawn(self->relay_.reactor(), self->relay_.shard().tasks(), [](QueueRunner* runner) -> io::Task<void> {
    (void)co_await runner->relay_.queue().spool->Commit();
    runner->commit_running_ = false;
    if (std::exchange(runner->commit_again_, false)) runner->CommitSoon();
  }(self));
}

// --- Control plane (mta/admin) ------------------------------------------

void QueueRunner::NoteResponse(uint64_t id, const RecipientOutcome& outcome, size_t recipients) {
  std::vector<std::string>& responses = last_responses_[id];
  responses.resize(recipients);
  if (outcome.index < recipients) {
    responses[outcome.index] = (outcome.status + " " + outcome.diagnostic).substr(0, kLastResponseBytesMax);
  }
}

const std::vector<std::string>* QueueRunner::LastResponses(uint64_t id) const {
  auto it = last_responses_.find(id);
  return it == last_responses_.end() ? nullptr : &it->second;
}

std::string QueueRunner::DestinationOf(const std::string& domain) const {
  if (const NextHop* hop = relay_.router().SmartHostFor(domain)) return SmartHostKey(*hop);
  auto it = mx_site_of_domain_.find(domain);
  if (it != mx_site_of_domain_.end()) return it->second;
  return "domain:" + domain;
}

bool QueueRunner::FlushMessage(uint64_t id) {
  queue::MessageEntry* entry = relay_.queue().index.Find(id);
  if (entry == nullptr || entry->quarantined) return false;
  // In RAM only: the deferral records keep their retry times, so after a
  // restart the message waits for them again unless flushed again.
  for (queue::RecipientEntry& recipient : entry->recipients) {
    if (recipient.state == queue::RecipientState::kPending) recipient.next_attempt_ms = 0;
  }
  if (!in_flight_.contains(id)) Schedule(id, 0);
  return true;
}

bool QueueRunner::DeleteMessage(uint64_t id) {
  queue::ShardQueue& queue = relay_.queue();
  if (queue.index.Find(id) == nullptr || queue.spool == nullptr) return false;
  queue::MessageDone done{id, WallNowMs(), queue::DoneReason::kDeleted};
  absl::StatusOr<queue::RecordLocation> location = queue.spool->Append({queue::EncodeMessageDone(done)});
  if (!location.ok()) {
    // Unrecorded, the deletion would be undone by the next restart: keep
    // the message, and the operator's count says it was not deleted.
    Log(LogLevel::kError, "queue %s: cannot record its deletion, kept: %s",
        queue::FormatQueueId(id), std::string(location.status().message()));
    return false;
  }
  queue.index.RemoveMessage(id, location->segment);
  failures_.erase(id);
  last_responses_.erase(id);
  Log(LogLevel::kInfo, "%s deleted by the administrator", queue::FormatQueueId(id));
  CommitSoon();
  return true;
}

bool QueueRunner::BounceMessage(uint64_t id) {
  queue::MessageEntry* entry = relay_.queue().index.Find(id);
  if (entry == nullptr || entry->quarantined) return false;
  for (uint32_t i = 0; i < entry->recipients.size(); ++i) {
    if (entry->recipients[i].state != queue::RecipientState::kPending) continue;
    // RFC 3463 §3.1: X.0.0, other undefined status: the reason is ours.
    RecordOutcome(id, RecipientOutcome{i, OutcomeKind::kFailed, 0, "5.0.0",
                                       "returned to the sender by the queue administrator", "",
                                       false});
  }
  // In flight: the outcome that comes back finds nothing pending and
  // finishes the message (with its bounce) then.
  if (!in_flight_.contains(id)) FinishIfDone(id);
  return true;
}

}  // namespace ringmta::relay
