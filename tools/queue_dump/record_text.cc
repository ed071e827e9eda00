// Formatting of each record type for queue_dump; field order follows
// docs/queue_format.md §4.
#include "tools/queue_dump/record_text.h"

#include <optional>
#include <string_view>
#include <type_traits>
#include <variant>

#include "absl/strings/str_format.h"
#include "mta/base/log.h"

namespace ringmta::queue {
namespace {

// Peer text made printable and bounded, as a quoted field.
std::string Text(std::string_view text, size_t bytes_max = 80) {
  return "\"" + SanitizePeerText(text, bytes_max) + "\"";
}

std::string Outcome(const RecipientOutcome& o) {
  return absl::StrFormat("id=%d rcpt=%d at_ms=%d status=%d.%d.%d host=%s response=%s",
                         o.message_id, o.recipient, o.at_ms, o.status.code_class,
                         o.status.subject, o.status.detail, Text(o.remote_host),
                         Text(o.response));
}

std::string Fields(const MessageBegin& r) {
  std::string line = absl::StrFormat(
      "id=%d received_ms=%d deadline_ms=%d from=%s size=%d envid=%s client=%s helo=%s "
      "auth=%s rcpts=%d",
      r.message_id, r.received_ms, r.deadline_ms, Text(r.sender), r.declared_size, Text(r.envid),
      Text(r.client_address), Text(r.client_helo), Text(r.auth_user), r.recipients.size());
  // The first few recipients; a 1000-recipient line helps nobody.
  for (size_t i = 0; i < r.recipients.size() && i < 3; ++i) {
    line += absl::StrFormat(" to=%s/notify=%d", Text(r.recipients[i].address),
                            r.recipients[i].notify);
  }
  if (r.recipients.size() > 3) line += " ...";
  return line;
}

std::string Fields(const Record& record) {
  struct Visitor {
    std::string operator()(const SegmentHeader& r) {
      return absl::StrFormat("shard=%d segment=%d created_ms=%d", r.shard, r.segment,
                             r.created_ms);
    }
    std::string operator()(const MessageBegin& r) { return Fields(r); }
    std::string operator()(const BodyChunk& r) {
      return absl::StrFormat("id=%d chunk=%d bytes=%d", r.message_id, r.chunk_index,
                             r.data.size());
    }
    std::string operator()(const MessageCommit& r) {
      return absl::StrFormat("id=%d body_bytes=%d crc32c=%08x chunks=%d", r.message_id,
                             r.body_bytes, r.body_crc32c, r.chunk_count);
    }
    std::string operator()(const RecipientDelivered& r) { return Outcome(r.outcome); }
    std::string operator()(const RecipientDeferred& r) {
      return Outcome(r.outcome) +
             absl::StrFormat(" attempts=%d retry_at_ms=%d", r.attempts, r.retry_at_ms);
    }
    std::string operator()(const RecipientFailed& r) { return Outcome(r.outcome); }
    std::string operator()(const MessageDone& r) {
      return absl::StrFormat("id=%d at_ms=%d reason=%d", r.message_id, r.at_ms,
                             static_cast<int>(r.reason));
    }
    std::string operator()(const MessageMoved& r) {
      return absl::StrFormat("id=%d at_ms=%d", r.message_id, r.at_ms);
    }
  };
  return std::visit(Visitor{}, record);
}

// The variant lists the types in RecordType order, from 1.
static_assert(std::is_same_v<std::variant_alternative_t<8, Record>, MessageMoved> &&
              static_cast<int>(RecordType::kMessageMoved) == 9);
std::string_view TypeName(const Record& record) {
  return RecordTypeName(static_cast<RecordType>(record.index() + 1));
}

}  // namespace

std::string RecordLine(uint32_t segment, const LogRecord& record,
                       const absl::StatusOr<Record>& decoded) {
  std::string where = absl::StrFormat("%d@%d+%d", segment, record.offset,
                                      record.end_offset - record.offset);
  if (!decoded.ok()) {
    std::optional<uint64_t> id = PeekMessageId(record.payload);
    return absl::StrFormat("%s UNDECODABLE id=%s %s", where,
                           id ? std::to_string(*id) : std::string("?"),
                           Text(std::string(decoded.status().message()), 200));
  }
  std::string_view name = TypeName(*decoded);
  return absl::StrFormat("%s %s %s", where, absl::string_view(name.data(), name.size()),
                         Fields(*decoded));
}

}  // namespace ringmta::queue
