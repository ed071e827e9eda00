// Fragmenting and padding for LogWriter; the rules are in queue_format §2.4.
#include "queue/log_writer.h"

#include <algorithm>

#include "mta/base/check.h"
#include "queue/coding.h"
#include "queue/crc32c.h"
#include "queue/queue_limits.h"

namespace ringmta::queue {
namespace {

size_t BlockLeft(uint64_t offset) { return kBlockBytes - offset % kBlockBytes; }

}  // namespace

LogWriter::LogWriter(uint32_t segment_number, uint64_t segment_bytes, uint64_t start_offset)
    : segment_number_(segment_number),
      segment_bytes_(segment_bytes),
      batch_offset_(start_offset) {
  CHECK(segment_number != 0);
  CHECK(segment_bytes % kBlockBytes == 0);
  CHECK(segment_bytes >= kSegmentBytesMin && segment_bytes <= kSegmentBytesMax);
  CHECK(start_offset <= segment_bytes);
  for (uint8_t type = 0; type <= kFragmentTypeMaxKnown; ++type) {
    char prefix[kHeaderCrcCoveredBytes];
    prefix[0] = static_cast<char>(type);
    EncodeFixed32(prefix + 1, segment_number);
    prefix_crc_[type] = crc32c::Value(std::string_view(prefix, sizeof(prefix)));
  }
}

uint64_t LogWriter::FramedBytes(size_t payload_bytes) const {
  uint64_t at = offset();
  size_t left = payload_bytes;
  for (;;) {
    size_t block_left = BlockLeft(at);
    if (block_left < kHeaderBytes) {
      at += block_left;  // Trailer.
      continue;
    }
    size_t fragment = std::min(left, block_left - kHeaderBytes);
    at += kHeaderBytes + fragment;
    left -= fragment;
    if (left == 0) return at - offset();
  }
}

bool LogWriter::Fits(size_t payload_bytes) const {
  return payload_bytes <= kLogRecordBytesMax &&
         offset() + FramedBytes(payload_bytes) <= segment_bytes_;
}

LogSpan LogWriter::Append(std::span<const std::string_view> parts) {
  size_t payload_bytes = 0;
  for (std::string_view part : parts) payload_bytes += part.size();
  CHECK(payload_bytes <= kLogRecordBytesMax);
  CHECK(Fits(payload_bytes));
  const uint64_t expected_end = offset() + FramedBytes(payload_bytes);
  pending_.reserve(pending_.size() + (expected_end - offset()));

  LogSpan span;
  size_t left = payload_bytes;
  size_t part_offset = 0;
  bool first = true;
  bool last = false;
  while (!last) {
    size_t block_left = BlockLeft(offset());
    if (block_left < kHeaderBytes) {
      pending_.append(block_left, '\0');  // Trailer: too small for a header.
      continue;
    }
    // Invariant: a fragment starts only where a whole header fits in the block.
    if (first) span.offset = offset();
    size_t fragment = std::min(left, block_left - kHeaderBytes);
    last = fragment == left;
    FragmentType type = first ? (last ? FragmentType::kFull : FragmentType::kFirst)
                              : (last ? FragmentType::kLast : FragmentType::kMiddle);
    EmitFragment(type, fragment, &parts, &part_offset);
    left -= fragment;
    first = false;
  }
  span.end_offset = offset();
  CHECK(span.end_offset == expected_end);
  CHECK(span.end_offset <= segment_bytes_);
  return span;
}

void LogWriter::EmitFragment(FragmentType type, size_t bytes,
                             std::span<const std::string_view>* parts, size_t* part_offset) {
  const size_t header_at = pending_.size();
  pending_.append(kHeaderBytes, '\0');
  size_t copied = 0;
  while (copied < bytes) {
    CHECK(!parts->empty());
    std::string_view part = parts->front().substr(*part_offset);
    size_t take = std::min(part.size(), bytes - copied);
    pending_.append(part.data(), take);
    copied += take;
    *part_offset += take;
    if (*part_offset == parts->front().size()) {
      *parts = parts->subspan(1);
      *part_offset = 0;
    }
  }
  auto type_byte = static_cast<uint8_t>(type);
  uint32_t crc = crc32c::Extend(prefix_crc_[type_byte],
                                std::string_view(pending_.data() + header_at + kHeaderBytes, bytes));
  char* header = pending_.data() + header_at;
  EncodeFixed32(header + kHeaderCrcOffset, crc32c::Mask(crc));
  EncodeFixed16(header + kHeaderLengthOffset, static_cast<uint16_t>(bytes));
  header[kHeaderTypeOffset] = static_cast<char>(type_byte);
  EncodeFixed32(header + kHeaderSegmentOffset, segment_number_);
}

LogBatch LogWriter::TakeBatch(std::string recycled) {
  LogBatch batch;
  batch.file_offset = batch_offset_;
  batch_offset_ += pending_.size();
  recycled.clear();
  batch.bytes = std::move(pending_);
  pending_ = std::move(recycled);
  return batch;
}

}  // namespace ringmta::queue
