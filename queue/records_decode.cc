// Decoding of logical records from untrusted bytes: every read is bounds-
// checked, every length bounded before use, and any violation is a DataLoss
// naming the record and field. Also BodyTally, the body completeness rule.
#include <algorithm>

#include "absl/strings/str_format.h"
#include "mta/base/check.h"
#include "mta/base/limits.h"
#include "mta/base/status.h"
#include "queue/coding.h"
#include "queue/crc32c.h"
#include "queue/queue_limits.h"
#include "queue/records.h"

namespace ringmta::queue {
namespace {

// Reads fields front to back. The first failure sticks: later reads return
// zero values, so a decode function reads straight through and checks once.
class Decoder {
 public:
  explicit Decoder(std::string_view in) : in_(in) {}

  bool ok() const { return status_.ok(); }
  const absl::Status& status() const { return status_; }

  uint8_t U8(std::string_view field) {
    const char* p = Take(field, 1);
    return p == nullptr ? 0 : static_cast<uint8_t>(*p);
  }
  uint16_t Fixed16(std::string_view field) {
    const char* p = Take(field, 2);
    return p == nullptr ? 0 : DecodeFixed16(p);
  }
  uint32_t Fixed32(std::string_view field) {
    const char* p = Take(field, 4);
    return p == nullptr ? 0 : DecodeFixed32(p);
  }
  uint64_t Fixed64(std::string_view field) {
    const char* p = Take(field, 8);
    return p == nullptr ? 0 : DecodeFixed64(p);
  }
  // Validation rejects negative times, so the cast needs no check here.
  int64_t Time(std::string_view field) { return static_cast<int64_t>(Fixed64(field)); }

  uint64_t Varint(std::string_view field, uint64_t max) {
    if (!ok()) return 0;
    uint64_t value = 0;
    switch (GetVarint(&in_, &value)) {
      case VarintResult::kOk:
        break;
      case VarintResult::kTruncated:
        Fail(field, "truncated varint");
        return 0;
      case VarintResult::kOverflow:
        Fail(field, "varint overflows 64 bits");
        return 0;
      case VarintResult::kNotMinimal:
        Fail(field, "varint not in shortest form");
        return 0;
    }
    if (value > max) {
      Fail(field, absl::StrFormat("%d exceeds %d", value, max));
      return 0;
    }
    return value;
  }

  // A length-prefixed byte string of at most `max` bytes.
  std::string_view Bytes(std::string_view field, size_t max) {
    size_t length = Varint(field, max);
    const char* p = Take(field, length);
    return p == nullptr ? std::string_view() : std::string_view(p, length);
  }
  std::string String(std::string_view field, size_t max) { return std::string(Bytes(field, max)); }

  // DataLoss for a failure or bytes left over (a new field is a new version).
  absl::Status Finish() {
    if (ok() && !in_.empty()) Fail("end", absl::StrFormat("%d trailing bytes", in_.size()));
    return status_;
  }

  void Fail(std::string_view field, std::string_view problem) {
    if (ok()) status_ = absl::DataLossError(absl::StrFormat("%s: %s", field, problem));
  }

 private:
  const char* Take(std::string_view field, size_t bytes) {
    if (!ok()) return nullptr;
    if (in_.size() < bytes) {
      Fail(field, absl::StrFormat("needs %d bytes, %d left", bytes, in_.size()));
      return nullptr;
    }
    const char* p = in_.data();
    in_.remove_prefix(bytes);
    return p;
  }

  std::string_view in_;
  absl::Status status_;
};

// Validation failures of decoded data are damage, not caller errors.
absl::Status AsDataLoss(const absl::Status& status) {
  return status.ok() ? status : absl::DataLossError(status.message());
}

template <typename T>
absl::StatusOr<Record> Checked(Decoder& d, T record) {
  RETURN_IF_ERROR(d.Finish());
  RETURN_IF_ERROR(AsDataLoss(Validate(record)));
  return Record(std::move(record));
}

absl::StatusOr<Record> DecodeSegmentHeader(Decoder& d) {
  SegmentHeader r;
  r.shard = d.Fixed16("shard");
  r.segment = d.Fixed32("segment");
  r.created_ms = d.Time("created_ms");
  return Checked(d, r);
}

absl::StatusOr<Record> DecodeMessageBegin(Decoder& d) {
  MessageBegin r;
  r.message_id = d.Fixed64("message_id");
  r.received_ms = d.Time("received_ms");
  r.deadline_ms = d.Time("deadline_ms");
  uint8_t flags = d.U8("flags");
  if (flags > 1) d.Fail("flags", absl::StrFormat("unknown bits 0x%02x", flags));
  r.smtputf8 = (flags & 1) != 0;
  r.body_type = static_cast<BodyType>(d.U8("body_type"));
  r.ret = static_cast<DsnRet>(d.U8("ret"));
  r.declared_size = d.Varint("declared_size", kMessageBytesMax);
  r.sender = d.String("sender", kAddressBytesMax);
  r.envid = d.String("envid", kEnvidBytesMax);
  r.client_address = d.String("client_address", kClientAddressBytesMax);
  r.client_helo = d.String("client_helo", kHostBytesMax);
  r.auth_user = d.String("auth_user", kAuthUserBytesMax);
  uint64_t count = d.Varint("recipient_count", limits::kSmtpRecipientsMax);
  r.recipients.reserve(count);
  for (uint64_t i = 0; i < count && d.ok(); ++i) {
    Recipient& recipient = r.recipients.emplace_back();
    recipient.address = d.String("recipient address", kAddressBytesMax);
    recipient.notify = d.U8("recipient notify");
    recipient.orcpt = d.String("recipient orcpt", kOrcptBytesMax);
  }
  return Checked(d, std::move(r));
}

absl::StatusOr<Record> DecodeBodyChunk(Decoder& d) {
  BodyChunk r;
  r.message_id = d.Fixed64("message_id");
  r.chunk_index = d.Varint("chunk_index", kBodyChunksMax - 1);
  r.data = d.Bytes("data", kBodyChunkBytesMax);
  return Checked(d, r);
}

absl::StatusOr<Record> DecodeMessageCommit(Decoder& d) {
  MessageCommit r;
  r.message_id = d.Fixed64("message_id");
  r.body_bytes = d.Varint("body_bytes", kMessageBytesMax);
  r.body_crc32c = d.Fixed32("body_crc32c");
  r.chunk_count = d.Varint("chunk_count", kBodyChunksMax);
  return Checked(d, r);
}

RecipientOutcome DecodeOutcome(Decoder& d) {
  RecipientOutcome r;
  r.message_id = d.Fixed64("message_id");
  r.recipient = static_cast<uint32_t>(d.Varint("recipient", limits::kSmtpRecipientsMax - 1));
  r.at_ms = d.Time("at_ms");
  r.status.code_class = d.U8("status class");
  r.status.subject = static_cast<uint16_t>(d.Varint("status subject", 999));
  r.status.detail = static_cast<uint16_t>(d.Varint("status detail", 999));
  r.remote_host = d.String("remote_host", kHostBytesMax);
  r.response = d.String("response", kResponseBytesMax);
  return r;
}

absl::StatusOr<Record> DecodeMessageDone(Decoder& d) {
  MessageDone r;
  r.message_id = d.Fixed64("message_id");
  r.at_ms = d.Time("at_ms");
  r.reason = static_cast<DoneReason>(d.U8("reason"));
  return Checked(d, r);
}

absl::StatusOr<Record> DecodeMessageMoved(Decoder& d) {
  MessageMoved r;
  r.message_id = d.Fixed64("message_id");
  r.at_ms = d.Time("at_ms");
  return Checked(d, r);
}

absl::StatusOr<Record> DecodeBody(RecordType type, Decoder& d) {
  switch (type) {
    case RecordType::kSegmentHeader: return DecodeSegmentHeader(d);
    case RecordType::kMessageBegin: return DecodeMessageBegin(d);
    case RecordType::kBodyChunk: return DecodeBodyChunk(d);
    case RecordType::kMessageCommit: return DecodeMessageCommit(d);
    case RecordType::kRecipientDelivered:
      return Checked(d, RecipientDelivered{DecodeOutcome(d)});
    case RecordType::kRecipientDeferred: {
      RecipientDeferred r{DecodeOutcome(d)};
      r.attempts = static_cast<uint32_t>(d.Varint("attempts", kAttemptsMax));
      r.retry_at_ms = d.Time("retry_at_ms");
      return Checked(d, std::move(r));
    }
    case RecordType::kRecipientFailed:
      return Checked(d, RecipientFailed{DecodeOutcome(d)});
    case RecordType::kMessageDone: return DecodeMessageDone(d);
    case RecordType::kMessageMoved: return DecodeMessageMoved(d);
  }
  return absl::DataLossError("unknown record type");
}

}  // namespace

absl::StatusOr<Record> DecodeRecord(std::string_view payload) {
  if (payload.size() < 2) {
    return absl::DataLossError(absl::StrFormat("record of %d bytes: too short", payload.size()));
  }
  auto type_byte = static_cast<uint8_t>(payload[0]);
  auto version = static_cast<uint8_t>(payload[1]);
  if (type_byte < static_cast<uint8_t>(RecordType::kSegmentHeader) ||
      type_byte > static_cast<uint8_t>(RecordType::kMessageMoved)) {
    return absl::DataLossError(absl::StrFormat("unknown record type %d", type_byte));
  }
  auto type = static_cast<RecordType>(type_byte);
  std::string_view name = RecordTypeName(type);
  if (version != kRecordVersion) {
    return absl::DataLossError(absl::StrFormat("%s: version %d not supported", name, version));
  }
  Decoder decoder(payload.substr(2));
  absl::StatusOr<Record> record = DecodeBody(type, decoder);
  if (!record.ok()) {
    return absl::DataLossError(absl::StrFormat("%s: %s", name, record.status().message()));
  }
  return record;
}

uint64_t BodyTally::Add(std::string_view data) {
  CHECK(!data.empty() && data.size() <= kBodyChunkBytesMax);
  CHECK(bytes_ + data.size() <= kMessageBytesMax);
  crc_ = crc32c::Extend(crc_, data);
  bytes_ += data.size();
  return chunks_++;
}

absl::Status BodyTally::AddChunk(const BodyChunk& chunk) {
  if (chunk.chunk_index != chunks_) {
    return absl::DataLossError(absl::StrFormat("message %d: chunk %d where chunk %d was due",
                                               chunk.message_id, chunk.chunk_index, chunks_));
  }
  if (chunk.data.empty() || chunk.data.size() > kBodyChunkBytesMax ||
      chunk.data.size() > kMessageBytesMax - bytes_) {
    return absl::DataLossError(
        absl::StrFormat("message %d: chunk %d has a bad size", chunk.message_id, chunks_));
  }
  Add(chunk.data);
  return absl::OkStatus();
}

MessageCommit BodyTally::Commit(uint64_t message_id) const {
  MessageCommit commit{message_id, bytes_, crc_, chunks_};
  CHECK(Validate(commit).ok());
  return commit;
}

absl::Status BodyTally::Verify(const MessageCommit& commit) const {
  if (commit.chunk_count != chunks_ || commit.body_bytes != bytes_ ||
      commit.body_crc32c != crc_) {
    return absl::DataLossError(absl::StrFormat(
        "message %d: commit says %d chunks, %d bytes, crc %08x; the log has %d, %d, %08x",
        commit.message_id, commit.chunk_count, commit.body_bytes, commit.body_crc32c, chunks_,
        bytes_, crc_));
  }
  return absl::OkStatus();
}

}  // namespace ringmta::queue
