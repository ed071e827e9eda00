#include "queue/spool.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <filesystem>

#include "mta/base/check.h"
#include "mta/base/clock.h"
#include "mta/base/log.h"
#include "mta/base/shard_stats.h"
#include "mta/base/status.h"
#include "mta/io/operation.h"
#include "queue/queue_limits.h"
#include "queue/records.h"

namespace ringmta::queue {
namespace {

absl::Status IoError(int32_t result, const std::string& what) {
  return ErrnoToStatus(-result, what);
}

}  // namespace

Spool::Spool(io::Reactor& reactor, SpoolOptions options, std::string shard_directory)
    : reactor_(reactor), options_(std::move(options)), ring_storage_(reactor),
      storage_(options_.storage != nullptr ? *options_.storage : ring_storage_),
      shard_directory_(std::move(shard_directory)), retry_timer_(&Spool::OnRetryTimer, this) {}

Spool::~Spool() {
  // Close() must have run: the committer may hold frames pointing here.
  CHECK(!committer_running_ && tasks_.empty());
  CHECK(waiting_ == nullptr);
  reactor_.timers().Cancel(&retry_timer_);
}

std::string Spool::SegmentPath(uint32_t segment) const {
  char name[32];
  std::snprintf(name, sizeof name, "%08u.seg", segment);
  return shard_directory_ + "/" + name;
}

io::Task<absl::StatusOr<std::unique_ptr<Spool>>> Spool::Open(io::Reactor& reactor,
                                                            SpoolOptions options,
                                                            uint32_t first_segment) {
  CHECK(first_segment >= 1);
  CHECK(options.segment_bytes % kBlockBytes == 0 && options.segment_bytes >= kSegmentBytesMin &&
        options.segment_bytes <= kSegmentBytesMax);
  std::string directory = options.directory + "/shard-" + std::to_string(options.shard);
  std::error_code error;
  std::filesystem::create_directories(directory, error);
  if (error) co_return absl::PermissionDeniedError("cannot create " + directory + ": " + error.message());
  chmod(directory.c_str(), 0700);
  std::unique_ptr<Spool> spool(new Spool(reactor, std::move(options), directory));
  int32_t directory_fd = co_await spool->storage_.OpenDirectory(directory);
  if (directory_fd < 0) co_return IoError(directory_fd, "open " + directory);
  spool->directory_fd_ = directory_fd;
  spool->next_number_ = first_segment;
  absl::StatusOr<Segment> first = co_await spool->CreateSegment(spool->next_number_++);
  if (!first.ok()) {
    co_await spool->Close();
    co_return first.status();
  }
  absl::Status started = spool->StartSegment(*first);
  if (!started.ok()) {
    co_await spool->Close();
    co_return started;
  }
  spool->PrepareSpare();
  co_return spool;
}

io::Task<absl::StatusOr<Spool::Segment>> Spool::CreateSegment(uint32_t number) {
  // A disk without room for a whole segment may still hold a smaller one:
  // halve down to the minimum rather than refuse mail that fits (queue
  // format §1.1). Each try is a fresh file: a failed fallocate may leave
  // blocks allocated, and the unlink gives them back.
  uint64_t bytes = options_.segment_bytes;
  for (;;) {
    absl::StatusOr<Segment> made = co_await CreateSegmentOfSize(number, bytes);
    const uint64_t smaller = bytes / 2 / kBlockBytes * kBlockBytes;
    if (made.ok() || made.status().code() != absl::StatusCode::kResourceExhausted ||
        smaller < kSegmentBytesMin) {
      co_return made;
    }
    bytes = smaller;
  }
}

io::Task<absl::StatusOr<Spool::Segment>> Spool::CreateSegmentOfSize(uint32_t number,
                                                                    uint64_t bytes) {
  std::string path = SegmentPath(number);
  // O_EXCL: a segment number is never used twice; finding the file means
  // our numbering is wrong, and writing over it could destroy queued mail.
  int32_t fd = co_await storage_.Create(path);
  if (fd < 0) co_return IoError(fd, "create " + path);
  // Preallocate: appends then never extend the file, so fdatasync has no
  // size metadata to flush, and a full disk shows up here, not mid-message.
  int32_t allocated = co_await storage_.Allocate(fd, bytes);
  int32_t synced = allocated < 0 ? 0 : co_await storage_.DataSync(fd);
  // The new directory entry must be durable too, or the file can vanish
  // after a power cut together with the mail acknowledged into it.
  int32_t directory_synced =
      allocated < 0 || synced < 0 ? 0 : co_await storage_.SyncDirectory(directory_fd_);
  int32_t failure = allocated < 0 ? allocated : synced < 0 ? synced : directory_synced;
  if (failure < 0) {
    co_await storage_.Close(fd);
    storage_.Unlink(path);
    co_return IoError(failure, "preallocate " + path);
  }
  ++stats_.segments_created;
  if (options_.on_segment_created) options_.on_segment_created(number);
  co_return Segment{number, fd, bytes};
}

absl::Status Spool::StartSegment(Segment segment) {
  current_ = segment;
  out_of_space_ = false;
  writer_ = std::make_unique<LogWriter>(segment.number, segment.bytes);
  std::string header = EncodeSegmentHeader(
      SegmentHeader{static_cast<uint16_t>(options_.shard), segment.number, WallNowMs()});
  CHECK(writer_->Fits(header.size()));
  writer_->Append(header);
  return absl::OkStatus();
}

void Spool::PrepareSpare() {
  if (spare_.fd >= 0 || spare_in_progress_ || closing_) return;
  spare_in_progress_ = true;
  io::Spawn(reactor_, tasks_, [](Spool* self) -> io::Task<void> {
    const uint32_t number = self->next_number_++;
    absl::StatusOr<Segment> made = co_await self->CreateSegment(number);
    self->spare_in_progress_ = false;
    // A failed creation unlinked its file: the retry takes the same number,
    // so a disk full for a day does not burn 86,400 of them. Not if the
    // name was taken (EEXIST): that file is not ours to reuse.
    if (!made.ok() && made.status().code() != absl::StatusCode::kAlreadyExists &&
        self->next_number_ == number + 1) {
      self->next_number_ = number;
    }
    if (made.ok()) {
      if (!self->spare_error_.ok()) {
        Log(LogLevel::kInfo, "spool shard %d: segment %d created: space is back",
            self->options_.shard, made->number);
      }
      self->spare_error_ = absl::OkStatus();
      if (self->closing_) {
        self->retired_.push_back(*made);
      } else {
        self->spare_ = *made;
      }
      co_return;
    }
    // Once per outage, not once per retry: a full disk can last hours.
    if (self->spare_error_.ok()) {
      Log(LogLevel::kWarning, "spool shard %d: %s; retrying every %d ms", self->options_.shard,
          std::string(made.status().message()), self->options_.retry_create_ms);
    }
    self->spare_error_ = made.status();
    if (!self->closing_) {
      self->reactor_.timers().Schedule(&self->retry_timer_,
                                       self->reactor_.now_ms() + self->options_.retry_create_ms);
    }
  }(this));
}

void Spool::OnRetryTimer(io::Timer*, void* context) { static_cast<Spool*>(context)->PrepareSpare(); }

void Spool::SealCurrent() {
  if (writer_ == nullptr) return;  // Already sealed (disk full, write error).
  last_sealed_ = current_.number;
  LogBatch batch = writer_->TakeBatch();
  if (!batch.bytes.empty()) sealed_.push_back(PendingWrite{current_, std::move(batch)});
  retired_.push_back(current_);
  writer_.reset();
  current_ = Segment{};
}

absl::Status Spool::Rotate() {
  if (spare_.fd < 0) {
    PrepareSpare();
    if (spare_error_.ok()) return absl::UnavailableError("spool: next segment not ready yet");
    out_of_space_ = true;
    return absl::ResourceExhaustedError("spool: cannot create a segment: " +
                                        std::string(spare_error_.message()));
  }
  SealCurrent();
  Segment next = std::exchange(spare_, Segment{});
  RETURN_IF_ERROR(StartSegment(next));
  PrepareSpare();
  KickCommitter();
  return absl::OkStatus();
}

void Spool::SealForSpace() {
  CHECK(out_of_space_ && writer_ != nullptr && !closing_);
  SealCurrent();
  // The sweep unlinks the file next, but its blocks are freed only when the
  // last descriptor closes, and the committer closes a retired segment only
  // once it has nothing left to write or sync there: a commit round makes
  // sure of that even if no other commit ever comes.
  io::Spawn(reactor_, tasks_, [](Spool* self) -> io::Task<void> {
    (void)co_await self->Commit();
  }(this));
}

absl::StatusOr<RecordLocation> Spool::Append(std::span<const std::string_view> parts) {
  CHECK(!closing_);
  size_t bytes = 0;
  for (std::string_view part : parts) bytes += part.size();
  CHECK(bytes <= kLogRecordBytesMax);
  if (writer_ == nullptr || !writer_->Fits(bytes)) RETURN_IF_ERROR(Rotate());
  LogSpan span = writer_->Append(parts);
  ++stats_.records_appended;
  if (writer_->pending_bytes() >= options_.write_behind_bytes) KickCommitter();
  return RecordLocation{current_.number, span.offset, span.end_offset};
}

void Spool::KickCommitter() {
  // A committer waiting for its fdatasync looks whether there is more to
  // write behind meanwhile.
  if (committer_wake_) reactor_.Post(std::exchange(committer_wake_, nullptr));
  if (committer_running_ || closing_) return;
  committer_running_ = true;
  io::Spawn(reactor_, tasks_, RunCommitter());
}

io::Task<absl::Status> Spool::Commit() {
  struct Await {
    Spool& spool;
    CommitWaiter waiter;
    bool await_ready() const { return false; }
    void await_suspend(std::coroutine_handle<> handle) {
      waiter.handle = handle;
      waiter.next = spool.waiting_;
      spool.waiting_ = &waiter;
      spool.KickCommitter();
    }
    absl::Status await_resume() { return std::move(waiter.status); }
  };
  if (closing_) co_return absl::UnavailableError("spool is closing");
  co_return co_await Await{*this, {}};
}

io::Task<void> Spool::WaitWriteBehind() {
  struct Await {
    Spool& spool;
    bool await_ready() const {
      return !spool.write_behind_full();
    }
    void await_suspend(std::coroutine_handle<> handle) {
      spool.write_behind_waiters_.push_back(handle);
      spool.KickCommitter();
    }
    void await_resume() const {}
  };
  co_await Await{*this};
}

void Spool::ReleaseWaiters(CommitWaiter* waiters, const absl::Status& status) {
  while (waiters != nullptr) {
    CommitWaiter* next = waiters->next;
    waiters->status = status;
    if (status.ok()) ++stats_.commits_acked;
    reactor_.Post(waiters->handle);
    waiters = next;
  }
}

void Spool::ReleaseWriteBehindWaiters() {
  for (std::coroutine_handle<> handle : std::exchange(write_behind_waiters_, {})) {
    reactor_.Post(handle);
  }
}

io::Task<absl::Status> Spool::WriteRound(std::vector<PendingWrite>& round) {
  for (PendingWrite& write : round) {
    size_t done = 0;
    while (done < write.batch.bytes.size()) {
      std::string_view rest = std::string_view(write.batch.bytes).substr(done);
      int32_t written =
          co_await storage_.WriteAt(write.segment.fd, rest, write.batch.file_offset + done);
      if (written <= 0) {
        co_return IoError(written == 0 ? -EIO : written,
                          "write " + SegmentPath(write.segment.number));
      }
      done += static_cast<size_t>(written);
    }
    ++stats_.writes;
    stats_.bytes_written += done;
    bool known = false;
    for (const Segment& segment : unsynced_) known |= segment.number == write.segment.number;
    if (!known) unsynced_.push_back(write.segment);
  }
  co_return absl::OkStatus();
}

io::Task<void> Spool::SyncSegments(std::vector<Segment> segments, SyncProgress* progress) {
  for (const Segment& segment : segments) {
    int64_t sync_started_ns = MonotonicNowNs();
    int32_t synced = co_await storage_.DataSync(segment.fd);
    ++stats_.fdatasyncs;
    CurrentShardStats().Count(Counter::kQueueFdatasync);
    CurrentShardStats().Observe(Latency::kFdatasync, MonotonicNowNs() - sync_started_ns);
    if (synced < 0) {
      progress->status = IoError(synced, "fdatasync " + SegmentPath(segment.number));
      break;
    }
  }
  progress->done = true;
  if (committer_wake_) reactor_.Post(std::exchange(committer_wake_, nullptr));
}

// Syncs every segment written so far. While the fdatasync runs (tens of ms
// on a busy disk), once appenders are paced, the batches framed meanwhile
// are written behind it: they
// are not covered by this sync (they wait in unsynced_ for the next round),
// but streaming sessions need not stall until it ends.
io::Task<absl::Status> Spool::SyncWritingBehind() {
  struct Wake {
    Spool& spool;
    bool await_ready() const { return false; }
    void await_suspend(std::coroutine_handle<> handle) { spool.committer_wake_ = handle; }
    void await_resume() const {}
  };
  SyncProgress progress;
  io::Spawn(reactor_, tasks_, SyncSegments(std::exchange(unsynced_, {}), &progress));
  absl::Status written = absl::OkStatus();
  while (!progress.done) {
    // Only for appenders already paced: writing into the file while it is
    // being synced slows the sync, which every committer is waiting for
    // (at 100 KB x 200 sessions, writing behind at every batch cost ~15%).
    bool behind = !write_behind_waiters_.empty() &&
                  (!sealed_.empty() || (writer_ != nullptr && writer_->pending_bytes() > 0));
    if (!behind || !written.ok()) {
      co_await Wake{*this};  // by the sync's end or by KickCommitter
      continue;
    }
    std::vector<PendingWrite> batches = std::move(sealed_);
    sealed_.clear();
    if (writer_ != nullptr && writer_->pending_bytes() > 0) {
      batches.push_back(PendingWrite{current_, writer_->TakeBatch()});
    }
    written = co_await WriteRound(batches);
    ReleaseWriteBehindWaiters();
  }
  // A failed write behind the sync fails the round as a failed sync would:
  // the segment is abandoned either way.
  co_return progress.status.ok() ? written : progress.status;
}

io::Task<void> Spool::RunCommitter() {
  for (;;) {
    bool want_sync = waiting_ != nullptr;
    bool want_write = !sealed_.empty() || (writer_ != nullptr && writer_->pending_bytes() > 0 &&
                                           (want_sync || !write_behind_waiters_.empty() ||
                                            writer_->pending_bytes() >= options_.write_behind_bytes));
    if (!want_sync && !want_write) {
      // Idle: close sealed segments that are fully written and synced. New
      // work may arrive while a close is in flight, so look again after.
      if (!co_await CloseRetired()) break;
      continue;
    }
    // Everything appended so far goes in this round; Commit() calls made
    // while it runs wait for the next one.
    CommitWaiter* round_waiters = std::exchange(waiting_, nullptr);
    std::vector<PendingWrite> round = std::move(sealed_);
    sealed_.clear();
    if (writer_ != nullptr && writer_->pending_bytes() > 0) {
      round.push_back(PendingWrite{current_, writer_->TakeBatch(std::move(recycled_buffer_))});
    }
    absl::Status status = co_await WriteRound(round);
    // Paced appenders wait for writes, not for durability: let them go on
    // streaming while this round's fdatasync runs.
    ReleaseWriteBehindWaiters();
    if (status.ok() && round_waiters != nullptr) status = co_await SyncWritingBehind();
    if (!round.empty()) recycled_buffer_ = std::move(round.back().batch.bytes);
    if (!status.ok()) {
      // The bytes of this round may be partly on disk, partly not, and after
      // a failed fdatasync the page cache cannot be trusted (it may have
      // dropped the dirty pages). Abandon the segment: later records go to a
      // new one, and every message that had records in flight is refused.
      ++stats_.write_errors;
      ++epoch_;
      Log(LogLevel::kError, "spool shard %d: %s", options_.shard, std::string(status.message()));
      ReleaseWaiters(std::exchange(waiting_, nullptr), absl::UnavailableError(status.message()));
      if (writer_ != nullptr) {
        writer_->TakeBatch();  // Framed after the failed bytes: unreachable.
        SealCurrent();
      }
      unsynced_.clear();
      sealed_.clear();
      absl::Status rotated = spare_.fd >= 0 ? StartSegment(std::exchange(spare_, Segment{}))
                                            : absl::UnavailableError("no spare segment");
      if (rotated.ok()) PrepareSpare();
      status = absl::UnavailableError(status.message());
    }
    ReleaseWaiters(round_waiters, status);
    ReleaseWriteBehindWaiters();
  }
  committer_running_ = false;
}

io::Task<bool> Spool::CloseRetired() {
  bool closed_any = false;
  for (size_t i = 0; i < retired_.size();) {
    // Rotation may have retired a segment while an earlier close was in
    // flight: its last batch can still be waiting in sealed_. Closing it
    // now would send that write to a closed (or reused!) descriptor.
    bool unsynced = false;
    for (const Segment& segment : unsynced_) unsynced |= segment.number == retired_[i].number;
    for (const PendingWrite& write : sealed_) unsynced |= write.segment.number == retired_[i].number;
    if (unsynced) {
      ++i;
      continue;
    }
    Segment segment = retired_[i];
    retired_.erase(retired_.begin() + static_cast<std::ptrdiff_t>(i));
    co_await storage_.Close(segment.fd);
    closed_any = true;
  }
  co_return closed_any;
}

io::Task<void> Spool::Close() {
  // Let the committer finish what it has: appended records get written.
  if (writer_ != nullptr && writer_->pending_bytes() > 0) KickCommitter();
  closing_ = true;
  reactor_.timers().Cancel(&retry_timer_);
  while (!tasks_.empty()) co_await io::Sleep(reactor_, nullptr, 1);
  if (writer_ != nullptr) SealCurrent();
  for (Segment segment : {spare_}) {
    if (segment.fd >= 0) {
      // An unused spare holds nothing: remove it so the next start does
      // not have to replay an empty segment.
      co_await storage_.Close(segment.fd);
      storage_.Unlink(SegmentPath(segment.number));
    }
  }
  spare_ = Segment{};
  for (const Segment& segment : retired_) co_await storage_.Close(segment.fd);
  retired_.clear();
  if (directory_fd_ >= 0) co_await storage_.Close(std::exchange(directory_fd_, -1));
}

}  // namespace ringmta::queue
