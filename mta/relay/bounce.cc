#include "mta/relay/bounce.h"

#include <algorithm>
#include <variant>

#include "absl/strings/str_format.h"

#include "mta/base/clock.h"
#include "mta/base/log.h"
#include "mta/relay/enhanced_status.h"
#include "mta/relay/relay_shard.h"
#include "queue/queue_limits.h"
#include "queue/records.h"

namespace ringmta::relay {
namespace {

// A failure's status for the report; 5.0.0 when ours had none.
DsnStatusCode ToDsnStatus(const std::string& text) {
  std::optional<EnhancedStatusParts> parts = ParseEnhancedStatus(text);
  if (!parts) return DsnStatusCode{5, 0, 0};
  return DsnStatusCode{static_cast<uint8_t>(parts->code_class), static_cast<uint16_t>(parts->subject),
                       static_cast<uint16_t>(parts->detail)};
}

DsnRet ToDsnRet(queue::DsnRet ret) {
  switch (ret) {
    case queue::DsnRet::kFull: return DsnRet::kFull;
    case queue::DsnRet::kHeaders: return DsnRet::kHeaders;
    default: return DsnRet::kNotGiven;
  }
}

}  // namespace

io::Task<absl::StatusOr<uint64_t>> QueueLocalMessage(queue::ShardQueue& queue,
                                                     const std::string& sender,
                                                     const std::vector<std::string>& recipients,
                                                     const std::string& body, bool smtputf8,
                                                     bool eight_bit) {
  queue::MessageBegin begin;
  begin.message_id = queue.NewMessageId();
  begin.received_ms = WallNowMs();
  begin.deadline_ms = begin.received_ms + queue.lifetime_ms;
  begin.smtputf8 = smtputf8;
  begin.body_type = eight_bit ? queue::BodyType::k8BitMime : queue::BodyType::kNotGiven;
  begin.sender = sender;
  begin.client_address = "local";
  begin.client_helo = queue.hostname.substr(0, queue::kHostBytesMax);
  for (const std::string& recipient : recipients) begin.recipients.push_back({recipient, 0, ""});
  if (absl::Status valid = queue::Validate(begin); !valid.ok()) co_return valid;
  absl::StatusOr<queue::RecordLocation> location = queue.spool->Append({queue::EncodeMessageBegin(begin)});
  if (!location.ok()) co_return location.status();
  uint64_t epoch = queue.spool->epoch();
  queue::MessageEntry entry;
  entry.id = begin.message_id;
  entry.begin = queue::ToSpan(*location);
  entry.received_ms = begin.received_ms;
  entry.deadline_ms = begin.deadline_ms;
  entry.sender = sender;
  for (const std::string& recipient : recipients) {
    entry.recipients.push_back({recipient, 0, 0, queue::RecipientState::kPending, 0});
  }
  queue::BodyTally tally;
  for (size_t offset = 0; offset < body.size(); offset += queue::kBodyChunkBytesMax) {
    std::string_view piece = std::string_view(body).substr(offset, queue::kBodyChunkBytesMax);
    uint64_t index = tally.Add(piece);
    location = queue.spool->Append({queue::EncodeBodyChunkPrefix(begin.message_id, index, piece.size()), piece});
    if (!location.ok()) co_return location.status();
    entry.chunks.push_back(queue::ToSpan(*location));
  }
  location = queue.spool->Append({queue::EncodeMessageCommit(tally.Commit(begin.message_id))});
  if (!location.ok()) co_return location.status();
  entry.commit_segment = location->segment;
  entry.body_bytes = tally.bytes();
  absl::Status durable = co_await queue.spool->Commit();
  if (!durable.ok()) co_return durable;
  if (queue.spool->epoch() != epoch) co_return absl::UnavailableError("queue write error");
  uint64_t id = begin.message_id;
  queue.index.AddMessage(std::move(entry));
  if (queue.listener != nullptr) queue.listener->OnMessageCommitted(id);
  co_return id;
}

io::Task<absl::StatusOr<uint64_t>> QueueBounce(RelayShard& relay, uint64_t message_id,
                                               std::vector<FailureReport> failures) {
  queue::ShardQueue& queue = relay.queue();
  const queue::MessageEntry* entry = queue.index.Find(message_id);
  if (entry == nullptr || entry->sender.empty()) co_return uint64_t{0};
  // Failures from before a restart (or whose report was not kept) come back
  // from their RecipientFailed records: the real host, status and text.
  if (const queue::FailedRecords* records = queue.index.FailedRecordsOf(message_id)) {
    const queue::FailedRecords on_disk = *records;
    for (const queue::FailedRecord& record : on_disk) {
      bool known = std::any_of(failures.begin(), failures.end(), [&](const FailureReport& f) {
        return f.index == record.recipient;
      });
      if (known) continue;
      std::string payload;
      absl::Status read =
          co_await relay.segments().Read(queue.spool->shard_directory(), record.span, &payload);
      absl::StatusOr<queue::Record> decoded =
          read.ok() ? queue::DecodeRecord(payload) : absl::StatusOr<queue::Record>(read);
      const auto* failed = decoded.ok() ? std::get_if<queue::RecipientFailed>(&*decoded) : nullptr;
      if (failed == nullptr || failed->outcome.message_id != message_id) {
        Log(LogLevel::kWarning, "%s: cannot read the failure of recipient %d: %s",
            queue::FormatQueueId(message_id), record.recipient,
            decoded.ok() ? std::string("not a RecipientFailed")
                         : std::string(decoded.status().message()));
        continue;
      }
      const queue::RecipientOutcome& outcome = failed->outcome;
      failures.push_back(FailureReport{
          outcome.recipient,
          absl::StrFormat("%d.%d.%d", outcome.status.code_class, outcome.status.subject,
                          outcome.status.detail),
          outcome.remote_host, outcome.response, outcome.at_ms});
    }
    entry = queue.index.Find(message_id);  // may have moved during the reads
    if (entry == nullptr) co_return uint64_t{0};
  }
  if (failures.empty()) co_return uint64_t{0};
  // The envelope details a DSN echoes (ENVID, RET, ORCPT) live on disk.
  std::string begin_payload;
  absl::Status read =
      co_await relay.segments().Read(queue.spool->shard_directory(), entry->begin, &begin_payload);
  if (!read.ok()) co_return read;
  absl::StatusOr<queue::Record> record = queue::DecodeRecord(begin_payload);
  if (!record.ok()) co_return record.status();
  const auto* begin = std::get_if<queue::MessageBegin>(&*record);
  if (begin == nullptr) co_return absl::DataLossError("not a MessageBegin");

  DsnRequest request;
  request.envelope = DsnEnvelope{begin->sender,         begin->envid,       ToDsnRet(begin->ret),
                                 begin->smtputf8,       begin->received_ms, begin->client_helo,
                                 begin->client_address};
  for (const FailureReport& failure : failures) {
    if (failure.index >= begin->recipients.size()) continue;
    const queue::Recipient& recipient = begin->recipients[failure.index];
    DsnRecipientReport report;
    report.final_recipient = recipient.address;
    report.orcpt = recipient.orcpt;
    report.notify = recipient.notify;
    report.action = DsnAction::kFailed;
    report.status = ToDsnStatus(failure.status);
    report.remote_mta = failure.remote_host;
    report.diagnostic = failure.diagnostic;
    report.last_attempt_ms = failure.at_ms;
    request.recipients.push_back(std::move(report));
  }
  request.reporting_mta = queue.hostname;
  request.dsn_message_id = queue::FormatQueueId(message_id) + ".dsn";
  request.now_ms = WallNowMs();
  DsnOptions options;
  // The original, as far as the report wants it (headers, or all of it):
  // that depends on its size, so the size goes in before the question.
  request.original.size_bytes = entry->body_bytes;
  uint64_t wanted = DsnMessageBytesWanted(request, options);
  std::vector<std::string> payloads;
  std::vector<std::string_view> pieces;
  uint64_t have = 0;
  for (size_t i = 0; i < entry->chunks.size() && have < wanted; ++i) {
    payloads.emplace_back();
    read = co_await relay.segments().Read(queue.spool->shard_directory(), entry->chunks[i],
                                          &payloads.back());
    if (!read.ok()) co_return read;
    absl::StatusOr<queue::Record> chunk = queue::DecodeRecord(payloads.back());
    if (!chunk.ok()) co_return chunk.status();
    const auto* body = std::get_if<queue::BodyChunk>(&*chunk);
    if (body == nullptr) co_return absl::DataLossError("not a BodyChunk");
    pieces.push_back(body->data);
    have += body->data.size();
  }
  entry = queue.index.Find(message_id);  // may have moved during the reads
  if (entry == nullptr) co_return uint64_t{0};
  request.original = DsnOriginalMessage{absl::MakeConstSpan(pieces), entry->body_bytes};
  std::optional<GeneratedDsn> dsn = GenerateDsn(request, options);
  if (!dsn) co_return uint64_t{0};
  std::vector<std::string> recipients = {dsn->envelope_recipient};
  co_return co_await QueueLocalMessage(queue, dsn->envelope_sender, recipients,
                                       dsn->message, dsn->requires_smtputf8,
                                       dsn->requires_8bitmime);
}

}  // namespace ringmta::relay
