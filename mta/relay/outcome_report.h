// ReportOutcome: what one recipient's outcome contributes to observability
// on the message's home shard: the outcome counters, the queue-time
// histogram for final outcomes (mta/base/shard_stats.h) and the delivery
// log's line (mta/base/delivery_events.h). Not here: the queue record or
// the index (QueueRunner::RecordOutcome does those, then calls this).
#ifndef RINGMTA_MTA_RELAY_OUTCOME_REPORT_H_
#define RINGMTA_MTA_RELAY_OUTCOME_REPORT_H_

#include <cstdint>

#include "mta/relay/delivery_job.h"
#include "queue/index.h"

namespace ringmta::relay {

// `job` is the attempt the outcome came from, or null (DNS failure,
// expiry); `attempts` counts this one; `retry_at_ms` is set when deferred.
void ReportOutcome(const queue::MessageEntry& message, const queue::RecipientEntry& recipient,
                   const RecipientOutcome& outcome, const DeliveryJob* job, uint32_t attempts,
                   int64_t retry_at_ms, int64_t now_ms);

}  // namespace ringmta::relay

#endif  // RINGMTA_MTA_RELAY_OUTCOME_REPORT_H_
