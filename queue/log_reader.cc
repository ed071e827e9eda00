// The reader's checks, in the order queue_format §3 lists them, and the
// damaged-region bookkeeping that separates mid-log damage from the end.
#include "queue/log_reader.h"

#include <cstring>

#include "absl/strings/str_format.h"
#include "mta/base/check.h"
#include "queue/coding.h"
#include "queue/crc32c.h"
#include "queue/log_format.h"
#include "queue/queue_limits.h"

namespace ringmta::queue {
namespace {

bool IsAllZero(std::string_view bytes) {
  if (bytes.empty()) return true;
  return bytes[0] == '\0' && std::memcmp(bytes.data(), bytes.data() + 1, bytes.size() - 1) == 0;
}

}  // namespace

std::string_view LogProblemName(LogProblem problem) {
  switch (problem) {
    case LogProblem::kTruncatedHeader: return "truncated header";
    case LogProblem::kZeroType: return "zero type";
    case LogProblem::kBadLength: return "impossible length";
    case LogProblem::kTruncatedPayload: return "truncated payload";
    case LogProblem::kChecksumMismatch: return "checksum mismatch";
    case LogProblem::kStaleSegment: return "stale segment number";
    case LogProblem::kUnknownType: return "unknown type";
    case LogProblem::kOrphanFragment: return "fragment without first";
    case LogProblem::kMissingLastFragment: return "missing last fragment";
    case LogProblem::kRecordTooLarge: return "record too large";
  }
  return "unknown problem";
}

std::string LogDamage::ToString() const {
  std::string_view name = LogProblemName(problem);
  return absl::StrFormat("%d bytes dropped at offset %d: %s at offset %d", bytes, offset,
                         absl::string_view(name.data(), name.size()), problem_offset);
}

LogReader::LogReader(uint32_t segment_number, LogReporter* reporter, uint64_t start_offset)
    : segment_number_(segment_number),
      reporter_(reporter),
      start_offset_(start_offset),
      chunk_offset_(start_offset) {
  CHECK(segment_number != 0);
}

void LogReader::Feed(std::string_view bytes) {
  CHECK(!finished_);
  CHECK(position_ == chunk_.size());
  // A piece ending inside a block would cut a record in two.
  CHECK(FileOffset() % kBlockBytes == 0 || FileOffset() == start_offset_);
  chunk_offset_ = FileOffset();
  chunk_ = bytes;
  position_ = 0;
}

void LogReader::Finish() { finished_ = true; }

const LogEnd& LogReader::end() const {
  CHECK(ended_);
  return end_;
}

LogReader::Step LogReader::Next(LogRecord* record) {
  while (!ended_) {
    if (position_ == chunk_.size()) {
      if (!finished_) return Step::kNeedInput;
      EndLog();
      break;
    }
    if (ReadPhysical(record)) {
      ++stats_.records;
      return Step::kRecord;
    }
  }
  return Step::kEnd;
}

bool LogReader::ReadPhysical(LogRecord* record) {
  const uint64_t at = FileOffset();
  const size_t block_left = kBlockBytes - at % kBlockBytes;
  const size_t available = chunk_.size() - position_;
  if (block_left < kHeaderBytes) {
    Skip(std::min(block_left, available));  // The writer's zero trailer.
    return false;
  }
  // Only a piece that ends inside a block (the last one) can be this short.
  if (available < kHeaderBytes) {
    Problem(LogProblem::kTruncatedHeader, at);
    Skip(available);
    return false;
  }
  const char* header = chunk_.data() + position_;
  const auto type = static_cast<uint8_t>(header[kHeaderTypeOffset]);
  const size_t length = DecodeFixed16(header + kHeaderLengthOffset);
  if (type == static_cast<uint8_t>(FragmentType::kZero)) {
    Problem(LogProblem::kZeroType, at);
    SkipRestOfBlock();
    return false;
  }
  if (length > block_left - kHeaderBytes) {
    Problem(LogProblem::kBadLength, at);
    SkipRestOfBlock();
    return false;
  }
  if (length > available - kHeaderBytes) {
    Problem(LogProblem::kTruncatedPayload, at);
    Skip(available);
    return false;
  }
  std::string_view payload(header + kHeaderBytes, length);
  uint32_t crc = crc32c::Value(std::string_view(header + kHeaderTypeOffset, kHeaderCrcCoveredBytes));
  crc = crc32c::Extend(crc, payload);
  if (crc32c::Unmask(DecodeFixed32(header + kHeaderCrcOffset)) != crc) {
    Problem(LogProblem::kChecksumMismatch, at);
    SkipRestOfBlock();
    return false;
  }
  if (DecodeFixed32(header + kHeaderSegmentOffset) != segment_number_) {
    Problem(LogProblem::kStaleSegment, at);
    SkipRestOfBlock();
    return false;
  }
  return TakeFragment(type, payload, at, kHeaderBytes + length, record);
}

// A physically valid fragment of this segment: reassembly and region closing.
bool LogReader::TakeFragment(uint8_t type, std::string_view payload, uint64_t at,
                             size_t bytes, LogRecord* record) {
  if ((type & kIgnorableBit) != 0) {
    CloseRegion(at);  // Proof that the log goes on past the region.
    ++stats_.ignored_records;
    Skip(bytes);
    return false;
  }
  switch (static_cast<FragmentType>(type)) {
    case FragmentType::kFull:
    case FragmentType::kFirst:
      if (assembling_) Problem(LogProblem::kMissingLastFragment, at);
      CloseRegion(at);
      position_ += bytes;
      if (static_cast<FragmentType>(type) == FragmentType::kFull) {
        *record = LogRecord{at, at + bytes, payload};
        return true;
      }
      assembling_ = true;
      assembly_offset_ = at;
      assembly_.assign(payload.data(), payload.size());
      return false;
    case FragmentType::kMiddle:
    case FragmentType::kLast:
      if (!assembling_) {
        Problem(LogProblem::kOrphanFragment, at);
        Skip(bytes);
        return false;
      }
      if (assembly_.size() + payload.size() > kLogRecordBytesMax) {
        Problem(LogProblem::kRecordTooLarge, at);
        Skip(bytes);
        return false;
      }
      assembly_.append(payload.data(), payload.size());
      position_ += bytes;
      if (static_cast<FragmentType>(type) == FragmentType::kMiddle) return false;
      assembling_ = false;
      *record = LogRecord{assembly_offset_, at + bytes, assembly_};
      return true;
    default:
      Problem(LogProblem::kUnknownType, at);
      SkipRestOfBlock();
      return false;
  }
}

// Opens a damaged region (or extends the open one). A record being
// reassembled is lost with it, so the region then starts at its FIRST.
void LogReader::Problem(LogProblem problem, uint64_t at) {
  if (!region_) {
    region_ = Region{assembling_ ? assembly_offset_ : at, problem, at, false};
  }
  if (assembling_) {
    // Invariant: a FIRST closes any open region, so none was open before it.
    CHECK(region_->start == assembly_offset_);
    region_->nonzero = true;
    assembling_ = false;
    assembly_.clear();
  }
}

void LogReader::CloseRegion(uint64_t at) {
  if (!region_) return;
  CHECK(at > region_->start);
  LogDamage damage{region_->start, at - region_->start, region_->problem,
                   region_->problem_offset};
  region_.reset();
  ++stats_.damaged_regions;
  stats_.bytes_dropped += damage.bytes;
  if (reporter_ != nullptr) reporter_->Damage(damage);
}

void LogReader::Skip(size_t bytes) {
  CHECK(bytes <= chunk_.size() - position_);
  if (region_ && !region_->nonzero) {
    region_->nonzero = !IsAllZero(chunk_.substr(position_, bytes));
  }
  position_ += bytes;
}

void LogReader::SkipRestOfBlock() {
  size_t block_left = kBlockBytes - FileOffset() % kBlockBytes;
  Skip(std::min(block_left, chunk_.size() - position_));
}

void LogReader::EndLog() {
  const uint64_t data_end = FileOffset();
  if (assembling_) Problem(LogProblem::kMissingLastFragment, data_end);
  end_.data_end = data_end;
  if (region_) {
    end_.offset = region_->start;
    end_.torn = region_->nonzero;
    end_.tail = LogDamage{region_->start, data_end - region_->start, region_->problem,
                          region_->problem_offset};
  } else {
    end_.offset = data_end;
  }
  region_.reset();
  ended_ = true;
}

}  // namespace ringmta::queue
