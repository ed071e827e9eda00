// DiscardSink: what the benchmark sink does with mail. It plugs into the
// project's own inbound session (mta/server) where the queue would go:
// counts each message and its bytes, then forgets it; optionally waits
// before answering and refuses a seeded share of recipients and messages.
// Counters live per shard (each written by its shard's thread only) and are
// summed by the main thread for reports.
// Not here: flags, signals or files (sink_main.cc).
#ifndef RINGMTA_TOOLS_SINK_DISCARD_SINK_H_
#define RINGMTA_TOOLS_SINK_DISCARD_SINK_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "mta/io/shard.h"
#include "mta/server/session_sink.h"
#include "mta/smtp/message_sink.h"
#include "tools/sink/sink_options.h"

namespace ringmta::sink {

// A snapshot of the counts, summed over shards.
struct SinkTotals {
  uint64_t sessions = 0;
  uint64_t messages = 0;    // accepted: 250 sent
  uint64_t bytes = 0;       // body bytes of accepted messages, as decoded
  uint64_t recipients = 0;  // of accepted messages
  uint64_t rcpt_tempfail = 0;
  uint64_t rcpt_permfail = 0;
  uint64_t message_tempfail = 0;
  uint64_t message_permfail = 0;
  uint64_t tls_messages = 0;  // accepted ones that came under TLS
  std::string ToJson() const;
};

class DiscardSinkFactory : public server::SinkFactory, public smtp::RecipientPolicy {
 public:
  DiscardSinkFactory(const SinkOptions& options, int shards);

  std::unique_ptr<server::SessionSink> NewSink(io::Shard& shard) override;
  // Runs on a shard's thread (as RecipientPolicy), so it uses that
  // shard's state through the thread-local pointer BindShard set.
  absl::Status CheckRecipient(const smtp::Envelope& envelope,
                              const smtp::Recipient& recipient) override;

  // ShardGroupOptions::on_shard_start: binds the thread to its shard state.
  static absl::Status BindShard(io::Shard& shard, void* factory);
  void CountSession(int shard);
  SinkTotals Totals() const;

  // Per shard; the counters are atomics only so the main thread may read
  // them while the shard runs. Cache-line aligned: no false sharing.
  struct alignas(64) ShardState {
    std::atomic<uint64_t> sessions{0};
    std::atomic<uint64_t> messages{0};
    std::atomic<uint64_t> bytes{0};
    std::atomic<uint64_t> recipients{0};
    std::atomic<uint64_t> rcpt_tempfail{0};
    std::atomic<uint64_t> rcpt_permfail{0};
    std::atomic<uint64_t> message_tempfail{0};
    std::atomic<uint64_t> message_permfail{0};
    std::atomic<uint64_t> tls_messages{0};
    std::mt19937_64 random;
    // A uniform draw in [0, 100) for the refusal mixes.
    double DrawPercent();
  };

 private:
  friend class DiscardSink;
  const SinkOptions& options_;
  std::vector<std::unique_ptr<ShardState>> states_;
};

}  // namespace ringmta::sink

#endif  // RINGMTA_TOOLS_SINK_DISCARD_SINK_H_
