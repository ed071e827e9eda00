#include "mta/admin/metrics_exposition.h"

#include <algorithm>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace ringmta::admin {
namespace {

struct CounterSpec {
  Counter counter;
  const char* name;
  const char* help;
};

// Recipient-level outcome counters: a message to three recipients can be
// delivered to two and bounced for one, so counting messages would lose
// information. Bounced and expired are disjoint: an expired recipient is
// bounced to the sender too, but counted only as expired.
constexpr CounterSpec kCounters[] = {
    {Counter::kMessagesReceived, "ringmta_messages_received_total",
     "Messages accepted: durable in the queue and acknowledged with 250."},
    {Counter::kQueueFdatasync, "ringmta_queue_fdatasync_total",
     "fdatasync calls made by the queue's group commit (one per commit round)."},
    {Counter::kRecipientsDelivered, "ringmta_recipients_delivered_total",
     "Recipients accepted by the next hop (2xx)."},
    {Counter::kRecipientsDeferred, "ringmta_recipients_deferred_total",
     "Recipient delivery attempts that failed temporarily and will be retried."},
    {Counter::kRecipientsBounced, "ringmta_recipients_bounced_total",
     "Recipients that failed permanently (5xx, unknown domain, null MX)."},
    {Counter::kRecipientsExpired, "ringmta_recipients_expired_total",
     "Recipients given up at the message's deadline (not counted as bounced)."},
    {Counter::kConnectionsIn, "ringmta_connections_in_total",
     "Inbound connections accepted by the kernel, refused ones included."},
    {Counter::kConnectionsInRefused, "ringmta_connections_in_refused_total",
     "Inbound connections refused (shard full, stopping, or per-client limit)."},
    {Counter::kConnectionsOut, "ringmta_connections_out_total",
     "Outbound TCP connections established to next hops."},
    {Counter::kConnectionsOutFailed, "ringmta_connections_out_failed_total",
     "Outbound connection attempts that failed."},
    {Counter::kDeliveryLogLinesDropped, "ringmta_delivery_log_dropped_total",
     "Delivery log lines dropped because the log's buffer was full."},
    {Counter::kDeliveryLogWriteErrors, "ringmta_delivery_log_errors_total",
     "Failed writes or reopens of the delivery log."},
};
static_assert(std::size(kCounters) == static_cast<size_t>(Counter::kCount));

struct GaugeSpec {
  Gauge gauge;
  const char* name;
  const char* help;
};

constexpr GaugeSpec kGauges[] = {
    {Gauge::kConnectionsInOpen, "ringmta_connections_in", "Inbound SMTP sessions open now."},
    {Gauge::kQueueMessages, "ringmta_queue_messages", "Messages in the queue."},
    {Gauge::kQueueBytes, "ringmta_queue_bytes", "Body bytes of the messages in the queue."},
};
static_assert(std::size(kGauges) == static_cast<size_t>(Gauge::kCount));

struct LatencySpec {
  Latency latency;
  const char* name;
  const char* help;
};

constexpr LatencySpec kLatencies[] = {
    {Latency::kAcceptToAck, "ringmta_accept_to_ack_seconds",
     "From the end of a message's data to its durable commit (when the 250 is sent)."},
    {Latency::kFdatasync, "ringmta_fdatasync_seconds", "Duration of one queue fdatasync."},
    {Latency::kQueueTime, "ringmta_queue_time_seconds",
     "From a message's receipt to a recipient's final outcome."},
    {Latency::kDelivery, "ringmta_delivery_seconds",
     "One delivery attempt, from taking the job (connecting if needed) to its outcome."},
};
static_assert(std::size(kLatencies) == static_cast<size_t>(Latency::kCount));

void Header(std::string* out, const char* name, const char* help, const char* type) {
  absl::StrAppend(out, "# HELP ", name, " ", help, "\n# TYPE ", name, " ", type, "\n");
}

std::string Seconds(int64_t ns) { return absl::StrFormat("%.9g", static_cast<double>(ns) / 1e9); }

void RenderHistogram(const std::vector<const ShardStats*>& shards, const LatencySpec& spec,
                     std::string* out) {
  Header(out, spec.name, spec.help, "histogram");
  HistogramBounds bounds = shards.empty() ? HistogramBounds()
                                          : shards[0]->Read(spec.latency).bounds_ns();
  uint64_t cumulative = 0;
  uint64_t sum_ns = 0;
  for (size_t i = 0; i <= bounds.size(); ++i) {
    for (const ShardStats* shard : shards) cumulative += shard->Read(spec.latency).bucket_count(i);
    std::string le = i < bounds.size() ? Seconds(bounds[i]) : "+Inf";
    absl::StrAppend(out, spec.name, "_bucket{le=\"", le, "\"} ", cumulative, "\n");
  }
  for (const ShardStats* shard : shards) sum_ns += shard->Read(spec.latency).sum_ns();
  absl::StrAppend(out, spec.name, "_sum ", Seconds(static_cast<int64_t>(sum_ns)), "\n");
  absl::StrAppend(out, spec.name, "_count ", cumulative, "\n");
}

struct Totals {
  uint64_t delivered = 0;
  uint64_t deferred = 0;
  uint64_t bounced = 0;
  void Add(const DestinationCounters& counters) {
    delivered += counters.delivered.Read();
    deferred += counters.deferred.Read();
    bounced += counters.bounced.Read();
  }
  void Add(const Totals& other) {
    delivered += other.delivered;
    deferred += other.deferred;
    bounced += other.bounced;
  }
  uint64_t Volume() const { return delivered + deferred + bounced; }
};

}  // namespace

std::string EscapeLabelValue(std::string_view value) {
  std::string escaped;
  for (char c : value) {
    if (c == '\\') {
      escaped.append("\\\\");
    } else if (c == '"') {
      escaped.append("\\\"");
    } else if (c == '\n') {
      escaped.append("\\n");
    } else if (c < 0x20 || c > 0x7E) {
      escaped.push_back('?');
    } else {
      escaped.push_back(c);
    }
  }
  return escaped;
}

MetricsExposition::MetricsExposition(std::vector<const ShardStats*> shards, int destinations_shown)
    : shards_(std::move(shards)),
      destinations_shown_max_(static_cast<size_t>(std::max(0, destinations_shown))) {}

std::string MetricsExposition::Render() {
  std::string out;
  for (const CounterSpec& spec : kCounters) {
    uint64_t total = 0;
    for (const ShardStats* shard : shards_) total += shard->Read(spec.counter);
    Header(&out, spec.name, spec.help, "counter");
    absl::StrAppend(&out, spec.name, " ", total, "\n");
  }
  for (const GaugeSpec& spec : kGauges) {
    int64_t total = 0;
    for (const ShardStats* shard : shards_) total += shard->Read(spec.gauge);
    Header(&out, spec.name, spec.help, "gauge");
    absl::StrAppend(&out, spec.name, " ", total, "\n");
  }
  for (const LatencySpec& spec : kLatencies) RenderHistogram(shards_, spec, &out);
  RenderDestinations(&out);
  return out;
}

void MetricsExposition::RenderDestinations(std::string* out) {
  // Merge: the same route key has one owner shard, but after a change of
  // shard count a restart may leave none or several; summing is right.
  std::map<std::string, Totals, std::less<>> by_key;
  Totals unslotted;
  for (const ShardStats* shard : shards_) {
    const DestinationTable& table = shard->destinations();
    size_t published = table.published();
    for (size_t slot = 0; slot < published; ++slot) {
      by_key[std::string(table.key(slot))].Add(table.counters(slot));
    }
    unslotted.Add(table.other());
  }
  if (shown_.size() < destinations_shown_max_) {
    std::vector<std::pair<uint64_t, std::string>> candidates;
    for (const auto& [key, totals] : by_key) {
      if (!std::binary_search(shown_.begin(), shown_.end(), key)) {
        candidates.push_back({totals.Volume(), key});
      }
    }
    std::sort(candidates.begin(), candidates.end(),
              [](const auto& a, const auto& b) { return a.first != b.first ? a.first > b.first
                                                                          : a.second < b.second; });
    for (size_t i = 0; i < candidates.size() && shown_.size() < destinations_shown_max_; ++i) {
      shown_.push_back(candidates[i].second);
    }
    std::sort(shown_.begin(), shown_.end());
  }
  Totals other = unslotted;
  for (const auto& [key, totals] : by_key) {
    if (!std::binary_search(shown_.begin(), shown_.end(), key)) other.Add(totals);
  }
  struct Series {
    const char* name;
    const char* help;
    uint64_t Totals::*field;
  };
  const Series kSeries[] = {
      {"ringmta_destination_recipients_delivered_total", "Recipients delivered, by route.",
       &Totals::delivered},
      {"ringmta_destination_recipients_deferred_total", "Recipient attempts deferred, by route.",
       &Totals::deferred},
      {"ringmta_destination_recipients_bounced_total", "Recipients bounced by the next hop, by route.",
       &Totals::bounced},
  };
  for (const Series& series : kSeries) {
    Header(out, series.name, series.help, "counter");
    for (const std::string& key : shown_) {
      auto found = by_key.find(key);
      uint64_t value = found == by_key.end() ? 0 : found->second.*series.field;
      absl::StrAppend(out, series.name, "{destination=\"", EscapeLabelValue(key), "\"} ", value,
                      "\n");
    }
    absl::StrAppend(out, series.name, "{destination=\"other\"} ", other.*series.field, "\n");
  }
}

}  // namespace ringmta::admin
