// Spool: one shard's append-only segment files and its group commit
// (DESIGN §4). Records are framed into the current segment as they are
// appended; a single committer writes everything framed so far in one batch
// per round and fdatasyncs once, then releases every Commit() that was
// waiting when the round began. So N sessions finishing DATA in one loop
// turn cost one write and one fdatasync, and no Commit returns OK before its
// records are on stable storage. Not here: what records mean (records.h),
// which messages are live (index) or replay after a crash (recovery).
#ifndef RINGMTA_QUEUE_SPOOL_H_
#define RINGMTA_QUEUE_SPOOL_H_

#include <coroutine>
#include <functional>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "mta/base/limits.h"
#include "mta/io/reactor.h"
#include "mta/io/task.h"
#include "mta/io/timer_wheel.h"
#include "queue/log_writer.h"
#include "queue/segment_storage.h"

namespace ringmta::queue {

struct SpoolOptions {
  std::string directory;  // the spool root; this shard uses directory/shard-K
  int shard = 0;
  // Preallocated segment size: large enough that rotation is rare, small
  // enough that a mostly-dead segment is cheap to compact. A disk without
  // room for it gets halves down to kSegmentBytesMin (queue_format §1.1).
  uint64_t segment_bytes = uint64_t{64} << 20;
  // Framed bytes that may wait in memory before a write (without fsync) is
  // started anyway: bounds memory while large bodies stream in.
  size_t write_behind_bytes = size_t{1} << 20;
  // After a failed segment creation (disk full), try again this often.
  int64_t retry_create_ms = 1000;
  // Told of every segment the spool creates (the index tracks them).
  std::function<void(uint32_t segment)> on_segment_created;
  // Where segment files live; null: the real file system through the ring.
  // Tests substitute one that loses unsynced writes (power cut).
  SegmentStorage* storage = nullptr;
};

// Where a logical record lives: segment number and its [offset, end_offset).
struct RecordLocation {
  uint32_t segment = 0;
  uint64_t offset = 0;
  uint64_t end_offset = 0;
};

struct SpoolStats {
  uint64_t records_appended = 0;
  uint64_t bytes_written = 0;
  uint64_t writes = 0;          // write batches
  uint64_t fdatasyncs = 0;
  uint64_t commits_acked = 0;   // Commit() calls released with OK
  uint64_t write_errors = 0;
  uint64_t segments_created = 0;
};

class Spool {
 public:
  // Creates directory/shard-K (mode 0700) if needed and a fresh segment
  // numbered `first_segment` (recovery passes one past the highest on disk:
  // it never appends to an old segment).
  static io::Task<absl::StatusOr<std::unique_ptr<Spool>>> Open(io::Reactor& reactor,
                                                              SpoolOptions options,
                                                              uint32_t first_segment);
  ~Spool();
  Spool(const Spool&) = delete;
  Spool& operator=(const Spool&) = delete;

  // Frames one logical record (the concatenation of `parts`). Not durable
  // until a later Commit() returns OK. Fails with kResourceExhausted when a
  // new segment is needed and cannot be created (disk full: 452), and with
  // kUnavailable while the spool recovers from a write error (451).
  absl::StatusOr<RecordLocation> Append(std::span<const std::string_view> parts);
  absl::StatusOr<RecordLocation> Append(std::initializer_list<std::string_view> parts) {
    return Append(std::span<const std::string_view>(parts.begin(), parts.size()));
  }

  // Waits until every record appended before this call is durable.
  io::Task<absl::Status> Commit();
  // Waits while more than pace_bytes() are framed but unwritten; a session
  // streaming a large body calls it between chunks.
  io::Task<void> WaitWriteBehind();
  // Whether WaitWriteBehind would wait now (callers skip the call if not).
  bool write_behind_full() const {
    return writer_ != nullptr && writer_->pending_bytes() >= pace_bytes();
  }
  // Writes start at write_behind_bytes, appenders wait at a few times that:
  // streaming goes on while a round's fdatasync keeps the committer busy.
  size_t pace_bytes() const {
    return options_.write_behind_bytes * limits::kSpoolPaceWriteBehindBatches;
  }

  // Bumped by every write or sync failure. A message whose records were
  // appended in an earlier epoch may have lost some of them: its Commit
  // must be refused even if the later round succeeds.
  uint64_t epoch() const { return epoch_; }

  // Waits for the committer to finish and closes every file.
  io::Task<void> Close();

  const SpoolStats& stats() const { return stats_; }
  // The segment appended to; 0 while there is none (sealed for space, or
  // abandoned after a write error, until the next one is made).
  uint32_t current_segment() const { return writer_ ? writer_->segment_number() : 0; }

  // Disk full (docs/queue_format.md §1.1). True from the moment an append
  // is refused because the current segment is full and no next segment
  // could be created, until a next segment exists.
  bool out_of_space() const { return out_of_space_ && spare_.fd < 0; }
  // Seals the full current segment while out_of_space(): appends then get
  // 452 until the next segment exists, and the segment can be unlinked once
  // dead, freeing the room that next segment needs. The caller (the sweep)
  // checked that nothing live is in it: otherwise a disk with room for less
  // than one more segment would refuse mail forever, even with an empty queue.
  void SealForSpace();
  // Segments numbered below this are sealed: the sweep may unlink them once
  // dead. The current segment while there is one, else one past the last
  // sealed (the next one made is numbered higher).
  uint32_t sealed_below() const { return writer_ ? current_.number : last_sealed_ + 1; }
  uint64_t segment_bytes() const { return options_.segment_bytes; }
  std::string SegmentPath(uint32_t segment) const;
  const std::string& shard_directory() const { return shard_directory_; }

 private:
  struct Segment {
    uint32_t number = 0;
    int fd = -1;
    uint64_t bytes = 0;  // Preallocated: segment_bytes, or less on a full disk.
  };
  // A Commit() caller, linked while it waits; lives in its frame.
  struct CommitWaiter {
    std::coroutine_handle<> handle;
    absl::Status status;
    CommitWaiter* next = nullptr;
  };
  // A framed batch and the segment file it belongs to.
  struct PendingWrite {
    Segment segment;
    LogBatch batch;
  };

  Spool(io::Reactor& reactor, SpoolOptions options, std::string shard_directory);

  io::Task<absl::StatusOr<Segment>> CreateSegment(uint32_t number);
  io::Task<absl::StatusOr<Segment>> CreateSegmentOfSize(uint32_t number, uint64_t bytes);
  absl::Status StartSegment(Segment segment);
  absl::Status Rotate();
  void KickCommitter();
  void PrepareSpare();
  io::Task<void> RunCommitter();
  io::Task<absl::Status> WriteRound(std::vector<PendingWrite>& round);
  void SealCurrent();
  // Closes retired segments with nothing left to sync; true if it closed
  // any (and so may have let new work arrive meanwhile).
  io::Task<bool> CloseRetired();
  struct SyncProgress {
    bool done = false;
    absl::Status status;
  };
  io::Task<void> SyncSegments(std::vector<Segment> segments, SyncProgress* progress);
  io::Task<absl::Status> SyncWritingBehind();
  void ReleaseWriteBehindWaiters();
  void ReleaseWaiters(CommitWaiter* waiters, const absl::Status& status);
  void CloseSegmentLater(Segment segment);
  static void OnRetryTimer(io::Timer* timer, void* context);

  io::Reactor& reactor_;
  const SpoolOptions options_;
  RingSegmentStorage ring_storage_;
  SegmentStorage& storage_;
  const std::string shard_directory_;
  int directory_fd_ = -1;

  Segment current_;
  std::unique_ptr<LogWriter> writer_;
  uint32_t next_number_ = 0;
  // A preallocated segment made ahead of need, so rotation never waits on
  // open + fallocate. Absent while being made or after a failure.
  Segment spare_;
  bool spare_in_progress_ = false;
  absl::Status spare_error_;
  io::Timer retry_timer_;
  // Disk full: see out_of_space(). last_sealed_: see sealed_below().
  bool out_of_space_ = false;
  uint32_t last_sealed_ = 0;

  // Batches of sealed segments waiting for the committer, in log order.
  std::vector<PendingWrite> sealed_;
  // Segments written but not yet synced (a sync round covers them).
  std::vector<Segment> unsynced_;
  // Segments no longer appended to, closed when the committer is idle.
  std::vector<Segment> retired_;

  CommitWaiter* waiting_ = nullptr;  // for the next round
  std::vector<std::coroutine_handle<>> write_behind_waiters_;
  bool committer_running_ = false;
  // The committer while it waits for a round's fdatasync (to write behind it).
  std::coroutine_handle<> committer_wake_;
  bool closing_ = false;
  uint64_t epoch_ = 0;
  std::string recycled_buffer_;
  io::TaskGroup tasks_;
  SpoolStats stats_;
};

}  // namespace ringmta::queue

#endif  // RINGMTA_QUEUE_SPOOL_H_
