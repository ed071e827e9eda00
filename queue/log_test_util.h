// Test helpers for the log: write records into a segment image, read an image
// back (whole or in pieces) collecting records, damage and the end, and forge
// raw physical records. Test-only; not a reader or writer in its own right.
#ifndef RINGMTA_QUEUE_LOG_TEST_UTIL_H_
#define RINGMTA_QUEUE_LOG_TEST_UTIL_H_

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "queue/coding.h"
#include "queue/crc32c.h"
#include "queue/log_format.h"
#include "queue/log_reader.h"
#include "queue/log_writer.h"
#include "queue/queue_limits.h"

namespace ringmta::queue::testing {

inline constexpr uint32_t kSegment = 7;

struct ReadRecord {
  uint64_t offset;
  uint64_t end_offset;
  std::string payload;
};

struct ReadResult {
  std::vector<ReadRecord> records;
  std::vector<LogDamage> damage;
  LogEnd end;
  LogReaderStats stats;
};

class CollectingReporter : public LogReporter {
 public:
  explicit CollectingReporter(std::vector<LogDamage>* out) : out_(out) {}
  void Damage(const LogDamage& damage) override { out_->push_back(damage); }

 private:
  std::vector<LogDamage>* out_;
};

// Reads `image` (the file from start_offset on), fed in pieces of piece_bytes
// (a multiple of kBlockBytes; 0 = all at once). A mid-block start_offset is
// first fed up to the block boundary, as LogReader::Feed requires.
inline ReadResult ReadImage(std::string_view image, size_t piece_bytes = 0,
                            uint32_t segment = kSegment, uint64_t start_offset = 0) {
  ReadResult result;
  CollectingReporter reporter(&result.damage);
  LogReader reader(segment, &reporter, start_offset);
  size_t fed = 0;
  for (;;) {
    LogRecord record;
    LogReader::Step step = reader.Next(&record);
    if (step == LogReader::Step::kEnd) break;
    if (step == LogReader::Step::kRecord) {
      result.records.push_back({record.offset, record.end_offset, std::string(record.payload)});
      continue;
    }
    if (fed == image.size()) {
      reader.Finish();
      continue;
    }
    size_t take = image.size() - fed;
    size_t to_boundary = kBlockBytes - (start_offset + fed) % kBlockBytes;
    if (to_boundary != kBlockBytes) {
      take = std::min(take, to_boundary);  // Realign pieces after a mid-block start.
    } else if (piece_bytes != 0) {
      take = std::min(take, piece_bytes);
    }
    reader.Feed(image.substr(fed, take));
    fed += take;
  }
  result.end = reader.end();
  result.stats = reader.stats();
  return result;
}

// Frames `payloads` into a new segment and returns the image (without the
// zero fill after it); spans receive each record's location.
inline std::string WriteImage(const std::vector<std::string>& payloads,
                              std::vector<LogSpan>* spans = nullptr, uint32_t segment = kSegment) {
  LogWriter writer(segment, kSegmentBytesMin);
  for (const std::string& payload : payloads) {
    LogSpan span = writer.Append(payload);
    if (spans != nullptr) spans->push_back(span);
  }
  return writer.TakeBatch().bytes;
}

// A physical record with a correct CRC for any type, payload and segment:
// forges what our writer never writes.
inline std::string Fragment(uint8_t type, std::string_view payload, uint32_t segment = kSegment) {
  std::string out(kHeaderBytes, '\0');
  EncodeFixed16(out.data() + kHeaderLengthOffset, static_cast<uint16_t>(payload.size()));
  out[kHeaderTypeOffset] = static_cast<char>(type);
  EncodeFixed32(out.data() + kHeaderSegmentOffset, segment);
  out.append(payload.data(), payload.size());
  uint32_t crc = crc32c::Value(std::string_view(out.data() + kHeaderTypeOffset,
                                                kHeaderCrcCoveredBytes + payload.size()));
  EncodeFixed32(out.data() + kHeaderCrcOffset, crc32c::Mask(crc));
  return out;
}

// Pads `image` with zeros up to the next block boundary.
inline void PadToBlock(std::string* image) {
  image->resize((image->size() + kBlockBytes - 1) / kBlockBytes * kBlockBytes, '\0');
}

// A payload whose bytes depend on its index, so misplaced bytes show.
inline std::string Payload(size_t bytes, uint32_t seed) {
  std::string out(bytes, '\0');
  uint32_t x = seed * 2654435761u + 1;
  for (char& c : out) {
    x = x * 1103515245u + 12345u;
    c = static_cast<char>(x >> 24);
  }
  return out;
}

}  // namespace ringmta::queue::testing

#endif  // RINGMTA_QUEUE_LOG_TEST_UTIL_H_
