// Frames logical records into the physical log format of one segment, in
// memory (docs/queue_format.md §2.4). Pure: it never touches a file. The
// spool writes each LogBatch at its offset and fdatasyncs before any ack.
#ifndef RINGMTA_QUEUE_LOG_WRITER_H_
#define RINGMTA_QUEUE_LOG_WRITER_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>

#include "queue/log_format.h"

namespace ringmta::queue {

// Where a logical record sits in its segment: [offset, end_offset) covers all
// of its fragments; offset is that of its first header (after any trailer).
struct LogSpan {
  uint64_t offset = 0;
  uint64_t end_offset = 0;
};

// Framed bytes to be written at file_offset. Consecutive batches of a writer
// are contiguous: each starts where the previous one ended.
struct LogBatch {
  uint64_t file_offset = 0;
  std::string bytes;
};

// One writer per segment, owned by the shard that appends to it.
//
// Usage:
//   LogWriter writer(segment_number, segment_bytes);
//   if (!writer.Fits(payload.size())) { /* rotate to the next segment */ }
//   LogSpan span = writer.Append(payload);
//   ...more appends during this loop turn...
//   LogBatch batch = writer.TakeBatch();  // pwrite at batch.file_offset, fdatasync
class LogWriter {
 public:
  // segment_bytes: the preallocated file size, a multiple of kBlockBytes in
  // [kSegmentBytesMin, kSegmentBytesMax]. start_offset: where framing starts;
  // 0 for a new segment (recovery never appends to an old one, §3).
  LogWriter(uint32_t segment_number, uint64_t segment_bytes, uint64_t start_offset = 0);

  LogWriter(const LogWriter&) = delete;
  LogWriter& operator=(const LogWriter&) = delete;

  // Bytes a record of payload_bytes would add if appended now: headers plus a
  // block trailer it may have to pad first.
  uint64_t FramedBytes(size_t payload_bytes) const;
  // Whether such a record fits in the rest of the segment.
  bool Fits(size_t payload_bytes) const;

  // Frames one logical record whose payload is the concatenation of `parts`
  // (a record header and body data need not be copied together first).
  // Preconditions (CHECKed: our own encoders guarantee them): the payload is
  // at most kLogRecordBytesMax and Fits().
  LogSpan Append(std::span<const std::string_view> parts);
  LogSpan Append(std::initializer_list<std::string_view> parts) {
    return Append(std::span<const std::string_view>(parts.begin(), parts.size()));
  }
  LogSpan Append(std::string_view payload) { return Append({payload}); }

  // Moves out everything framed since the last call. `recycled` (for example a
  // buffer whose write has completed) lends its capacity to the next batch.
  LogBatch TakeBatch(std::string recycled = {});

  uint32_t segment_number() const { return segment_number_; }
  uint64_t segment_bytes() const { return segment_bytes_; }
  // File offset just past the last framed byte.
  uint64_t offset() const { return batch_offset_ + pending_.size(); }
  size_t pending_bytes() const { return pending_.size(); }

 private:
  // Emits one fragment of `bytes` payload bytes taken from the parts cursor.
  void EmitFragment(FragmentType type, size_t bytes,
                    std::span<const std::string_view>* parts, size_t* part_offset);

  const uint32_t segment_number_;
  const uint64_t segment_bytes_;
  uint64_t batch_offset_;  // File offset of pending_[0].
  std::string pending_;
  // CRC32C of (type ‖ segment) per fragment type, the fixed prefix of every
  // checksum this writer computes.
  std::array<uint32_t, kFragmentTypeMaxKnown + 1> prefix_crc_;
};

}  // namespace ringmta::queue

#endif  // RINGMTA_QUEUE_LOG_WRITER_H_
