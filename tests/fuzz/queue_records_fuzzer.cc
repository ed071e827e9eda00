// libFuzzer target: DecodeRecord and PeekMessageId on arbitrary payloads.
// Whatever decodes must be valid, and must re-encode to exactly the input
// (every value has one encoding: queue_format §4.1), so decode and encode
// can never disagree about what is on disk.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "mta/base/check.h"
#include "queue/records.h"

using namespace ringmta::queue;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view payload(reinterpret_cast<const char*>(data), size);
  const absl::StatusOr<Record> record = DecodeRecord(payload);
  const std::optional<uint64_t> id = PeekMessageId(payload);
  if (!record.ok()) {
    CHECK(absl::IsDataLoss(record.status()));
    return 0;
  }
  CHECK(EncodeRecord(*record) == payload);
  // Message-scoped records name their message at the fixed offset.
  CHECK(id.has_value() == !std::holds_alternative<SegmentHeader>(*record));
  if (const auto* chunk = std::get_if<BodyChunk>(&*record)) {
    CHECK(chunk->data.data() >= payload.data() &&
          chunk->data.data() + chunk->data.size() <= payload.data() + payload.size());
    BodyTally tally;
    if (tally.AddChunk(*chunk).ok()) CHECK(tally.bytes() == chunk->data.size());
  }
  return 0;
}
