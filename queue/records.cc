// Validation and encoding of logical records, field by field in the order of
// queue_format §4; decoding lives in records_decode.cc.
#include "queue/records.h"

#include "absl/strings/str_format.h"
#include "mta/base/check.h"
#include "mta/base/limits.h"
#include "mta/base/log.h"
#include "mta/base/status.h"
#include "queue/coding.h"
#include "queue/crc32c.h"
#include "queue/queue_limits.h"

namespace ringmta::queue {
namespace {

// The largest MessageBegin must fit a logical record (queue_limits.h).
constexpr size_t StringBytesMax(size_t bytes) { return kVarintBytesMax + bytes; }
constexpr size_t kMessageBeginBytesMax =
    2 + 3 * 8 + 3 + kVarintBytesMax + StringBytesMax(kAddressBytesMax) +
    StringBytesMax(kEnvidBytesMax) + StringBytesMax(kClientAddressBytesMax) +
    StringBytesMax(kHostBytesMax) + StringBytesMax(kAuthUserBytesMax) + kVarintBytesMax +
    limits::kSmtpRecipientsMax *
        (StringBytesMax(kAddressBytesMax) + 1 + StringBytesMax(kOrcptBytesMax));
static_assert(kMessageBeginBytesMax <= kLogRecordBytesMax);
static_assert(StringBytesMax(kBodyChunkBytesMax) + 2 + 8 + kVarintBytesMax <= kLogRecordBytesMax);

absl::Status Invalid(std::string_view field, std::string_view problem) {
  return absl::InvalidArgumentError(absl::StrFormat("%s: %s", field, problem));
}

absl::Status CheckTime(std::string_view field, int64_t ms) {
  if (ms < 0 || ms > kWallMsMax) return Invalid(field, absl::StrFormat("time %d out of range", ms));
  return absl::OkStatus();
}

absl::Status CheckLength(std::string_view field, std::string_view value, size_t max) {
  if (value.size() > max) {
    return Invalid(field, absl::StrFormat("%d bytes, more than %d", value.size(), max));
  }
  return absl::OkStatus();
}

absl::Status CheckMessageId(uint64_t message_id) {
  return message_id == 0 ? Invalid("message_id", "zero") : absl::OkStatus();
}

absl::Status ValidateRecipient(const Recipient& recipient) {
  if (recipient.address.empty()) return Invalid("address", "empty");
  RETURN_IF_ERROR(CheckLength("address", recipient.address, kAddressBytesMax));
  uint8_t notify = recipient.notify;
  if ((notify & ~0x0f) != 0 || ((notify & kNotifyNever) != 0 && notify != kNotifyNever)) {
    return Invalid("notify", absl::StrFormat("bad set 0x%02x", notify));
  }
  return CheckLength("orcpt", recipient.orcpt, kOrcptBytesMax);
}

absl::Status ValidateOutcome(const RecipientOutcome& outcome, bool class_2, bool class_4,
                             bool class_5) {
  RETURN_IF_ERROR(CheckMessageId(outcome.message_id));
  if (outcome.recipient >= limits::kSmtpRecipientsMax) {
    return Invalid("recipient", absl::StrFormat("index %d", outcome.recipient));
  }
  RETURN_IF_ERROR(CheckTime("at_ms", outcome.at_ms));
  const EnhancedStatus& s = outcome.status;
  bool class_ok = (s.code_class == 2 && class_2) || (s.code_class == 4 && class_4) ||
                  (s.code_class == 5 && class_5);
  if (!class_ok || s.subject > 999 || s.detail > 999) {
    return Invalid("status", absl::StrFormat("%d.%d.%d not allowed here", s.code_class,
                                             s.subject, s.detail));
  }
  RETURN_IF_ERROR(CheckLength("remote_host", outcome.remote_host, kHostBytesMax));
  return CheckLength("response", outcome.response, kResponseBytesMax);
}

// Appends type and version, the start of every record.
std::string Start(RecordType type, size_t reserve_bytes) {
  std::string out;
  out.reserve(2 + reserve_bytes);
  out.push_back(static_cast<char>(type));
  out.push_back(static_cast<char>(kRecordVersion));
  return out;
}

void PutString(std::string* out, std::string_view value) {
  PutVarint(out, value.size());
  out->append(value.data(), value.size());
}

void PutOutcome(std::string* out, const RecipientOutcome& outcome) {
  PutFixed64(out, outcome.message_id);
  PutVarint(out, outcome.recipient);
  PutFixed64(out, static_cast<uint64_t>(outcome.at_ms));
  out->push_back(static_cast<char>(outcome.status.code_class));
  PutVarint(out, outcome.status.subject);
  PutVarint(out, outcome.status.detail);
  PutString(out, outcome.remote_host);
  PutString(out, outcome.response);
}

// Assert data right before it goes to disk (STYLE §6): our records are valid.
template <typename T>
void CheckValid(const T& record, std::string_view name) {
  absl::Status status = Validate(record);
  if (!status.ok()) {
    Log(LogLevel::kError, "encoding invalid %s: %s", name, status.ToString());
  }
  CHECK(status.ok());
}

}  // namespace

std::string_view RecordTypeName(RecordType type) {
  switch (type) {
    case RecordType::kSegmentHeader: return "SegmentHeader";
    case RecordType::kMessageBegin: return "MessageBegin";
    case RecordType::kBodyChunk: return "BodyChunk";
    case RecordType::kMessageCommit: return "MessageCommit";
    case RecordType::kRecipientDelivered: return "RecipientDelivered";
    case RecordType::kRecipientDeferred: return "RecipientDeferred";
    case RecordType::kRecipientFailed: return "RecipientFailed";
    case RecordType::kMessageDone: return "MessageDone";
    case RecordType::kMessageMoved: return "MessageMoved";
  }
  return "unknown";
}

absl::Status Validate(const SegmentHeader& record) {
  if (record.shard >= limits::kShardsMax) return Invalid("shard", "too large");
  if (record.segment == 0) return Invalid("segment", "zero");
  return CheckTime("created_ms", record.created_ms);
}

absl::Status Validate(const MessageBegin& record) {
  RETURN_IF_ERROR(CheckMessageId(record.message_id));
  RETURN_IF_ERROR(CheckTime("received_ms", record.received_ms));
  RETURN_IF_ERROR(CheckTime("deadline_ms", record.deadline_ms));
  if (record.deadline_ms < record.received_ms) return Invalid("deadline_ms", "before received_ms");
  if (record.body_type > BodyType::kBinaryMime) return Invalid("body_type", "unknown");
  if (record.ret > DsnRet::kHeaders) return Invalid("ret", "unknown");
  if (record.declared_size > kMessageBytesMax) return Invalid("declared_size", "too large");
  RETURN_IF_ERROR(CheckLength("sender", record.sender, kAddressBytesMax));
  RETURN_IF_ERROR(CheckLength("envid", record.envid, kEnvidBytesMax));
  RETURN_IF_ERROR(CheckLength("client_address", record.client_address, kClientAddressBytesMax));
  RETURN_IF_ERROR(CheckLength("client_helo", record.client_helo, kHostBytesMax));
  RETURN_IF_ERROR(CheckLength("auth_user", record.auth_user, kAuthUserBytesMax));
  if (record.recipients.empty() || record.recipients.size() > limits::kSmtpRecipientsMax) {
    return Invalid("recipients", absl::StrFormat("count %d", record.recipients.size()));
  }
  for (size_t i = 0; i < record.recipients.size(); ++i) {
    absl::Status status = ValidateRecipient(record.recipients[i]);
    if (!status.ok()) {
      return Invalid(absl::StrFormat("recipient %d", i), std::string(status.message()));
    }
  }
  return absl::OkStatus();
}

absl::Status Validate(const BodyChunk& record) {
  RETURN_IF_ERROR(CheckMessageId(record.message_id));
  if (record.chunk_index >= kBodyChunksMax) return Invalid("chunk_index", "too large");
  if (record.data.empty()) return Invalid("data", "empty");
  return CheckLength("data", record.data, kBodyChunkBytesMax);
}

absl::Status Validate(const MessageCommit& record) {
  RETURN_IF_ERROR(CheckMessageId(record.message_id));
  if (record.body_bytes > kMessageBytesMax) return Invalid("body_bytes", "too large");
  uint64_t chunks_min = (record.body_bytes + kBodyChunkBytesMax - 1) / kBodyChunkBytesMax;
  if (record.chunk_count < chunks_min || record.chunk_count > record.body_bytes) {
    return Invalid("chunk_count", absl::StrFormat("%d chunks cannot hold %d bytes",
                                                  record.chunk_count, record.body_bytes));
  }
  return absl::OkStatus();
}

absl::Status Validate(const RecipientDelivered& record) {
  return ValidateOutcome(record.outcome, true, false, false);
}

absl::Status Validate(const RecipientDeferred& record) {
  RETURN_IF_ERROR(ValidateOutcome(record.outcome, false, true, false));
  if (record.attempts == 0 || record.attempts > kAttemptsMax) {
    return Invalid("attempts", absl::StrFormat("%d", record.attempts));
  }
  RETURN_IF_ERROR(CheckTime("retry_at_ms", record.retry_at_ms));
  if (record.retry_at_ms < record.outcome.at_ms) return Invalid("retry_at_ms", "before at_ms");
  return absl::OkStatus();
}

absl::Status Validate(const RecipientFailed& record) {
  return ValidateOutcome(record.outcome, false, true, true);
}

absl::Status Validate(const MessageDone& record) {
  RETURN_IF_ERROR(CheckMessageId(record.message_id));
  RETURN_IF_ERROR(CheckTime("at_ms", record.at_ms));
  if (record.reason < DoneReason::kAllFinal || record.reason > DoneReason::kDeleted) {
    return Invalid("reason", "unknown");
  }
  return absl::OkStatus();
}

absl::Status Validate(const MessageMoved& record) {
  RETURN_IF_ERROR(CheckMessageId(record.message_id));
  return CheckTime("at_ms", record.at_ms);
}

std::string EncodeSegmentHeader(const SegmentHeader& record) {
  CheckValid(record, "SegmentHeader");
  std::string out = Start(RecordType::kSegmentHeader, 14);
  PutFixed16(&out, record.shard);
  PutFixed32(&out, record.segment);
  PutFixed64(&out, static_cast<uint64_t>(record.created_ms));
  return out;
}

std::string EncodeMessageBegin(const MessageBegin& record) {
  CheckValid(record, "MessageBegin");
  std::string out = Start(RecordType::kMessageBegin, 128 + 64 * record.recipients.size());
  PutFixed64(&out, record.message_id);
  PutFixed64(&out, static_cast<uint64_t>(record.received_ms));
  PutFixed64(&out, static_cast<uint64_t>(record.deadline_ms));
  out.push_back(static_cast<char>(record.smtputf8 ? 1 : 0));
  out.push_back(static_cast<char>(record.body_type));
  out.push_back(static_cast<char>(record.ret));
  PutVarint(&out, record.declared_size);
  PutString(&out, record.sender);
  PutString(&out, record.envid);
  PutString(&out, record.client_address);
  PutString(&out, record.client_helo);
  PutString(&out, record.auth_user);
  PutVarint(&out, record.recipients.size());
  for (const Recipient& recipient : record.recipients) {
    PutString(&out, recipient.address);
    out.push_back(static_cast<char>(recipient.notify));
    PutString(&out, recipient.orcpt);
  }
  CHECK(out.size() <= kMessageBeginBytesMax);
  return out;
}

std::string EncodeBodyChunkPrefix(uint64_t message_id, uint64_t chunk_index, size_t data_bytes) {
  CHECK(message_id != 0 && chunk_index < kBodyChunksMax);
  CHECK(data_bytes > 0 && data_bytes <= kBodyChunkBytesMax);
  std::string out = Start(RecordType::kBodyChunk, 8 + 2 * kVarintBytesMax);
  PutFixed64(&out, message_id);
  PutVarint(&out, chunk_index);
  PutVarint(&out, data_bytes);
  return out;
}

std::string EncodeBodyChunk(const BodyChunk& record) {
  CheckValid(record, "BodyChunk");
  std::string out = EncodeBodyChunkPrefix(record.message_id, record.chunk_index, record.data.size());
  out.append(record.data.data(), record.data.size());
  return out;
}

std::string EncodeMessageCommit(const MessageCommit& record) {
  CheckValid(record, "MessageCommit");
  std::string out = Start(RecordType::kMessageCommit, 8 + 4 + 2 * kVarintBytesMax);
  PutFixed64(&out, record.message_id);
  PutVarint(&out, record.body_bytes);
  PutFixed32(&out, record.body_crc32c);
  PutVarint(&out, record.chunk_count);
  return out;
}

std::string EncodeRecipientDelivered(const RecipientDelivered& record) {
  CheckValid(record, "RecipientDelivered");
  std::string out = Start(RecordType::kRecipientDelivered, 64 + record.outcome.response.size());
  PutOutcome(&out, record.outcome);
  return out;
}

std::string EncodeRecipientDeferred(const RecipientDeferred& record) {
  CheckValid(record, "RecipientDeferred");
  std::string out = Start(RecordType::kRecipientDeferred, 80 + record.outcome.response.size());
  PutOutcome(&out, record.outcome);
  PutVarint(&out, record.attempts);
  PutFixed64(&out, static_cast<uint64_t>(record.retry_at_ms));
  return out;
}

std::string EncodeRecipientFailed(const RecipientFailed& record) {
  CheckValid(record, "RecipientFailed");
  std::string out = Start(RecordType::kRecipientFailed, 64 + record.outcome.response.size());
  PutOutcome(&out, record.outcome);
  return out;
}

std::string EncodeMessageDone(const MessageDone& record) {
  CheckValid(record, "MessageDone");
  std::string out = Start(RecordType::kMessageDone, 17);
  PutFixed64(&out, record.message_id);
  PutFixed64(&out, static_cast<uint64_t>(record.at_ms));
  out.push_back(static_cast<char>(record.reason));
  return out;
}

std::string EncodeMessageMoved(const MessageMoved& record) {
  CheckValid(record, "MessageMoved");
  std::string out = Start(RecordType::kMessageMoved, 16);
  PutFixed64(&out, record.message_id);
  PutFixed64(&out, static_cast<uint64_t>(record.at_ms));
  return out;
}

std::string EncodeRecord(const Record& record) {
  struct Encoder {
    std::string operator()(const SegmentHeader& r) { return EncodeSegmentHeader(r); }
    std::string operator()(const MessageBegin& r) { return EncodeMessageBegin(r); }
    std::string operator()(const BodyChunk& r) { return EncodeBodyChunk(r); }
    std::string operator()(const MessageCommit& r) { return EncodeMessageCommit(r); }
    std::string operator()(const RecipientDelivered& r) { return EncodeRecipientDelivered(r); }
    std::string operator()(const RecipientDeferred& r) { return EncodeRecipientDeferred(r); }
    std::string operator()(const RecipientFailed& r) { return EncodeRecipientFailed(r); }
    std::string operator()(const MessageDone& r) { return EncodeMessageDone(r); }
    std::string operator()(const MessageMoved& r) { return EncodeMessageMoved(r); }
  };
  return std::visit(Encoder{}, record);
}

std::optional<uint64_t> PeekMessageId(std::string_view payload) {
  if (payload.size() < kMessageIdOffset + 8) return std::nullopt;
  auto type = static_cast<uint8_t>(payload[0]);
  if (type < static_cast<uint8_t>(RecordType::kMessageBegin) ||
      type > static_cast<uint8_t>(RecordType::kMessageMoved)) {
    return std::nullopt;
  }
  uint64_t message_id = DecodeFixed64(payload.data() + kMessageIdOffset);
  if (message_id == 0) return std::nullopt;
  return message_id;
}

}  // namespace ringmta::queue
