// libFuzzer target: arbitrary bytes as a segment file through LogReader, fed
// in pieces whose sizes the input chooses (block-aligned, as the contract
// requires), checking what the reader promises: records and damage lie
// inside the data, in order, never overlapping, and the end offset is sane.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "mta/base/check.h"
#include "queue/log_format.h"
#include "queue/log_reader.h"
#include "queue/queue_limits.h"
#include "queue/records.h"

using namespace ringmta::queue;

namespace {

class Checker : public LogReporter {
 public:
  void Damage(const LogDamage& damage) override {
    CHECK(damage.bytes > 0);
    CHECK(damage.offset >= last_end_);
    CHECK(damage.problem_offset >= damage.offset);
    CHECK(damage.problem_offset < damage.offset + damage.bytes);
    last_end_ = damage.offset + damage.bytes;
  }
  uint64_t last_end_ = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  // First byte: segment number (1..255); second: piece size in blocks (0 = all).
  const uint32_t segment = data[0] == 0 ? 1 : data[0];
  const size_t piece_bytes = size_t{data[1]} * kBlockBytes;
  const std::string_view image(reinterpret_cast<const char*>(data) + 2, size - 2);
  Checker checker;
  LogReader reader(segment, &checker);
  size_t fed = 0;
  uint64_t last_end = 0;
  for (;;) {
    LogRecord record;
    LogReader::Step step = reader.Next(&record);
    if (step == LogReader::Step::kEnd) break;
    if (step == LogReader::Step::kRecord) {
      CHECK(record.offset >= last_end && record.offset >= checker.last_end_);
      CHECK(record.end_offset > record.offset && record.end_offset <= image.size());
      CHECK(record.payload.size() <= kLogRecordBytesMax);
      last_end = record.end_offset;
      (void)DecodeRecord(record.payload);  // Whatever was framed must decode safely too.
      continue;
    }
    if (fed == image.size()) {
      reader.Finish();
      continue;
    }
    size_t take = piece_bytes == 0 ? image.size() - fed : std::min(piece_bytes, image.size() - fed);
    reader.Feed(image.substr(fed, take));
    fed += take;
  }
  const LogEnd& end = reader.end();
  CHECK(end.data_end == image.size());
  CHECK(end.offset >= last_end && end.offset <= end.data_end);
  CHECK(end.tail.has_value() == (end.offset < end.data_end));
  return 0;
}
