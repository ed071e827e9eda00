#include "mta/relay/outcome_report.h"

#include <algorithm>

#include "mta/base/delivery_events.h"
#include "mta/base/shard_stats.h"

namespace ringmta::relay {

void ReportOutcome(const queue::MessageEntry& message, const queue::RecipientEntry& recipient,
                   const RecipientOutcome& outcome, const DeliveryJob* job, uint32_t attempts,
                   int64_t retry_at_ms, int64_t now_ms) {
  OutcomeEventKind kind = OutcomeEventKind::kDeferred;
  Counter counter = Counter::kRecipientsDeferred;
  if (outcome.kind == OutcomeKind::kDelivered) {
    kind = OutcomeEventKind::kDelivered;
    counter = Counter::kRecipientsDelivered;
  } else if (outcome.kind == OutcomeKind::kFailed && outcome.expired) {
    kind = OutcomeEventKind::kExpired;
    counter = Counter::kRecipientsExpired;
  } else if (outcome.kind == OutcomeKind::kFailed) {
    kind = OutcomeEventKind::kBounced;
    counter = Counter::kRecipientsBounced;
  }
  // Wall clock: the receipt time is a queue record's, kept across restarts.
  int64_t queue_time_ms = std::max<int64_t>(0, now_ms - message.received_ms);
  ShardStats& stats = CurrentShardStats();
  stats.Count(counter);
  if (kind != OutcomeEventKind::kDeferred) {
    stats.Observe(Latency::kQueueTime, queue_time_ms * 1'000'000);
  }
  DeliveryEventSink* events = CurrentDeliveryEvents();
  if (events == nullptr) return;
  OutcomeEvent event;
  event.kind = kind;
  event.message_id = message.id;
  event.recipient = recipient.address;
  if (job != nullptr) event.destination = job->route_key;
  event.remote_host = outcome.remote_host;
  event.reply_code = outcome.code;
  event.enhanced_status = outcome.status;
  event.response = outcome.diagnostic;
  event.attempt = attempts;
  event.uncertain = outcome.uncertain;
  event.tls = outcome.tls;
  event.queue_time_ms = queue_time_ms;
  event.delivery_time_ms = job != nullptr ? job->attempt_ms : -1;
  event.retry_at_ms = retry_at_ms;
  events->OnOutcome(event);
}

}  // namespace ringmta::relay
