// Reads logical records back out of one segment's bytes, reassembling
// fragments and classifying damage (docs/queue_format.md §3). Pure: the caller
// feeds bytes it read or mapped. Not here: decoding payloads (records.h) or
// acting on damage (the recovery layer logs, counts and quarantines).
#ifndef RINGMTA_QUEUE_LOG_READER_H_
#define RINGMTA_QUEUE_LOG_READER_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ringmta::queue {

// Why bytes were dropped; one named kind per check of queue_format §3.
enum class LogProblem : uint8_t {
  kTruncatedHeader,      // The data ends inside a header.
  kZeroType,             // Type 0: zero-filled (preallocated or lost) space.
  kBadLength,            // The fragment would cross its block.
  kTruncatedPayload,     // The data ends inside a payload.
  kChecksumMismatch,     // CRC32C does not match.
  kStaleSegment,         // Intact, but written for another segment number.
  kUnknownType,          // 5..127: required by a later version, not understood.
  kOrphanFragment,       // MIDDLE or LAST with no FIRST before it.
  kMissingLastFragment,  // A FIRST whose record never got its LAST.
  kRecordTooLarge,       // Reassembly would pass kLogRecordBytesMax.
};
std::string_view LogProblemName(LogProblem problem);

// A damaged region: bytes [offset, offset + bytes) were dropped. problem is
// the first one found in the region, at problem_offset.
struct LogDamage {
  uint64_t offset = 0;
  uint64_t bytes = 0;
  LogProblem problem = LogProblem::kZeroType;
  uint64_t problem_offset = 0;

  std::string ToString() const;
};

class LogReporter {
 public:
  virtual ~LogReporter() = default;
  // Mid-log damage: a valid record follows the region; it is called before
  // that record is returned. Never called for the end of the log (LogEnd).
  virtual void Damage(const LogDamage& damage) = 0;
};

// Where the log of this segment ends, known once Next returns kEnd.
struct LogEnd {
  // The truncation point: just past the last record, or the start of an
  // incomplete record; no valid record of this segment starts after it.
  uint64_t offset = 0;
  // End of the bytes the reader was given.
  uint64_t data_end = 0;
  // Non-zero bytes lie between offset and data_end (a torn write, an
  // incomplete record or stale bytes); false for end of data or zero fill.
  bool torn = false;
  // The region after offset, with its first problem; empty if offset == data_end.
  std::optional<LogDamage> tail;
};

// A logical record. payload stays valid until the next Next() or Feed(), and
// while the bytes fed to the reader do.
struct LogRecord {
  uint64_t offset = 0;      // Of its first header.
  uint64_t end_offset = 0;  // Just past its last fragment.
  std::string_view payload;
};

struct LogReaderStats {
  uint64_t records = 0;
  uint64_t ignored_records = 0;  // Skipped for their "safe to ignore" bit.
  uint64_t damaged_regions = 0;  // Reported mid-log damage.
  uint64_t bytes_dropped = 0;    // In those regions.
};

// Incremental, so a shard can replay a 1 GiB segment through a fixed buffer;
// a caller that maps the whole file simply feeds it in one piece. Because no
// fragment crosses a block, a piece that ends on a block boundary never cuts
// a record, so nothing is copied except fragmented records being reassembled
// (bounded by kLogRecordBytesMax).
//
// Usage:
//   LogReader reader(segment_number, &reporter);
//   for (;;) {
//     LogRecord record;
//     LogReader::Step step = reader.Next(&record);
//     if (step == LogReader::Step::kRecord) { Decode(record.payload); continue; }
//     if (step == LogReader::Step::kEnd) break;
//     /* kNeedInput */ if (more) reader.Feed(next_piece); else reader.Finish();
//   }
//   Truncate at reader.end().offset.
class LogReader {
 public:
  enum class Step { kRecord, kNeedInput, kEnd };

  // start_offset: the file offset of the first byte fed; 0 to read the whole
  // segment, or a record's offset to read from there. reporter may be null:
  // damage is then only counted in stats().
  LogReader(uint32_t segment_number, LogReporter* reporter, uint64_t start_offset = 0);

  LogReader(const LogReader&) = delete;
  LogReader& operator=(const LogReader&) = delete;

  // The next bytes of the file. Precondition (CHECKed): the previous piece is
  // used up (Next returned kNeedInput) and it ended on a block boundary — a
  // piece that ends inside a block must be the last one.
  void Feed(std::string_view bytes);
  // The reader keeps a view of the piece: a temporary string would dangle.
  void Feed(std::string&& bytes) = delete;
  // No more bytes: the data ends where the last piece did.
  void Finish();

  Step Next(LogRecord* record);

  // Valid after Next returned kEnd.
  const LogEnd& end() const;
  const LogReaderStats& stats() const { return stats_; }

 private:
  struct Region {
    uint64_t start = 0;
    LogProblem problem = LogProblem::kZeroType;
    uint64_t problem_offset = 0;
    bool nonzero = false;  // Some dropped byte was not zero.
  };

  uint64_t FileOffset() const { return chunk_offset_ + position_; }
  // Checks the physical record at the current position; returns true and
  // sets *record when a logical record is complete.
  bool ReadPhysical(LogRecord* record);
  bool TakeFragment(uint8_t type, std::string_view payload, uint64_t at, size_t bytes,
                    LogRecord* record);
  void Problem(LogProblem problem, uint64_t at);
  void CloseRegion(uint64_t at);
  void Skip(size_t bytes);
  void SkipRestOfBlock();
  void EndLog();

  const uint32_t segment_number_;
  LogReporter* const reporter_;
  const uint64_t start_offset_;
  std::string_view chunk_;
  uint64_t chunk_offset_;  // File offset of chunk_[0].
  size_t position_ = 0;    // In chunk_.
  bool finished_ = false;
  bool ended_ = false;
  bool assembling_ = false;
  uint64_t assembly_offset_ = 0;  // Of the FIRST being reassembled.
  std::string assembly_;
  std::optional<Region> region_;
  LogEnd end_;
  LogReaderStats stats_;
};

}  // namespace ringmta::queue

#endif  // RINGMTA_QUEUE_LOG_READER_H_
