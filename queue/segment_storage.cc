// RingSegmentStorage: the spool's file operations as io_uring operations.
#include "queue/segment_storage.h"

#include <fcntl.h>
#include <unistd.h>

#include "mta/io/operation.h"

namespace ringmta::queue {

io::Task<int32_t> RingSegmentStorage::OpenDirectory(const std::string& path) {
  co_return co_await io::OpenAt(reactor_, AT_FDCWD, path.c_str(),
                                O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
}

io::Task<int32_t> RingSegmentStorage::Create(const std::string& path) {
  co_return co_await io::OpenAt(reactor_, AT_FDCWD, path.c_str(),
                                O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600);
}

io::Task<int32_t> RingSegmentStorage::Allocate(int fd, uint64_t bytes) {
  co_return co_await io::Fallocate(reactor_, fd, 0, 0, bytes);
}

io::Task<int32_t> RingSegmentStorage::WriteAt(int fd, std::string_view data, uint64_t offset) {
  co_return co_await io::WriteAt(reactor_, fd, data, offset);
}

io::Task<int32_t> RingSegmentStorage::DataSync(int fd) {
  co_return co_await io::Fdatasync(reactor_, fd);
}

io::Task<int32_t> RingSegmentStorage::SyncDirectory(int directory_fd) {
  co_return co_await io::MakeOperation(reactor_, nullptr, io::kNoTimeout,
                                       [directory_fd](io_uring_sqe* sqe) {
                                         io_uring_prep_fsync(sqe, directory_fd, 0);
                                       });
}

io::Task<int32_t> RingSegmentStorage::Close(int fd) { co_return co_await io::Close(reactor_, fd); }

void RingSegmentStorage::Unlink(const std::string& path) { unlink(path.c_str()); }

}  // namespace ringmta::queue
