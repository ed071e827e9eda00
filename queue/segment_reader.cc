#include "queue/segment_reader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>

#include "mta/base/status.h"
#include "mta/io/operation.h"
#include "queue/log_reader.h"

namespace ringmta::queue {
namespace {

std::string SegmentFilePath(const std::string& directory, uint32_t segment) {
  char name[32];
  std::snprintf(name, sizeof name, "/%08u.seg", segment);
  return directory + name;
}

}  // namespace

SegmentReader::SegmentReader(io::Reactor& reactor, size_t open_files_max)
    : reactor_(reactor), open_files_max_(open_files_max) {}

SegmentReader::~SegmentReader() { CloseAll(); }

void SegmentReader::CloseAll() {
  // Plain close(2): nothing is in flight on these descriptors between reads.
  for (const OpenFile& file : open_) ::close(file.fd);
  open_.clear();
}

void SegmentReader::Forget(const std::string& shard_directory, uint32_t segment) {
  std::string path = SegmentFilePath(shard_directory, segment);
  for (auto it = open_.begin(); it != open_.end(); ++it) {
    if (it->path == path) {
      ::close(it->fd);
      open_.erase(it);
      return;
    }
  }
}

size_t SegmentReader::CloseUnlinked() {
  size_t closed = 0;
  for (auto it = open_.begin(); it != open_.end();) {
    struct stat status {};
    if (::fstat(it->fd, &status) == 0 && status.st_nlink == 0) {
      ::close(it->fd);
      it = open_.erase(it);
      ++closed;
    } else {
      ++it;
    }
  }
  return closed;
}

io::Task<absl::StatusOr<int>> SegmentReader::Open(const std::string& path) {
  for (auto it = open_.begin(); it != open_.end(); ++it) {
    if (it->path == path) {
      open_.splice(open_.begin(), open_, it);
      co_return it->fd;
    }
  }
  int32_t fd = co_await io::OpenAt(reactor_, AT_FDCWD, path.c_str(), O_RDONLY | O_CLOEXEC, 0);
  if (fd < 0) co_return ErrnoToStatus(-fd, "open " + path);
  // Another Open of the same path may have finished while we waited.
  for (const OpenFile& file : open_) {
    if (file.path == path) {
      ::close(fd);
      co_return file.fd;
    }
  }
  if (open_.size() >= open_files_max_) {
    ::close(open_.back().fd);
    open_.pop_back();
  }
  open_.push_front(OpenFile{path, fd});
  co_return fd;
}

io::Task<absl::Status> SegmentReader::Read(const std::string& shard_directory, RecordSpan span,
                                           std::string* payload) {
  std::string path = SegmentFilePath(shard_directory, span.segment);
  if (span.end_offset <= span.offset) co_return absl::InvalidArgumentError("empty record span");
  absl::StatusOr<int> fd = co_await Open(path);
  if (!fd.ok()) co_return fd.status();
  std::string raw(span.end_offset - span.offset, '\0');
  size_t done = 0;
  while (done < raw.size()) {
    int32_t bytes = co_await io::ReadAt(reactor_, *fd, raw.data() + done,
                                        static_cast<uint32_t>(raw.size() - done),
                                        span.offset + done);
    if (bytes < 0) co_return ErrnoToStatus(-bytes, "read " + path);
    if (bytes == 0) break;
    done += static_cast<size_t>(bytes);
  }
  // The framing is checked again on every read (STYLE: validate after read).
  LogReader reader(span.segment, nullptr, span.offset);
  reader.Feed(std::string_view(raw).substr(0, done));
  reader.Finish();
  LogRecord record;
  if (done != raw.size() || reader.Next(&record) != LogReader::Step::kRecord ||
      record.offset != span.offset || record.end_offset != span.end_offset) {
    co_return absl::DataLossError("no intact record at " + path + " offset " +
                                  std::to_string(span.offset));
  }
  payload->assign(record.payload);
  co_return absl::OkStatus();
}

}  // namespace ringmta::queue
