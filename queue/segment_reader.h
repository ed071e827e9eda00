// SegmentReader: reads logical records back from segment files through the
// ring, for delivery (bodies, envelopes) on any shard: segments are only
// ever appended, so reading another shard's file needs no coordination as
// long as the message is live (its segments are not unlinked meanwhile).
// Keeps a small LRU of open descriptors. Not here: replay (recovery.h).
#ifndef RINGMTA_QUEUE_SEGMENT_READER_H_
#define RINGMTA_QUEUE_SEGMENT_READER_H_

#include <cstdint>
#include <list>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/statusor.h"
#include "mta/io/reactor.h"
#include "mta/io/task.h"
#include "queue/index.h"

namespace ringmta::queue {

class SegmentReader {
 public:
  // At most `open_files_max` descriptors stay open (least recently used
  // closed first): bounded, and enough for the segments in active use.
  explicit SegmentReader(io::Reactor& reactor, size_t open_files_max = 64);
  ~SegmentReader();
  SegmentReader(const SegmentReader&) = delete;
  SegmentReader& operator=(const SegmentReader&) = delete;

  // Reads the logical record at `span` of `shard_directory`'s segment into
  // *payload (replacing its contents). DataLoss if the bytes there are not
  // exactly one valid record; the error names the file and offset.
  io::Task<absl::Status> Read(const std::string& shard_directory, RecordSpan span,
                              std::string* payload);

  // Closes the descriptor of a segment about to be unlinked (or all).
  void Forget(const std::string& shard_directory, uint32_t segment);
  void CloseAll();
  // Closes the descriptors of files unlinked meanwhile (another shard swept
  // its dead segments): until then their disk space stays allocated.
  // Returns how many were closed. Cheap enough for a periodic sweep.
  size_t CloseUnlinked();
  size_t open_files() const { return open_.size(); }

 private:
  struct OpenFile {
    std::string path;
    int fd;
  };
  io::Task<absl::StatusOr<int>> Open(const std::string& path);

  io::Reactor& reactor_;
  size_t open_files_max_;
  std::list<OpenFile> open_;  // most recently used first
  std::string raw_;           // framed bytes of the record being read
};

}  // namespace ringmta::queue

#endif  // RINGMTA_QUEUE_SEGMENT_READER_H_
