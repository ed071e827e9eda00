// Listing and reading segment files for replay and the dump: O_RDONLY only,
// pread through one reused buffer, every piece but the last block-aligned.
#include "queue/segment_scan.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <string_view>

#include "absl/strings/str_format.h"
#include "mta/base/check.h"
#include "mta/base/status.h"
#include "queue/log_format.h"
#include "queue/queue_limits.h"

namespace ringmta::queue {
namespace {

static_assert(kScanBufferBytes % kBlockBytes == 0, "pieces must end on block boundaries");

class LogReporterAdapter : public LogReporter {
 public:
  explicit LogReporterAdapter(SegmentVisitor* visitor) : visitor_(visitor) {}
  void Damage(const LogDamage& damage) override { visitor_->Damage(damage); }

 private:
  SegmentVisitor* visitor_;
};

// Closes the descriptor on every return path.
class FileCloser {
 public:
  explicit FileCloser(int fd) : fd_(fd) {}
  ~FileCloser() { close(fd_); }
  FileCloser(const FileCloser&) = delete;
  FileCloser& operator=(const FileCloser&) = delete;

 private:
  int fd_;
};

// Fills buffer[0, want) from `offset`, short only at the end of the file.
absl::StatusOr<size_t> ReadFully(int fd, uint64_t offset, char* buffer, size_t want,
                                 const std::string& path) {
  size_t got = 0;
  while (got < want) {
    ssize_t n = pread(fd, buffer + got, want - got, static_cast<off_t>(offset + got));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoToStatus(errno, "read " + path);
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  return got;
}

}  // namespace

std::string ShardDirectory(const std::string& spool_directory, int shard) {
  return spool_directory + "/shard-" + std::to_string(shard);
}

std::string SegmentFileName(uint32_t number) {
  char name[32];
  std::snprintf(name, sizeof name, "%08u.seg", number);
  return name;
}

uint32_t ParseSegmentFileName(const std::string& name) {
  constexpr std::string_view kSuffix = ".seg";
  if (name.size() <= kSuffix.size() || name.size() > 10 + kSuffix.size() ||
      name.compare(name.size() - kSuffix.size(), kSuffix.size(), kSuffix) != 0) {
    return 0;
  }
  uint64_t number = 0;
  for (size_t i = 0; i < name.size() - kSuffix.size(); ++i) {
    if (name[i] < '0' || name[i] > '9') return 0;
    number = number * 10 + static_cast<uint64_t>(name[i] - '0');
  }
  return number > UINT32_MAX ? 0 : static_cast<uint32_t>(number);
}

absl::StatusOr<std::vector<SegmentFile>> ListSegments(const std::string& shard_directory) {
  DIR* dir = opendir(shard_directory.c_str());
  if (dir == nullptr) return ErrnoToStatus(errno, "open directory " + shard_directory);
  std::vector<SegmentFile> files;
  errno = 0;
  while (dirent* entry = readdir(dir)) {
    uint32_t number = ParseSegmentFileName(entry->d_name);
    if (number != 0) files.push_back({number, shard_directory + "/" + entry->d_name});
  }
  int error = errno;
  closedir(dir);
  if (error != 0) return ErrnoToStatus(error, "read directory " + shard_directory);
  std::sort(files.begin(), files.end(),
            [](const SegmentFile& a, const SegmentFile& b) { return a.number < b.number; });
  // "7.seg" and "00000007.seg" would both be segment 7: two files cannot be
  // one segment, and choosing one would hide the other's records.
  for (size_t i = 1; i < files.size(); ++i) {
    if (files[i].number == files[i - 1].number) {
      return absl::FailedPreconditionError("two files for segment " +
                                           std::to_string(files[i].number) + ": " +
                                           files[i - 1].path + " and " + files[i].path);
    }
  }
  return files;
}

absl::StatusOr<SegmentScan> ScanSegment(const SegmentFile& file, SegmentVisitor* visitor,
                                        std::string* buffer) {
  CHECK(file.number != 0);
  int fd = open(file.path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoToStatus(errno, "open " + file.path);
  FileCloser closer(fd);
  struct stat status;
  if (fstat(fd, &status) != 0) return ErrnoToStatus(errno, "stat " + file.path);
  posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);  // Only a hint: read-ahead.
  buffer->resize(kScanBufferBytes);

  SegmentScan scan;
  scan.file_bytes = static_cast<uint64_t>(status.st_size);
  LogReporterAdapter reporter(visitor);
  LogReader reader(file.number, &reporter);
  uint64_t offset = 0;
  for (;;) {
    LogRecord record;
    LogReader::Step step = reader.Next(&record);
    if (step == LogReader::Step::kEnd) break;
    if (step == LogReader::Step::kRecord) {
      visitor->Record(record);
      continue;
    }
    // kNeedInput: the previous piece is used up, so the buffer may be reused.
    ASSIGN_OR_RETURN(size_t got, ReadFully(fd, offset, buffer->data(), buffer->size(), file.path));
    if (got == 0) {
      reader.Finish();
      continue;
    }
    reader.Feed(std::string_view(buffer->data(), got));
    offset += got;
    // A short read is the end of the file; the reader must not ask again.
    if (got < buffer->size()) reader.Finish();
  }
  scan.end = reader.end();
  scan.stats = reader.stats();
  return scan;
}

absl::StatusOr<std::string> ReadRecordAt(const std::string& path, uint32_t segment,
                                         uint64_t offset, uint64_t end_offset) {
  CHECK(segment != 0 && offset < end_offset);
  // A record's framing is at most its payload plus a header per block.
  if (end_offset - offset > kLogRecordBytesMax + (kLogRecordBytesMax / kFragmentBytesMax + 2) *
                                                     kBlockBytes) {
    return absl::InvalidArgumentError("record location too large");
  }
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoToStatus(errno, "open " + path);
  FileCloser closer(fd);
  std::string framed(end_offset - offset, '\0');
  ASSIGN_OR_RETURN(size_t got, ReadFully(fd, offset, framed.data(), framed.size(), path));
  framed.resize(got);
  // One piece from the record's offset: the reader allows a first piece to
  // start mid-block, and the last one to end anywhere.
  LogReader reader(segment, nullptr, offset);
  reader.Feed(framed);
  reader.Finish();
  LogRecord record;
  if (reader.Next(&record) != LogReader::Step::kRecord || record.offset != offset ||
      record.end_offset != end_offset) {
    return absl::DataLossError(absl::StrFormat("%s: no intact record at [%d, %d)", path, offset,
                                               end_offset));
  }
  return std::string(record.payload);
}

}  // namespace ringmta::queue
