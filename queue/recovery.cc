// ReplayShard/RecoverShard: drives the read-only scan over a shard's segments,
// folds each record into the index, then cuts the torn tail. The rules are in
// recovery.h and queue_format §3-4.
#include "queue/recovery.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <optional>
#include <utility>
#include <variant>

#include "absl/container/flat_hash_map.h"
#include "mta/base/check.h"
#include "mta/base/clock.h"
#include "mta/base/log.h"
#include "mta/base/status.h"
#include "queue/queue_limits.h"

namespace ringmta::queue {
namespace {

// Folds one shard's records, in log order, into the index (recovery.h lists
// the rules). Holds uncommitted transfers until their commit or the end.
class ReplayFold : public SegmentVisitor {
 public:
  ReplayFold(int shard, QueueIndex* index, ReplayObserver* observer, RecoveryResult* result)
      : shard_(shard), index_(index), observer_(observer), result_(result) {}

  void StartSegment(const SegmentFile& file) {
    segment_ = file.number;
    first_record_ = true;
  }
  void Record(const LogRecord& record) override;
  void Damage(const LogDamage& damage) override {
    AddDamage({segment_, damage.offset, damage.bytes, std::string(LogProblemName(damage.problem)),
               0});
    result_->bytes_dropped += damage.bytes;
    SuspectOpenTransfers();
  }
  void EndSegment(const SegmentFile& file, const SegmentScan& scan);
  void Finish();

 private:
  struct OpenTransfer {
    MessageEntry entry;
    BodyTally tally;
    // Physical damage while it was open: without a commit its commit may
    // have been lost, so it is quarantined instead of dropped. A commit
    // whose body verifies proves the damage was someone else's.
    bool suspect = false;
    bool quarantined = false;  // One of its own records was unusable.
    bool body_broken = false;  // Reported once; later chunks are only located.
  };

  void Fold(const LogRecord& record, const queue::Record& decoded);
  void OnBegin(const LogRecord& record, const MessageBegin& begin);
  void OnChunk(const LogRecord& record, const BodyChunk& chunk);
  void OnCommit(const LogRecord& record, const MessageCommit& commit);
  void OnOutcome(const LogRecord& record, RecordType type, const RecipientOutcome& outcome,
                 const RecipientDeferred* deferred);
  void OnDone(const MessageDone& done);
  void OnMoved(const LogRecord& record, const MessageMoved& moved);
  // A MessageBegin for a message already known: a compacted copy starts.
  void StartCopy(const LogRecord& record, const MessageBegin& begin);
  bool CopyChunk(const LogRecord& record, const BodyChunk& chunk);
  bool CopyCommit(const LogRecord& record, const MessageCommit& commit);
  // True if a committed copy of the message took the outcome.
  bool CopyOutcome(const LogRecord& record, RecordType type, const RecipientOutcome& outcome,
                   const RecipientDeferred* deferred);
  void CheckSegmentHeader(const LogRecord& record, const absl::StatusOr<queue::Record>& decoded);
  // A logical problem with a record: reported; the message it names (if
  // any) quarantined.
  void Logical(const LogRecord& record, std::string kind, uint64_t message_id);
  void QuarantineMessage(uint64_t message_id);
  void AddDamage(ReplayDamage damage);
  // A record of a message whose MessageBegin was not seen: a bare
  // quarantined entry, reported at the end unless a MessageDone removes it.
  void Orphan(const LogRecord& record, uint64_t message_id);
  // A torn end of an earlier segment followed by more of the log: damage.
  void ResolveTornTail();
  void SuspectOpenTransfers() {
    for (auto& [id, transfer] : open_) transfer.suspect = true;
  }
  RecordSpan Span(const LogRecord& record) const {
    return {segment_, static_cast<uint32_t>(record.offset), static_cast<uint32_t>(record.end_offset)};
  }

  const int shard_;
  QueueIndex* const index_;
  ReplayObserver* const observer_;
  RecoveryResult* const result_;
  uint32_t segment_ = 0;
  bool first_record_ = false;
  absl::flat_hash_map<uint64_t, OpenTransfer> open_;
  // The last segment with a record so far, and how its data ended; then
  // the torn segments without records after it. A torn end that more
  // records follow was damage after all.
  std::optional<ReplayTail> tail_;
  std::vector<ReplayTail> after_tail_;
  // A compacted copy being replayed (queue_format §4.8): it replaces the
  // message only at its MessageMoved; without one it is dropped.
  struct OpenCopy {
    OpenTransfer transfer;
    bool committed = false;
    FailedRecords failed;
  };
  absl::flat_hash_map<uint64_t, OpenCopy> copies_;
  // Where each orphan's first record was, for the report.
  absl::flat_hash_map<uint64_t, ReplayDamage> orphans_;
};

void ReplayFold::Record(const LogRecord& record) {
  ResolveTornTail();
  ++result_->records_replayed;
  if (record.end_offset > kSegmentBytesMax) {
    // Past any segment the spool makes; RecordSpan could not hold it.
    return Logical(record, "record beyond the largest segment size", 0);
  }
  absl::StatusOr<queue::Record> decoded = DecodeRecord(record.payload);
  if (observer_ != nullptr) observer_->Record(segment_, record, decoded);
  if (std::optional<uint64_t> id = PeekMessageId(record.payload)) {
    result_->highest_message_id = std::max(result_->highest_message_id, *id);
  }
  if (first_record_) {
    first_record_ = false;
    CheckSegmentHeader(record, decoded);
    if (decoded.ok() && std::holds_alternative<SegmentHeader>(*decoded)) return;
  }
  if (!decoded.ok()) {
    std::optional<uint64_t> id = PeekMessageId(record.payload);
    Logical(record, std::string(decoded.status().message()), id.value_or(0));
    return;
  }
  Fold(record, *decoded);
}

void ReplayFold::CheckSegmentHeader(const LogRecord& record,
                                    const absl::StatusOr<queue::Record>& decoded) {
  const SegmentHeader* header = decoded.ok() ? std::get_if<SegmentHeader>(&*decoded) : nullptr;
  if (header == nullptr) {
    Logical(record, "first record is not a segment header", 0);
  } else if (header->shard != shard_ || header->segment != segment_) {
    Logical(record,
            absl::StrFormat("segment header names shard %d segment %d", header->shard,
                            header->segment),
            0);
  }
}

void ReplayFold::Fold(const LogRecord& record, const queue::Record& decoded) {
  if (const auto* begin = std::get_if<MessageBegin>(&decoded)) return OnBegin(record, *begin);
  if (const auto* chunk = std::get_if<BodyChunk>(&decoded)) return OnChunk(record, *chunk);
  if (const auto* commit = std::get_if<MessageCommit>(&decoded)) return OnCommit(record, *commit);
  if (const auto* done = std::get_if<MessageDone>(&decoded)) return OnDone(*done);
  if (const auto* moved = std::get_if<MessageMoved>(&decoded)) return OnMoved(record, *moved);
  if (const auto* r = std::get_if<RecipientDelivered>(&decoded)) {
    return OnOutcome(record, RecordType::kRecipientDelivered, r->outcome, nullptr);
  }
  if (const auto* r = std::get_if<RecipientDeferred>(&decoded)) {
    return OnOutcome(record, RecordType::kRecipientDeferred, r->outcome, r);
  }
  if (const auto* r = std::get_if<RecipientFailed>(&decoded)) {
    return OnOutcome(record, RecordType::kRecipientFailed, r->outcome, nullptr);
  }
  Logical(record, "segment header inside the segment", 0);
}

void FillEnvelope(MessageEntry& entry, const MessageBegin& begin, RecordSpan span) {
  entry.id = begin.message_id;
  entry.begin = span;
  entry.received_ms = begin.received_ms;
  entry.deadline_ms = begin.deadline_ms;
  entry.sender = begin.sender;
  entry.recipients.reserve(begin.recipients.size());
  for (const Recipient& recipient : begin.recipients) {
    RecipientEntry& added = entry.recipients.emplace_back();
    added.address = recipient.address;
    added.notify = recipient.notify;
  }
}

void ReplayFold::OnBegin(const LogRecord& record, const MessageBegin& begin) {
  const uint64_t id = begin.message_id;
  if (index_->Find(id) != nullptr) return StartCopy(record, begin);
  auto open = open_.find(id);
  if (open != open_.end()) {
    // Ids are never reused, so an open transfer followed by another
    // MessageBegin is a compacted copy whose rest was unlinked after a later
    // copy replaced it (queue_format §4.8): the later one is the message.
    open_.erase(open);
    ++result_->abandoned_copies;
  }
  FillEnvelope(open_[id].entry, begin, Span(record));
}

void ReplayFold::StartCopy(const LogRecord& record, const MessageBegin& begin) {
  // An earlier copy that never reached its MessageMoved was abandoned (the
  // compactor gave up on it): this one starts afresh.
  OpenCopy& copy = copies_[begin.message_id];
  copy = OpenCopy{};
  FillEnvelope(copy.transfer.entry, begin, Span(record));
}

bool ReplayFold::CopyChunk(const LogRecord& record, const BodyChunk& chunk) {
  auto it = copies_.find(chunk.message_id);
  if (it == copies_.end()) return false;
  OpenCopy& copy = it->second;
  if (copy.committed || copy.transfer.body_broken) {
    copy.transfer.body_broken = true;
    return true;
  }
  copy.transfer.entry.chunks.push_back(Span(record));
  if (!copy.transfer.tally.AddChunk(chunk).ok()) copy.transfer.body_broken = true;
  return true;
}

bool ReplayFold::CopyCommit(const LogRecord& record, const MessageCommit& commit) {
  auto it = copies_.find(commit.message_id);
  if (it == copies_.end() || it->second.committed) return false;
  OpenCopy& copy = it->second;
  if (copy.transfer.body_broken || !copy.transfer.tally.Verify(commit).ok()) {
    // Damage in a copy: the message's older records may be gone already.
    copies_.erase(it);
    Logical(record, "compacted copy does not verify", commit.message_id);
    return true;
  }
  copy.committed = true;
  copy.transfer.entry.commit_segment = segment_;
  copy.transfer.entry.body_bytes = copy.transfer.tally.bytes();
  return true;
}

bool ReplayFold::CopyOutcome(const LogRecord& record, RecordType type,
                             const RecipientOutcome& outcome, const RecipientDeferred* deferred) {
  auto it = copies_.find(outcome.message_id);
  if (it == copies_.end() || !it->second.committed) return false;
  OpenCopy& copy = it->second;
  MessageEntry& entry = copy.transfer.entry;
  if (outcome.recipient >= entry.recipients.size()) {
    copies_.erase(it);
    Logical(record, "recipient outcome beyond the copy's envelope", outcome.message_id);
    return false;
  }
  entry.segments.push_back(segment_);
  RecipientEntry& recipient = entry.recipients[outcome.recipient];
  for (size_t i = 0; i < copy.failed.size(); ++i) {
    if (copy.failed[i].recipient == outcome.recipient) {
      copy.failed.erase(copy.failed.begin() + static_cast<std::ptrdiff_t>(i));
      break;
    }
  }
  if (type == RecordType::kRecipientDelivered) {
    recipient.state = RecipientState::kDelivered;
  } else if (type == RecordType::kRecipientFailed) {
    recipient.state = RecipientState::kFailed;
    copy.failed.push_back(FailedRecord{outcome.recipient, Span(record)});
  } else {
    recipient.state = RecipientState::kPending;
    recipient.next_attempt_ms = deferred->retry_at_ms;
    recipient.attempts = deferred->attempts;
  }
  return true;
}

void ReplayFold::OnMoved(const LogRecord& record, const MessageMoved& moved) {
  const uint64_t id = moved.message_id;
  auto it = copies_.find(id);
  if (it == copies_.end()) {
    // The copy's MessageBegin came when nothing older of the message was
    // left: it replayed as the message itself.
    if (!index_->NoteRecord(id, segment_)) Orphan(record, id);
    return;
  }
  OpenCopy copy = std::move(it->second);
  copies_.erase(it);
  if (!copy.committed) return Logical(record, "MessageMoved before its copy's commit", id);
  MessageEntry& entry = copy.transfer.entry;
  // A complete copy supersedes whatever survived of the older records,
  // including an entry made for orphaned ones.
  entry.quarantined = false;
  index_->ReplaceMessage(std::move(entry), std::move(copy.failed), segment_);
  orphans_.erase(id);
  ++result_->copies_replayed;
}

void ReplayFold::OnChunk(const LogRecord& record, const BodyChunk& chunk) {
  if (CopyChunk(record, chunk)) return;
  auto it = open_.find(chunk.message_id);
  if (it == open_.end()) {
    MessageEntry* entry = index_->Find(chunk.message_id);
    if (entry == nullptr || entry->begin.segment == 0) return Orphan(record, chunk.message_id);
    return Logical(record, "body chunk after the commit", chunk.message_id);
  }
  OpenTransfer& transfer = it->second;
  transfer.entry.chunks.push_back(Span(record));
  if (transfer.body_broken) return;
  absl::Status added = transfer.tally.AddChunk(chunk);
  if (!added.ok()) {
    transfer.body_broken = true;
    Logical(record, std::string(added.message()), chunk.message_id);
  }
}

void ReplayFold::OnCommit(const LogRecord& record, const MessageCommit& commit) {
  const uint64_t id = commit.message_id;
  if (CopyCommit(record, commit)) return;
  auto it = open_.find(id);
  if (it == open_.end()) {
    const MessageEntry* entry = index_->Find(id);
    if (entry == nullptr || entry->begin.segment == 0) return Orphan(record, id);
    return Logical(record, "second MessageCommit for the message", id);
  }
  OpenTransfer transfer = std::move(it->second);
  open_.erase(it);
  absl::Status verified = transfer.body_broken ? absl::OkStatus() : transfer.tally.Verify(commit);
  MessageEntry& entry = transfer.entry;
  entry.commit_segment = segment_;
  entry.body_bytes = transfer.tally.bytes();
  entry.quarantined = transfer.quarantined || transfer.body_broken || !verified.ok();
  index_->AddMessage(std::move(entry));
  // Reported after adding, so the damage names a message the index holds.
  if (!verified.ok()) Logical(record, std::string(verified.message()), id);
}

void ReplayFold::OnOutcome(const LogRecord& record, RecordType type,
                           const RecipientOutcome& outcome, const RecipientDeferred* deferred) {
  const uint64_t id = outcome.message_id;
  if (open_.contains(id)) return Logical(record, "recipient outcome before the commit", id);
  const bool copied = CopyOutcome(record, type, outcome, deferred);
  const MessageEntry* entry = index_->Find(id);
  if (entry == nullptr || entry->begin.segment == 0) {
    // A committed copy explains it even when the older records are gone.
    if (copied && entry != nullptr) return (void)index_->NoteRecord(id, segment_);
    return Orphan(record, id);
  }
  if (outcome.recipient >= entry->recipients.size()) {
    return Logical(record,
                   absl::StrFormat("recipient %d of %d", outcome.recipient,
                                   entry->recipients.size()),
                   id);
  }
  switch (type) {
    case RecordType::kRecipientDelivered:
      index_->MarkDelivered(id, outcome.recipient, segment_);
      break;
    case RecordType::kRecipientFailed:
      index_->MarkFailed(id, outcome.recipient, Span(record));
      break;
    default:
      CHECK(deferred != nullptr);
      index_->MarkDeferred(id, outcome.recipient, segment_, deferred->retry_at_ms,
                           deferred->attempts);
  }
}

void ReplayFold::OnDone(const MessageDone& done) {
  copies_.erase(done.message_id);
  auto it = open_.find(done.message_id);
  if (it != open_.end()) {
    open_.erase(it);  // Finished without a commit: nothing to deliver.
    ++result_->abandoned;
    return;
  }
  // Unknown ids are messages whose every other record is already unlinked.
  if (index_->RemoveMessage(done.message_id, segment_)) orphans_.erase(done.message_id);
}

void ReplayFold::QuarantineMessage(uint64_t message_id) {
  auto it = open_.find(message_id);
  if (it != open_.end()) {
    it->second.quarantined = true;
    it->second.entry.segments.push_back(segment_);  // AddMessage sorts and dedups.
    return;
  }
  if (index_->Quarantine(message_id)) {
    index_->NoteRecord(message_id, segment_);
    return;
  }
  MessageEntry bare;
  bare.id = message_id;
  bare.quarantined = true;
  bare.segments.push_back(segment_);
  index_->AddMessage(std::move(bare));
}

void ReplayFold::Orphan(const LogRecord& record, uint64_t message_id) {
  QuarantineMessage(message_id);
  orphans_.try_emplace(message_id,
                       ReplayDamage{segment_, record.offset, record.end_offset - record.offset,
                                    "records of a message whose MessageBegin is missing",
                                    message_id});
}

void ReplayFold::Logical(const LogRecord& record, std::string kind, uint64_t message_id) {
  if (message_id != 0) QuarantineMessage(message_id);
  AddDamage({segment_, record.offset, record.end_offset - record.offset, std::move(kind),
             message_id});
}

void ReplayFold::AddDamage(ReplayDamage damage) {
  ++result_->damaged_regions;
  if (observer_ != nullptr) observer_->Damage(damage);
  if (result_->damage.size() < kDamageReportsMax) result_->damage.push_back(std::move(damage));
}

void ReplayFold::ResolveTornTail() {
  // Called before each record of segment_, while tail_ is still an earlier
  // segment's: torn ends that more records follow were not the end of the log.
  if (tail_ && tail_->torn) {
    after_tail_.insert(after_tail_.begin(), *tail_);
    tail_->torn = false;
  }
  for (const ReplayTail& torn : after_tail_) {
    const uint64_t bytes = torn.file_bytes - torn.end_offset;
    AddDamage({torn.segment, torn.end_offset, bytes,
               std::string(LogProblemName(torn.problem.value_or(LogProblem::kZeroType))), 0});
    result_->bytes_dropped += bytes;
  }
  if (!after_tail_.empty()) SuspectOpenTransfers();
  after_tail_.clear();
}

void ReplayFold::EndSegment(const SegmentFile& file, const SegmentScan& scan) {
  ReplayTail end{file.number, scan.end.offset, scan.end.data_end, scan.end.torn,
                 scan.end.tail ? std::optional<LogProblem>(scan.end.tail->problem) : std::nullopt};
  if (scan.stats.records > 0) {
    tail_ = end;  // Record() already resolved what came before.
  } else if (scan.end.torn) {
    // No record of its own, only torn bytes: the start of a segment whose
    // first write was cut short, part of the torn end unless records follow.
    after_tail_.push_back(end);
  }
  // All zeros (a spare segment, or the clean rest of a sealed one) says
  // nothing about where the log ends.
}

void ReplayFold::Finish() {
  result_->tail = tail_ ? tail_ : after_tail_.empty() ? std::nullopt
                                                      : std::optional<ReplayTail>(after_tail_.back());
  if (tail_ && tail_->end_offset < tail_->file_bytes) result_->truncations.push_back(*tail_);
  // Cutting these loses nothing: they hold no record of their segment.
  for (const ReplayTail& torn : after_tail_) result_->truncations.push_back(torn);
  for (auto& [id, transfer] : open_) {
    if (!transfer.suspect && !transfer.quarantined) {
      ++result_->abandoned;  // The client never got a 250 for it.
      continue;
    }
    transfer.entry.body_bytes = transfer.tally.bytes();
    transfer.entry.quarantined = true;
    index_->AddMessage(std::move(transfer.entry));
  }
  open_.clear();
  // Copies cut short by a crash: the message's older records still hold it.
  result_->abandoned_copies += copies_.size();
  copies_.clear();
  for (auto& [id, damage] : orphans_) AddDamage(std::move(damage));
  index_->ForEach([this](const MessageEntry& entry) {
    if (entry.quarantined) result_->quarantined_ids.push_back(entry.id);
  });
  std::sort(result_->quarantined_ids.begin(), result_->quarantined_ids.end());
}

// Logs what an operator must see; counts stay in the result.
class LoggingObserver : public ReplayObserver {
 public:
  explicit LoggingObserver(int shard) : shard_(shard) {}
  void Damage(const ReplayDamage& damage) override {
    if (++logged_ > kDamageReportsMax) return;
    Log(LogLevel::kWarning,
        "queue shard %d: damage in segment %d at offset %d (%d bytes): %s%s", shard_,
        damage.segment, damage.offset, damage.bytes, SanitizePeerText(damage.kind, 200),
        damage.message_id == 0 ? std::string()
                               : absl::StrFormat("; message %d quarantined", damage.message_id));
  }

 private:
  const int shard_;
  size_t logged_ = 0;
};

absl::Status TruncateTail(const std::string& path, uint64_t end_offset) {
  int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoToStatus(errno, "open " + path);
  absl::Status status;
  if (ftruncate(fd, static_cast<off_t>(end_offset)) != 0) {
    status = ErrnoToStatus(errno, "truncate " + path);
  } else if (fsync(fd) != 0) {
    status = ErrnoToStatus(errno, "fsync " + path);
  }
  close(fd);
  return status;
}

absl::Status SyncDirectory(const std::string& directory) {
  int fd = open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoToStatus(errno, "open " + directory);
  absl::Status status;
  if (fsync(fd) != 0) status = ErrnoToStatus(errno, "fsync " + directory);
  close(fd);
  return status;
}

}  // namespace

absl::StatusOr<RecoveryResult> ReplayShard(const std::string& shard_directory, int shard,
                                           QueueIndex* index, ReplayObserver* observer) {
  CHECK(index->message_count() == 0 && index->segment_count() == 0);
  const int64_t start_ms = MonotonicNowMs();
  RecoveryResult result;
  absl::StatusOr<std::vector<SegmentFile>> files = ListSegments(shard_directory);
  if (absl::IsNotFound(files.status())) return result;  // Nothing was ever queued here.
  if (!files.ok()) return files.status();

  ReplayFold fold(shard, index, observer, &result);
  std::string buffer;
  for (const SegmentFile& file : *files) {
    index->TrackSegment(file.number);
    if (observer != nullptr) observer->SegmentStart(file);
    fold.StartSegment(file);
    ASSIGN_OR_RETURN(SegmentScan scan, ScanSegment(file, &fold, &buffer));
    fold.EndSegment(file, scan);
    if (observer != nullptr) observer->SegmentEnd(file, scan);
    ++result.segments_scanned;
    result.bytes_scanned += scan.end.data_end;
  }
  fold.Finish();

  if (!files->empty()) {
    const uint32_t highest = files->back().number;
    if (highest == UINT32_MAX) {
      return absl::ResourceExhaustedError("segment numbers exhausted in " + shard_directory);
    }
    result.next_segment = highest + 1;
    result.dead_segments = index->DeadSegments(highest);
  }
  result.messages = index->message_count();
  result.queued_bytes = index->queued_bytes();
  result.elapsed_ms = MonotonicNowMs() - start_ms;
  return result;
}

absl::StatusOr<RecoveryResult> RecoverShard(const std::string& shard_directory, int shard,
                                            QueueIndex* index) {
  LoggingObserver logger(shard);
  ASSIGN_OR_RETURN(RecoveryResult result, ReplayShard(shard_directory, shard, index, &logger));
  for (const ReplayTail& tail : result.truncations) {
    if (tail.torn) {
      Log(LogLevel::kInfo, "queue shard %d: torn tail of segment %d: %d bytes at offset %d (%s)",
          shard, tail.segment, tail.file_bytes - tail.end_offset, tail.end_offset,
          tail.problem ? LogProblemName(*tail.problem) : std::string_view("-"));
    }
    RETURN_IF_ERROR(
        TruncateTail(shard_directory + "/" + SegmentFileName(tail.segment), tail.end_offset));
    result.truncated = true;
  }
  const size_t shown = std::min<size_t>(result.quarantined_ids.size(), 20);
  for (size_t i = 0; i < shown; ++i) {
    Log(LogLevel::kWarning, "queue shard %d: message %d is quarantined", shard,
        result.quarantined_ids[i]);
  }
  Log(LogLevel::kInfo,
      "queue shard %d: recovered %d messages (%d bytes) from %d segments, %d records in %d ms; "
      "%d damaged regions (%d bytes), %d quarantined, %d abandoned",
      shard, result.messages, result.queued_bytes, result.segments_scanned,
      result.records_replayed, result.elapsed_ms, result.damaged_regions, result.bytes_dropped,
      result.quarantined_ids.size(), result.abandoned);
  return result;
}

absl::Status RemoveDeadSegments(const std::string& shard_directory,
                                const std::vector<uint32_t>& segments, QueueIndex* index) {
  if (segments.empty()) return absl::OkStatus();
  for (uint32_t segment : segments) {
    std::string path = shard_directory + "/" + SegmentFileName(segment);
    if (unlink(path.c_str()) != 0 && errno != ENOENT) {
      return ErrnoToStatus(errno, "unlink " + path);
    }
  }
  // Forget only once the unlinks are durable: a segment pinned by these
  // (its MessageDone) may be unlinked next, and must not vanish first.
  RETURN_IF_ERROR(SyncDirectory(shard_directory));
  for (uint32_t segment : segments) index->ForgetSegment(segment);
  return absl::OkStatus();
}

absl::StatusOr<size_t> RemoveDeadSegmentsFully(const std::string& shard_directory,
                                               uint32_t keep_from, QueueIndex* index,
                                               const std::function<void(uint32_t)>& removed) {
  size_t count = 0;
  for (int round = 0; round < kSweepRoundsMax; ++round) {
    std::vector<uint32_t> dead = index->DeadSegments(keep_from);
    if (dead.empty()) break;
    RETURN_IF_ERROR(RemoveDeadSegments(shard_directory, dead, index));
    for (uint32_t segment : dead) {
      if (removed) removed(segment);
    }
    count += dead.size();
  }
  return count;
}

uint64_t FirstMessageId(int shard, uint64_t highest_message_id, int64_t wall_us) {
  CHECK(shard >= 0 && shard < 128);
  constexpr uint64_t kCounterMask = (uint64_t{1} << 56) - 1;
  const uint64_t prefix = static_cast<uint64_t>(shard) << 56;
  uint64_t counter = wall_us > 0 ? static_cast<uint64_t>(wall_us) & kCounterMask : 1;
  if ((highest_message_id & ~kCounterMask) == prefix) {
    counter = std::max(counter, (highest_message_id & kCounterMask) + 1);
  }
  CHECK(counter <= kCounterMask);  // 2^56 ids: centuries at any real rate.
  return prefix | std::max<uint64_t>(counter, 1);
}

}  // namespace ringmta::queue
