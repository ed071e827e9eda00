// Read-only access to one shard's segment files with plain blocking POSIX
// I/O: list them, and walk one through LogReader with a fixed buffer. Shared
// by recovery (which then truncates) and tools/queue_dump (which never
// writes). Not here: what records mean (recovery.h) or the live spool.
#ifndef RINGMTA_QUEUE_SEGMENT_SCAN_H_
#define RINGMTA_QUEUE_SEGMENT_SCAN_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "queue/log_reader.h"

namespace ringmta::queue {

// Read buffer: a multiple of the block, so no piece but the last cuts one;
// 1 MiB keeps syscalls few without ever holding a 1 GiB segment in memory.
inline constexpr size_t kScanBufferBytes = size_t{1} << 20;

struct SegmentFile {
  uint32_t number = 0;
  std::string path;
};

// "shard-K" under a spool root.
std::string ShardDirectory(const std::string& spool_directory, int shard);
// "NNNNNNNN.seg" (queue_format §1).
std::string SegmentFileName(uint32_t number);
// The number a segment file name stands for; 0 if it is not one (other
// files, "0.seg", numbers past 2^32 - 1, signs or spaces).
uint32_t ParseSegmentFileName(const std::string& name);

// The directory's segment files, ascending by number (parsed, not sorted as
// names). NotFound if the directory does not exist.
absl::StatusOr<std::vector<SegmentFile>> ListSegments(const std::string& shard_directory);

class SegmentVisitor {
 public:
  virtual ~SegmentVisitor() = default;
  // Each logical record in order; record.payload is valid during the call.
  virtual void Record(const LogRecord& record) = 0;
  // Mid-log damage, before the record that follows it.
  virtual void Damage(const LogDamage& damage) = 0;
};

struct SegmentScan {
  uint64_t file_bytes = 0;
  LogEnd end;
  LogReaderStats stats;
};

// Reads the whole file read-only, in kScanBufferBytes pieces through
// *buffer (reused across calls), and reports to `visitor`. Errors are I/O
// failures only; damaged bytes are reported, never an error.
absl::StatusOr<SegmentScan> ScanSegment(const SegmentFile& file, SegmentVisitor* visitor,
                                        std::string* buffer);

// Reads back the one logical record at [offset, end_offset) of a segment
// (a location the index holds), checking its framing: the payload, or
// DataLoss if no intact record of that segment is there.
absl::StatusOr<std::string> ReadRecordAt(const std::string& path, uint32_t segment,
                                         uint64_t offset, uint64_t end_offset);

}  // namespace ringmta::queue

#endif  // RINGMTA_QUEUE_SEGMENT_SCAN_H_
