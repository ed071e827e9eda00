#include "mta/server/queue_sink.h"

#include <optional>
#include <set>


#include "mta/base/check.h"
#include "mta/base/clock.h"
#include "mta/base/delivery_events.h"
#include "mta/base/shard_stats.h"
#include "mta/base/status.h"
#include "mta/server/received_header.h"
#include "queue/queue_limits.h"
#include "queue/records.h"

namespace ringmta::server {
namespace {

queue::MessageBegin ToRecord(const smtp::Envelope& envelope, uint64_t id, int64_t now_ms,
                             int64_t lifetime_ms) {
  queue::MessageBegin record;
  record.message_id = id;
  record.received_ms = now_ms;
  record.deadline_ms = now_ms + lifetime_ms;
  record.smtputf8 = envelope.smtputf8;
  record.body_type = envelope.body == smtp::BodyType::k8BitMime ? queue::BodyType::k8BitMime
                     : envelope.body == smtp::BodyType::k7Bit   ? queue::BodyType::k7Bit
                                                                : queue::BodyType::kNotGiven;
  record.ret = envelope.ret == smtp::DsnRet::kFull      ? queue::DsnRet::kFull
               : envelope.ret == smtp::DsnRet::kHeaders ? queue::DsnRet::kHeaders
                                                        : queue::DsnRet::kNotGiven;
  record.declared_size = envelope.declared_size;
  record.sender = envelope.mail_from;
  record.envid = envelope.envid;
  record.client_address = envelope.client_address.substr(0, queue::kClientAddressBytesMax);
  record.client_helo = envelope.helo.substr(0, queue::kHostBytesMax);
  record.auth_user = envelope.auth_user.substr(0, queue::kAuthUserBytesMax);
  for (const smtp::Recipient& recipient : envelope.recipients) {
    record.recipients.push_back({recipient.mailbox, recipient.notify, recipient.orcpt});
  }
  return record;
}

class QueueSink : public SessionSink {
 public:
  explicit QueueSink(queue::ShardQueue& queue) : queue_(queue) {}
  ~QueueSink() override { EndTransfer(); }

  absl::Status Begin(const smtp::Envelope& envelope) override {
    Reset();
    if (queue_.spool == nullptr) return absl::UnavailableError("queue not open");
    if (queue_.index.message_count() >= queue_.messages_max ||
        queue_.index.queued_bytes() >= queue_.bytes_max) {
      return absl::ResourceExhaustedError("queue full");
    }
    id_ = queue_.NewMessageId();
    int64_t now_ms = WallNowMs();
    queue::MessageBegin record = ToRecord(envelope, id_, now_ms, queue_.lifetime_ms);
    // The SMTP layer enforced RFC bounds; the queue's are the same or wider,
    // so a record that fails them here is our bug, not the client's.
    if (absl::Status valid = queue::Validate(record); !valid.ok()) {
      return absl::InvalidArgumentError(valid.message());
    }
    absl::StatusOr<queue::RecordLocation> location =
        queue_.spool->Append({queue::EncodeMessageBegin(record)});
    if (!location.ok()) return location.status();
    epoch_ = queue_.spool->epoch();
    entry_ = queue::MessageEntry{};
    entry_.id = id_;
    entry_.begin = queue::ToSpan(*location);
    entry_.received_ms = record.received_ms;
    entry_.deadline_ms = record.deadline_ms;
    entry_.sender = record.sender;
    for (const queue::Recipient& recipient : record.recipients) {
      entry_.recipients.push_back(queue::RecipientEntry{recipient.address, 0, 0,
                                                        queue::RecipientState::kPending,
                                                        recipient.notify});
    }
    active_ = true;
    if (CurrentDeliveryEvents() != nullptr) {
      peer_ = Peer{envelope.client_address, envelope.helo, envelope.auth_user,
                   envelope.tls ? envelope.tls_version + " " + envelope.tls_cipher : ""};
    }
    chunk_ = FormatReceivedHeader(
        envelope, ReceivedContext{queue_.hostname, queue::FormatQueueId(id_), now_ms,
                                   /*authenticated=*/!envelope.auth_user.empty()});
    begin_segment_ = queue_.open_transfer_segments.insert(location->segment);
    return absl::OkStatus();
  }

  absl::Status Append(std::string_view body_bytes) override {
    CHECK(active_);
    while (!body_bytes.empty()) {
      size_t take = std::min(body_bytes.size(), queue::kBodyChunkBytesMax - chunk_.size());
      chunk_.append(body_bytes.substr(0, take));
      body_bytes.remove_prefix(take);
      if (chunk_.size() == queue::kBodyChunkBytesMax) RETURN_IF_ERROR(EmitChunk());
    }
    return absl::OkStatus();
  }

  void Abort() override {
    // What was appended stays in the log as a Begin without a Commit, which
    // recovery drops: nothing to undo.
    Reset();
  }

  bool NeedsPacing() const override { return queue_.spool->write_behind_full(); }
  io::Task<void> Pace() override { co_await queue_.spool->WaitWriteBehind(); }

  io::Task<absl::Status> Commit() override {
    CHECK(active_);
    active_ = false;
    if (!chunk_.empty()) {
      absl::Status emitted = EmitChunk();
      if (!emitted.ok()) co_return emitted;
    }
    absl::StatusOr<queue::RecordLocation> location =
        queue_.spool->Append({queue::EncodeMessageCommit(tally_.Commit(id_))});
    if (!location.ok()) co_return location.status();
    entry_.commit_segment = location->segment;
    entry_.body_bytes = tally_.bytes();
    absl::Status durable = co_await queue_.spool->Commit();
    if (!durable.ok()) co_return durable;
    // A write error after our Begin may have lost earlier records of this
    // message even though this round succeeded.
    if (queue_.spool->epoch() != epoch_) {
      co_return absl::UnavailableError("queue write error during the transfer");
    }
    ++queue_.accepted;
    CurrentShardStats().Count(Counter::kMessagesReceived);
    if (DeliveryEventSink* events = CurrentDeliveryEvents()) {
      events->OnReceived(ReceivedEvent{id_, entry_.sender,
                                       static_cast<uint32_t>(entry_.recipients.size()),
                                       entry_.body_bytes, peer_.address, peer_.helo,
                                       peer_.auth_user, peer_.tls});
    }
    queue_.index.AddMessage(std::move(entry_));
    EndTransfer();
    if (queue_.listener != nullptr) queue_.listener->OnMessageCommitted(id_);
    co_return absl::OkStatus();
  }

 private:
  absl::Status EmitChunk() {
    uint64_t index = tally_.Add(chunk_);
    absl::StatusOr<queue::RecordLocation> location = queue_.spool->Append(
        {queue::EncodeBodyChunkPrefix(id_, index, chunk_.size()), std::string_view(chunk_)});
    chunk_.clear();
    if (location.ok()) entry_.chunks.push_back(queue::ToSpan(*location));
    return location.status();
  }

  void EndTransfer() {
    if (begin_segment_) queue_.open_transfer_segments.erase(*begin_segment_);
    begin_segment_.reset();
  }

  void Reset() {
    EndTransfer();
    active_ = false;
    chunk_.clear();
    tally_ = queue::BodyTally();
  }

  queue::ShardQueue& queue_;
  uint64_t id_ = 0;
  uint64_t epoch_ = 0;
  bool active_ = false;
  std::string chunk_;  // at most one chunk per session (kBodyChunkBytesMax)
  queue::MessageEntry entry_;  // what the index will hold once committed
  // Our MessageBegin's segment among the queue's open transfers.
  std::optional<std::multiset<uint32_t>::iterator> begin_segment_;
  queue::BodyTally tally_;
  // The client, for the delivery log's "received" line (only when it is on).
  struct Peer {
    std::string address;
    std::string helo;
    std::string auth_user;
    std::string tls;  // protocol and cipher; empty: cleartext
  } peer_;
};

}  // namespace

std::unique_ptr<SessionSink> QueueSinkFactory::NewSink(io::Shard& shard) {
  return std::make_unique<QueueSink>(*(*queues_)[shard.index()]);
}

}  // namespace ringmta::server
