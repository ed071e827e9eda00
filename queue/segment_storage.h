// SegmentStorage: the narrow seam between the spool and the file system (the
// `Io` seam of DESIGN §2, for segment files only): create, preallocate,
// write at an offset, fdatasync, fsync the directory, close, unlink. The
// spool's durability rule is stated entirely in these calls, so a test can
// substitute a storage that forgets whatever was not synced when the power
// goes (queue/power_cut_test.cc). Results are fds or -errno, as io_uring
// gives them. Not here: reading (SegmentReader, recovery) or framing.
#ifndef RINGMTA_QUEUE_SEGMENT_STORAGE_H_
#define RINGMTA_QUEUE_SEGMENT_STORAGE_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "mta/io/reactor.h"
#include "mta/io/task.h"

namespace ringmta::queue {

class SegmentStorage {
 public:
  virtual ~SegmentStorage() = default;
  virtual io::Task<int32_t> OpenDirectory(const std::string& path) = 0;
  // O_CREAT | O_EXCL, read-write, mode 0600.
  virtual io::Task<int32_t> Create(const std::string& path) = 0;
  virtual io::Task<int32_t> Allocate(int fd, uint64_t bytes) = 0;
  // `data` must stay valid until the call completes.
  virtual io::Task<int32_t> WriteAt(int fd, std::string_view data, uint64_t offset) = 0;
  virtual io::Task<int32_t> DataSync(int fd) = 0;
  virtual io::Task<int32_t> SyncDirectory(int directory_fd) = 0;
  virtual io::Task<int32_t> Close(int fd) = 0;
  virtual void Unlink(const std::string& path) = 0;
};

// The real one: every call is one io_uring operation on the reactor.
class RingSegmentStorage : public SegmentStorage {
 public:
  explicit RingSegmentStorage(io::Reactor& reactor) : reactor_(reactor) {}
  io::Task<int32_t> OpenDirectory(const std::string& path) override;
  io::Task<int32_t> Create(const std::string& path) override;
  io::Task<int32_t> Allocate(int fd, uint64_t bytes) override;
  io::Task<int32_t> WriteAt(int fd, std::string_view data, uint64_t offset) override;
  io::Task<int32_t> DataSync(int fd) override;
  io::Task<int32_t> SyncDirectory(int directory_fd) override;
  io::Task<int32_t> Close(int fd) override;
  void Unlink(const std::string& path) override;

 private:
  io::Reactor& reactor_;
};

}  // namespace ringmta::queue

#endif  // RINGMTA_QUEUE_SEGMENT_STORAGE_H_
