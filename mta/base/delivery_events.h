// DeliveryEvents: what the delivery log records, as plain structs, and the
// interface the shard's code reports them through. It sits in mta/base so
// that mta/server and mta/relay can report without depending on mta/admin
// (DESIGN §8), which implements it (mta/admin/delivery_log.h) and turns the
// events into JSON lines. Like ShardStats, the reporting code finds its
// shard's sink through a thread-local pointer the daemon installs; none
// installed (the log is off, or a unit test) means events are not built.
#ifndef RINGMTA_MTA_BASE_DELIVERY_EVENTS_H_
#define RINGMTA_MTA_BASE_DELIVERY_EVENTS_H_

#include <cstdint>
#include <string_view>

namespace ringmta {

// A message became durable and was acknowledged.
struct ReceivedEvent {
  uint64_t message_id = 0;
  std::string_view sender;      // reverse-path without <>; empty: null sender
  uint32_t recipients = 0;
  uint64_t size_bytes = 0;      // body bytes as queued
  std::string_view client_address;
  std::string_view client_helo;
  std::string_view auth_user;   // empty: not authenticated
  std::string_view tls;         // "TLSv1.3 TLS_AES_128_GCM_SHA256"; empty: cleartext
};

enum class OutcomeEventKind { kDelivered, kDeferred, kBounced, kExpired };

// One recipient's outcome of one attempt, reported on the message's home shard.
struct OutcomeEvent {
  OutcomeEventKind kind = OutcomeEventKind::kDeferred;
  uint64_t message_id = 0;
  std::string_view recipient;
  std::string_view destination;   // route key; empty when never routed (DNS failure, expiry)
  std::string_view remote_host;   // empty when no server answered
  int reply_code = 0;             // 0: no SMTP reply (connection, DNS, expiry)
  std::string_view enhanced_status;  // "5.1.1"
  std::string_view response;      // reply text or our own explanation
  uint32_t attempt = 0;           // 1 for the first attempt
  bool uncertain = false;         // sent, but the final reply was lost
  std::string_view tls;           // the connection's protocol and cipher; empty: cleartext
  int64_t queue_time_ms = 0;      // received to now
  int64_t delivery_time_ms = -1;  // this attempt; -1 when there was no attempt
  int64_t retry_at_ms = 0;        // deferred: the next attempt (Unix ms)
};

class DeliveryEventSink {
 public:
  virtual ~DeliveryEventSink() = default;
  virtual void OnReceived(const ReceivedEvent& event) = 0;
  virtual void OnOutcome(const OutcomeEvent& event) = 0;
};

// This thread's sink, or nullptr when the delivery log is off.
DeliveryEventSink* CurrentDeliveryEvents();
void SetCurrentDeliveryEvents(DeliveryEventSink* sink);

}  // namespace ringmta

#endif  // RINGMTA_MTA_BASE_DELIVERY_EVENTS_H_
