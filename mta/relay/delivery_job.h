// DeliveryJob: one message's recipients for one route, as it travels from
// the message's home shard (which owns its queue records) to the route's
// owner shard (which owns the connections), and back with an outcome per
// recipient. Heap-allocated and passed by pointer through the mailboxes:
// exactly one shard owns it at any time. Not here: what to do with outcomes.
#ifndef RINGMTA_MTA_RELAY_DELIVERY_JOB_H_
#define RINGMTA_MTA_RELAY_DELIVERY_JOB_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "mta/relay/route.h"
#include "queue/index.h"

namespace ringmta::relay {

enum class OutcomeKind : uint8_t { kDelivered, kDeferred, kFailed };

struct RecipientOutcome {
  uint32_t index = 0;  // into the message's recipient list (queue order)
  OutcomeKind kind = OutcomeKind::kDeferred;
  int code = 0;              // SMTP reply code, 0 when none (connection failure)
  std::string status;        // enhanced status "4.4.1", for the DSN
  std::string diagnostic;    // reply summary or our own explanation
  std::string remote_host;   // who said it
  bool uncertain = false;    // sent, but no final reply (DESIGN §3)
  bool expired = false;      // failed because the message's deadline passed
  // The connection's TLS as "TLSv1.3 TLS_AES_128_GCM_SHA256"; empty for
  // cleartext (or no connection). For the delivery log.
  std::string tls;
};

class RelayShard;
using RelayShards = std::vector<std::unique_ptr<RelayShard>>;

struct DeliveryJob {
  // Every shard's relay state, to find the receiving shard's: the vector is
  // fixed before the shards start, so reading it from any thread is safe.
  const RelayShards* relays = nullptr;
  // Filled by the home shard.
  int home_shard = 0;
  uint64_t message_id = 0;
  std::string route_key;
  std::vector<NextHop> hops;     // in the order to try them
  std::string shard_directory;   // the home shard's segment files
  queue::RecordSpan begin;       // MessageBegin: the envelope
  std::vector<queue::RecordSpan> chunks;
  uint64_t body_bytes = 0;
  std::vector<uint32_t> recipients;  // indices into the MessageBegin's list
  // Filled by the owner shard: one per entry of `recipients`.
  std::vector<RecipientOutcome> outcomes;
  int64_t attempt_ms = -1;  // how long the attempt took (delivery log); -1: none

  // Every recipient gets the same outcome (a connection-level result).
  void SetAllOutcomes(OutcomeKind kind, int code, std::string status, std::string diagnostic,
                      std::string remote_host = "") {
    outcomes.clear();
    for (uint32_t index : recipients) {
      outcomes.push_back({index, kind, code, status, diagnostic, remote_host, false, ""});
    }
  }
};

}  // namespace ringmta::relay

#endif  // RINGMTA_MTA_RELAY_DELIVERY_JOB_H_
