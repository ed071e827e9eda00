// The queue's typed logical records and their exact encodings
// (docs/queue_format.md §4): encode asserts our own data is valid before it is
// written; decode treats bytes as untrusted and returns DataLoss, never
// crashes. Not here: framing (log_writer.h), or folding records into state.
#ifndef RINGMTA_QUEUE_RECORDS_H_
#define RINGMTA_QUEUE_RECORDS_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace ringmta::queue {

enum class RecordType : uint8_t {
  kSegmentHeader = 1,
  kMessageBegin = 2,
  kBodyChunk = 3,
  kMessageCommit = 4,
  kRecipientDelivered = 5,
  kRecipientDeferred = 6,
  kRecipientFailed = 7,
  kMessageDone = 8,
  kMessageMoved = 9,
};
std::string_view RecordTypeName(RecordType type);
// Every record type is at version 1; a new field makes a new version.
inline constexpr uint8_t kRecordVersion = 1;
// Bytes 2..9 of every message-scoped record (types 2..9) are its message id.
inline constexpr size_t kMessageIdOffset = 2;

// First record of every segment: ties the file to its shard and number.
struct SegmentHeader {
  uint16_t shard = 0;
  uint32_t segment = 0;
  int64_t created_ms = 0;
};

// ESMTP BODY= (RFC 6152, RFC 3030).
enum class BodyType : uint8_t { kNotGiven = 0, k7Bit = 1, k8BitMime = 2, kBinaryMime = 3 };
// DSN RET= (RFC 3461 §4.3).
enum class DsnRet : uint8_t { kNotGiven = 0, kFull = 1, kHeaders = 2 };
// DSN NOTIFY= (RFC 3461 §4.1) bits; 0 means the parameter was not given.
inline constexpr uint8_t kNotifyNever = 1;
inline constexpr uint8_t kNotifySuccess = 2;
inline constexpr uint8_t kNotifyFailure = 4;
inline constexpr uint8_t kNotifyDelay = 8;

struct Recipient {
  std::string address;  // Forward-path without <>.
  uint8_t notify = 0;
  std::string orcpt;    // ORCPT= as received, xtext.
};

struct MessageBegin {
  uint64_t message_id = 0;
  int64_t received_ms = 0;
  int64_t deadline_ms = 0;
  bool smtputf8 = false;
  BodyType body_type = BodyType::kNotGiven;
  DsnRet ret = DsnRet::kNotGiven;
  uint64_t declared_size = 0;  // SIZE=, 0 if not given.
  std::string sender;          // Reverse-path without <>; empty is <>.
  std::string envid;
  std::string client_address;
  std::string client_helo;
  std::string auth_user;
  std::vector<Recipient> recipients;
};

// data views the decoded payload (or the caller's buffer when encoding).
struct BodyChunk {
  uint64_t message_id = 0;
  uint64_t chunk_index = 0;
  std::string_view data;
};

// The commit: a message exists once this is durable (queue_format §4.5).
struct MessageCommit {
  uint64_t message_id = 0;
  uint64_t body_bytes = 0;
  uint32_t body_crc32c = 0;  // Unmasked CRC32C of the whole body.
  uint64_t chunk_count = 0;
};

// RFC 3463 enhanced status code class.subject.detail.
struct EnhancedStatus {
  uint8_t code_class = 0;
  uint16_t subject = 0;
  uint16_t detail = 0;
};

struct RecipientOutcome {
  uint64_t message_id = 0;
  uint32_t recipient = 0;  // Index into MessageBegin::recipients.
  int64_t at_ms = 0;
  EnhancedStatus status;
  std::string remote_host;
  std::string response;
};

struct RecipientDelivered {
  RecipientOutcome outcome;
};
struct RecipientDeferred {
  RecipientOutcome outcome;
  uint32_t attempts = 0;
  int64_t retry_at_ms = 0;
};
struct RecipientFailed {
  RecipientOutcome outcome;  // Final; the DSN is built from it.
};

enum class DoneReason : uint8_t { kAllFinal = 1, kExpired = 2, kDeleted = 3 };

struct MessageDone {
  uint64_t message_id = 0;
  int64_t at_ms = 0;
  DoneReason reason = DoneReason::kAllFinal;
};

// Closes a compacted copy of a live message (queue_format §4.8): the
// MessageBegin ... MessageCommit and outcome records just before it, for the
// same id, replace every earlier record of the message.
struct MessageMoved {
  uint64_t message_id = 0;
  int64_t at_ms = 0;
};

using Record = std::variant<SegmentHeader, MessageBegin, BodyChunk, MessageCommit,
                            RecipientDelivered, RecipientDeferred, RecipientFailed, MessageDone,
                            MessageMoved>;

// Validation: the rules of queue_format §4, as InvalidArgument naming the
// field. Encoders CHECK them (a violation is our bug); decoders apply them to
// untrusted bytes and return DataLoss.
absl::Status Validate(const SegmentHeader& record);
absl::Status Validate(const MessageBegin& record);
absl::Status Validate(const BodyChunk& record);
absl::Status Validate(const MessageCommit& record);
absl::Status Validate(const RecipientDelivered& record);
absl::Status Validate(const RecipientDeferred& record);
absl::Status Validate(const RecipientFailed& record);
absl::Status Validate(const MessageDone& record);
absl::Status Validate(const MessageMoved& record);

// Encoders return the payload of one logical record.
std::string EncodeSegmentHeader(const SegmentHeader& record);
std::string EncodeMessageBegin(const MessageBegin& record);
// Everything of a BodyChunk but its data, so a streamed body is framed as
// LogWriter::Append({prefix, data}) without another copy.
std::string EncodeBodyChunkPrefix(uint64_t message_id, uint64_t chunk_index, size_t data_bytes);
std::string EncodeBodyChunk(const BodyChunk& record);
std::string EncodeMessageCommit(const MessageCommit& record);
std::string EncodeRecipientDelivered(const RecipientDelivered& record);
std::string EncodeRecipientDeferred(const RecipientDeferred& record);
std::string EncodeRecipientFailed(const RecipientFailed& record);
std::string EncodeMessageDone(const MessageDone& record);
std::string EncodeMessageMoved(const MessageMoved& record);
std::string EncodeRecord(const Record& record);

// Decodes and validates one payload. A BodyChunk's data views `payload`.
absl::StatusOr<Record> DecodeRecord(std::string_view payload);

// The message a payload belongs to, read from its fixed prefix without
// decoding the rest, so a record that fails DecodeRecord can still name the
// message to quarantine (queue_format §3.1). Empty if the prefix is unusable.
std::optional<uint64_t> PeekMessageId(std::string_view payload);

// A body as its chunks go by: the writer adds each chunk as it appends it and
// then appends Commit(); a reader adds them in log order and Verify()s the
// commit. Both sides share one definition of "complete" (queue_format §4.5).
class BodyTally {
 public:
  // Writer: the next chunk's data; returns its chunk_index. CHECKs that data is
  // 1..kBodyChunkBytesMax bytes and the body stays within kMessageBytesMax.
  uint64_t Add(std::string_view data);
  // Reader: DataLoss if chunk.chunk_index is not the next index or the body
  // grows past kMessageBytesMax.
  absl::Status AddChunk(const BodyChunk& chunk);

  MessageCommit Commit(uint64_t message_id) const;
  // DataLoss naming the first mismatch of count, size or CRC.
  absl::Status Verify(const MessageCommit& commit) const;

  uint64_t chunks() const { return chunks_; }
  uint64_t bytes() const { return bytes_; }

 private:
  uint64_t chunks_ = 0;
  uint64_t bytes_ = 0;
  uint32_t crc_ = 0;
};

}  // namespace ringmta::queue

#endif  // RINGMTA_QUEUE_RECORDS_H_
