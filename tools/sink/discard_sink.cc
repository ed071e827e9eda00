#include "tools/sink/discard_sink.h"

#include "absl/strings/str_format.h"
#include "mta/base/check.h"
#include "mta/io/operation.h"

namespace ringmta::sink {
namespace {

// The shard state of the shard running on this thread (set by BindShard).
thread_local DiscardSinkFactory::ShardState* current_shard_state = nullptr;

void Bump(std::atomic<uint64_t>& counter, uint64_t by = 1) {
  // One writer per counter: a relaxed load and store, not a locked add.
  counter.store(counter.load(std::memory_order_relaxed) + by, std::memory_order_relaxed);
}

}  // namespace

class DiscardSink : public server::SessionSink {
 public:
  DiscardSink(const SinkOptions& options, io::Reactor& reactor,
              DiscardSinkFactory::ShardState& state)
      : options_(options), reactor_(reactor), state_(state) {}

  absl::Status Begin(const smtp::Envelope& envelope) override {
    recipients_ = envelope.recipients.size();
    tls_ = envelope.tls;
    bytes_ = 0;
    return absl::OkStatus();
  }
  absl::Status Append(std::string_view body_bytes) override {
    bytes_ += body_bytes.size();
    return absl::OkStatus();
  }
  void Abort() override { bytes_ = 0; }

  io::Task<absl::Status> Commit() override {
    if (options_.reply_delay_ms > 0) co_await io::Sleep(reactor_, nullptr, options_.reply_delay_ms);
    const double draw = state_.DrawPercent();
    if (draw < options_.message_tempfail_percent) {
      Bump(state_.message_tempfail);
      co_return absl::UnavailableError("sink: chosen to defer this message");
    }
    if (draw < options_.message_tempfail_percent + options_.message_permfail_percent) {
      Bump(state_.message_permfail);
      co_return absl::PermissionDeniedError("sink: chosen to refuse this message");
    }
    Bump(state_.messages);
    Bump(state_.bytes, bytes_);
    Bump(state_.recipients, recipients_);
    if (tls_) Bump(state_.tls_messages);
    co_return absl::OkStatus();
  }

 private:
  const SinkOptions& options_;
  io::Reactor& reactor_;
  DiscardSinkFactory::ShardState& state_;
  uint64_t recipients_ = 0;
  uint64_t bytes_ = 0;
  bool tls_ = false;  // this message came under STARTTLS
};

double DiscardSinkFactory::ShardState::DrawPercent() {
  return std::uniform_real_distribution<double>(0.0, 100.0)(random);
}

DiscardSinkFactory::DiscardSinkFactory(const SinkOptions& options, int shards)
    : options_(options) {
  for (int i = 0; i < shards; ++i) {
    states_.push_back(std::make_unique<ShardState>());
    // Each shard its own stream, reproducible from --seed.
    states_.back()->random.seed(options.seed * 1000003u + static_cast<uint64_t>(i));
  }
}

std::unique_ptr<server::SessionSink> DiscardSinkFactory::NewSink(io::Shard& shard) {
  return std::make_unique<DiscardSink>(options_, shard.reactor(), *states_[shard.index()]);
}

absl::Status DiscardSinkFactory::BindShard(io::Shard& shard, void* factory) {
  auto* self = static_cast<DiscardSinkFactory*>(factory);
  CHECK(shard.index() < static_cast<int>(self->states_.size()));
  current_shard_state = self->states_[shard.index()].get();
  return absl::OkStatus();
}

absl::Status DiscardSinkFactory::CheckRecipient(const smtp::Envelope&,
                                                const smtp::Recipient&) {
  ShardState* state = current_shard_state;
  CHECK(state != nullptr);  // BindShard runs on every shard before it accepts
  if (options_.rcpt_tempfail_percent == 0 && options_.rcpt_permfail_percent == 0) {
    return absl::OkStatus();
  }
  const double draw = state->DrawPercent();
  if (draw < options_.rcpt_tempfail_percent) {
    Bump(state->rcpt_tempfail);
    return absl::UnavailableError("sink: chosen to defer this recipient");
  }
  if (draw < options_.rcpt_tempfail_percent + options_.rcpt_permfail_percent) {
    Bump(state->rcpt_permfail);
    return absl::NotFoundError("sink: chosen to refuse this recipient");
  }
  return absl::OkStatus();
}

void DiscardSinkFactory::CountSession(int shard) { Bump(states_[shard]->sessions); }

SinkTotals DiscardSinkFactory::Totals() const {
  SinkTotals totals;
  for (const auto& state : states_) {
    totals.sessions += state->sessions.load(std::memory_order_relaxed);
    totals.messages += state->messages.load(std::memory_order_relaxed);
    totals.bytes += state->bytes.load(std::memory_order_relaxed);
    totals.recipients += state->recipients.load(std::memory_order_relaxed);
    totals.tls_messages += state->tls_messages.load(std::memory_order_relaxed);
    totals.rcpt_tempfail += state->rcpt_tempfail.load(std::memory_order_relaxed);
    totals.rcpt_permfail += state->rcpt_permfail.load(std::memory_order_relaxed);
    totals.message_tempfail += state->message_tempfail.load(std::memory_order_relaxed);
    totals.message_permfail += state->message_permfail.load(std::memory_order_relaxed);
  }
  return totals;
}

std::string SinkTotals::ToJson() const {
  return absl::StrFormat(
      "{\"sessions\":%d,\"messages\":%d,\"bytes\":%d,\"recipients\":%d,\"rcpt_tempfail\":%d,"
      "\"rcpt_permfail\":%d,\"message_tempfail\":%d,\"message_permfail\":%d,"
      "\"tls_messages\":%d}\n",
      sessions, messages, bytes, recipients, rcpt_tempfail, rcpt_permfail, message_tempfail,
      message_permfail, tls_messages);
}

}  // namespace ringmta::sink
