// Compactor: chooses mostly-dead sealed segments, copies their live messages
// to the end of the log, and repoints the index once the copies are durable.
// The copy's layout and the replay rule are in queue_format §4.8.
#include "queue/compactor.h"

#include <algorithm>
#include <utility>
#include <variant>

#include "mta/base/check.h"
#include "mta/base/clock.h"
#include "mta/base/log.h"
#include "mta/base/status.h"
#include "mta/io/operation.h"
#include "queue/queue_limits.h"
#include "queue/records.h"

namespace ringmta::queue {
namespace {

// What moving the message copies: its envelope and body as framed on disk.
uint64_t MessageBytes(const MessageEntry& entry) {
  uint64_t bytes = entry.begin.end_offset - entry.begin.offset;
  for (size_t i = 0; i < entry.chunks.size(); ++i) {
    bytes += entry.chunks[i].end_offset - entry.chunks[i].offset;
  }
  return bytes;
}

constexpr uint64_t kTooCostly = UINT64_MAX;
// Waiting for the spool's next segment (made ahead of need, so this is rare):
// every kSpareWaitMs, at most kSpareWaitsMax times (then the pass gives up).
constexpr int64_t kSpareWaitMs = 2;
constexpr int kSpareWaitsMax = 2500;

}  // namespace

Compactor::Compactor(io::Reactor& reactor, ShardQueue& queue, SegmentReader& reader,
                     std::function<bool(uint64_t)> busy)
    : reactor_(reactor), queue_(queue), reader_(reader), busy_(std::move(busy)) {}

void Compactor::MaybeStart(io::TaskGroup& tasks, uint32_t keep_from) {
  if (running_ || stopping_ || queue_.spool == nullptr) return;
  io::Spawn(reactor_, tasks, [](Compactor* self, uint32_t keep) -> io::Task<void> {
    absl::Status status = co_await self->RunPass(keep);
    if (!status.ok()) {
      Log(LogLevel::kWarning, "queue shard %d: compaction stopped: %s", self->queue_.shard,
          std::string(status.message()));
    }
  }(this, keep_from));
}

std::vector<uint64_t> Compactor::ChooseMessages(uint32_t keep_from) {
  const uint64_t cost_max = queue_.spool->segment_bytes() * kCompactCostPercentMax / 100;
  for (auto it = too_costly_.begin(); it != too_costly_.end();) {
    auto here = it++;
    if (queue_.index.SegmentLiveMessages(here->first) != here->second) too_costly_.erase(here);
  }
  // Tracked segments with nothing live left the sweep could not unlink are
  // pinned: they hold MessageDone (or MessageMoved) records of messages
  // whose older records are in an earlier segment that is still live. Those
  // pins chain, so one long-lived segment can hold every dead segment after
  // it. Emptying the live segment before such a run frees the whole run,
  // which raises what it may cost.
  struct Usage {
    uint32_t segment;
    uint32_t live;
    uint64_t live_bytes;
  };
  std::vector<Usage> usage;
  queue_.index.ForEachSegmentBelow(keep_from, [&](uint32_t segment, uint32_t live,
                                                  uint64_t live_bytes) {
    usage.push_back({segment, live, live_bytes});
  });
  absl::flat_hash_map<uint32_t, uint64_t> cost;
  absl::flat_hash_map<uint32_t, uint64_t> allowed;
  std::vector<uint32_t> order;
  for (size_t i = 0; i < usage.size(); ++i) {
    if (usage[i].live == 0) continue;
    uint64_t pinned_after = 0;
    for (size_t j = i + 1; j < usage.size() && usage[j].live == 0; ++j) ++pinned_after;
    const uint64_t limit = cost_max * (1 + pinned_after);
    // Cheap filter first: a segment's own envelopes and bodies are a lower
    // bound of what emptying it copies.
    if (usage[i].live_bytes > limit || too_costly_.contains(usage[i].segment)) continue;
    cost[usage[i].segment] = 0;
    allowed[usage[i].segment] = limit;
    order.push_back(usage[i].segment);
  }
  if (order.empty()) return {};
  // The true cost counts every message touching the segment in full: one
  // whose body lives elsewhere but whose retry record is here is copied whole.
  // One walk over the index per pass (not per segment).
  absl::flat_hash_map<uint32_t, std::vector<uint64_t>> members;
  queue_.index.ForEach([&](const MessageEntry& entry) {
    const bool movable = !entry.quarantined && entry.begin.segment != 0;
    const uint64_t bytes = MessageBytes(entry);
    for (uint32_t segment : entry.segments) {
      auto it = cost.find(segment);
      if (it == cost.end()) continue;
      it->second = !movable || it->second == kTooCostly ? kTooCostly : it->second + bytes;
      members[segment].push_back(entry.id);
    }
  });
  std::vector<uint64_t> ids;
  absl::flat_hash_set<uint64_t> chosen;
  uint64_t budget = 0;
  for (uint32_t segment : order) {
    if (cost[segment] > allowed[segment]) {
      too_costly_[segment] = queue_.index.SegmentLiveMessages(segment);
      continue;
    }
    if (budget + cost[segment] > kCompactPassBytesMax && !ids.empty()) break;
    budget += cost[segment];
    ++stats_.segments_chosen;
    for (uint64_t id : members[segment]) {
      if (chosen.insert(id).second) ids.push_back(id);
    }
  }
  return ids;
}

io::Task<absl::Status> Compactor::RunPass(uint32_t keep_from) {
  if (running_ || stopping_ || queue_.spool == nullptr) co_return absl::OkStatus();
  running_ = true;
  ++stats_.passes;
  const std::vector<uint64_t> ids = ChooseMessages(keep_from);
  absl::Status status;
  size_t next = 0;
  while (next < ids.size() && !stopping_ && status.ok()) {
    std::vector<uint64_t> batch;
    uint64_t bytes = 0;
    for (; next < ids.size() && bytes < kCompactBatchBytesMax &&
           batch.size() < kCompactBatchMessagesMax;
         ++next) {
      const MessageEntry* entry = queue_.index.Find(ids[next]);
      if (entry == nullptr || entry->quarantined || busy_(ids[next])) continue;
      bytes += MessageBytes(*entry);
      batch.push_back(ids[next]);
    }
    if (!batch.empty()) status = co_await MoveBatch(batch);
  }
  running_ = false;
  co_return status;
}

io::Task<absl::Status> Compactor::MoveBatch(const std::vector<uint64_t>& ids) {
  for (uint64_t id : ids) moving_.insert(id);
  Spool& spool = *queue_.spool;
  // Records appended but not yet written (a failure record, the end of a
  // just-sealed segment) cannot be read back: write them first.
  absl::Status status = co_await spool.Commit();
  std::vector<Copy> copies;
  const uint64_t epoch = spool.epoch();
  for (size_t i = 0; i < ids.size() && status.ok() && !stopping_; ++i) {
    Copy copy;
    absl::StatusOr<bool> appended = co_await AppendCopy(ids[i], &copy);
    if (appended.ok() && *appended) {
      copies.push_back(std::move(copy));
    } else {
      if (!appended.ok()) status = appended.status();
      Abandon(copy);
    }
  }
  if (status.ok() && !copies.empty()) {
    // The index may point at a copy only once it is durable: until then the
    // old records are the message.
    status = co_await spool.Commit();
    if (status.ok() && spool.epoch() != epoch) {
      status = absl::UnavailableError("a queue write failed while copying");
    }
  }
  if (status.ok()) {
    for (Copy& copy : copies) Swap(copy);
  } else {
    for (const Copy& copy : copies) Abandon(copy);
  }
  for (uint64_t id : ids) moving_.erase(id);
  co_return status;
}

void Compactor::Abandon(const Copy& copy) {
  ++stats_.copies_abandoned;
  // Whatever of the copy reached the log may be durable: if it outlived the
  // message's own records it would replay as the message (a duplicate). So
  // the message keeps its segments, and its MessageDone will pin them.
  if (copy.id == 0 || queue_.index.Find(copy.id) == nullptr) return;
  auto note = [&](uint32_t segment) {
    if (segment != 0) queue_.index.NoteRecord(copy.id, segment);
  };
  note(copy.begin.segment);
  for (size_t i = 0; i < copy.chunks.size(); ++i) note(copy.chunks[i].segment);
  note(copy.commit_segment);
  for (uint32_t segment : copy.outcome_segments) note(segment);
  note(copy.moved_segment);
}

io::Task<absl::StatusOr<bool>> Compactor::AppendCopy(uint64_t id, Copy* copy) {
  copy->id = id;
  const MessageEntry* entry = queue_.index.Find(id);
  if (entry == nullptr || entry->quarantined || entry->begin.segment == 0) co_return false;
  Spool& spool = *queue_.spool;
  const std::string& directory = spool.shard_directory();
  const RecordSpan begin = entry->begin;
  std::vector<RecordSpan> chunks;
  for (size_t i = 0; i < entry->chunks.size(); ++i) chunks.push_back(entry->chunks[i]);
  FailedRecords failed;
  if (const FailedRecords* known = queue_.index.FailedRecordsOf(id)) failed = *known;

  std::string payload;
  if (absl::Status read = co_await reader_.Read(directory, begin, &payload); !read.ok()) {
    // Left where it is: delivery will meet the same damage and report it.
    Log(LogLevel::kWarning, "queue %s: not compacted: %s", FormatQueueId(id),
        std::string(read.message()));
    co_return false;
  }
  absl::StatusOr<RecordLocation> location = co_await Put(payload);
  if (!location.ok()) co_return location.status();
  copy->begin = ToSpan(*location);
  stats_.bytes_copied += payload.size();
  BodyTally tally;
  for (const RecordSpan& span : chunks) {
    if (absl::Status read = co_await reader_.Read(directory, span, &payload); !read.ok()) {
      Log(LogLevel::kWarning, "queue %s: not compacted: %s", FormatQueueId(id),
          std::string(read.message()));
      co_return false;
    }
    absl::StatusOr<Record> decoded = DecodeRecord(payload);
    const BodyChunk* chunk = decoded.ok() ? std::get_if<BodyChunk>(&*decoded) : nullptr;
    if (chunk == nullptr || chunk->message_id != id || chunk->chunk_index != tally.chunks()) {
      co_return false;
    }
    tally.Add(chunk->data);
    location = co_await Put(payload);
    if (!location.ok()) co_return location.status();
    copy->chunks.push_back(ToSpan(*location));
    stats_.bytes_copied += payload.size();
    if (spool.write_behind_full()) co_await spool.WaitWriteBehind();
  }
  std::vector<std::string> failed_payloads;
  for (const FailedRecord& record : failed) {
    failed_payloads.emplace_back();
    absl::Status read = co_await reader_.Read(directory, record.span, &failed_payloads.back());
    const std::string& bytes = failed_payloads.back();
    if (!read.ok() || bytes.empty() ||
        bytes[0] != static_cast<char>(RecordType::kRecipientFailed) || PeekMessageId(bytes) != id) {
      co_return false;
    }
  }
  // The message is Moving: nothing changes its states until the swap.
  entry = queue_.index.Find(id);
  if (entry == nullptr || entry->quarantined || entry->begin.segment != begin.segment ||
      entry->begin.offset != begin.offset || tally.bytes() != entry->body_bytes) {
    co_return false;
  }
  const std::vector<StateRecord> states = StateRecords(*entry, failed_payloads, failed);
  location = co_await Put(EncodeMessageCommit(tally.Commit(id)));
  if (!location.ok()) co_return location.status();
  copy->commit_segment = location->segment;
  for (const StateRecord& state : states) {
    location = co_await Put(state.payload);
    if (!location.ok()) co_return location.status();
    copy->outcome_segments.push_back(location->segment);
    if (state.failure) copy->failed.push_back(FailedRecord{state.recipient, ToSpan(*location)});
  }
  location = co_await Put(EncodeMessageMoved({id, WallNowMs()}));
  if (!location.ok()) co_return location.status();
  copy->moved_segment = location->segment;
  co_return true;
}

io::Task<absl::StatusOr<RecordLocation>> Compactor::Put(const std::string& payload) {
  Spool& spool = *queue_.spool;
  const uint64_t epoch = spool.epoch();
  for (int attempt = 0;; ++attempt) {
    absl::StatusOr<RecordLocation> location = spool.Append({payload});
    if (location.ok() || !absl::IsUnavailable(location.status()) || spool.epoch() != epoch ||
        attempt >= kSpareWaitsMax || stopping_) {
      co_return location;
    }
    co_await io::Sleep(reactor_, nullptr, kSpareWaitMs);
  }
}

std::vector<Compactor::StateRecord> Compactor::StateRecords(
    const MessageEntry& entry, const std::vector<std::string>& failed_payloads,
    const FailedRecords& failed) const {
  std::vector<StateRecord> records;
  const int64_t now_ms = WallNowMs();
  for (uint32_t i = 0; i < entry.recipients.size(); ++i) {
    const RecipientEntry& recipient = entry.recipients[i];
    RecipientOutcome outcome{entry.id, i, now_ms, {}, "", ""};
    if (recipient.state == RecipientState::kDelivered) {
      outcome.status = {2, 0, 0};
      records.push_back({EncodeRecipientDelivered({outcome}), i, false});
    } else if (recipient.state == RecipientState::kFailed) {
      // The original record, byte for byte: the bounce reads its text.
      std::string record;
      for (size_t f = 0; f < failed.size(); ++f) {
        if (failed[f].recipient == i) record = failed_payloads[f];
      }
      if (record.empty()) {
        outcome.status = {5, 0, 0};
        outcome.response = "failure details were not recorded";
        record = EncodeRecipientFailed({outcome});
      }
      records.push_back({std::move(record), i, true});
    } else if (recipient.attempts > 0 || recipient.next_attempt_ms > 0) {
      outcome.status = {4, 0, 0};
      records.push_back(
          {EncodeRecipientDeferred({outcome, std::clamp<uint32_t>(recipient.attempts, 1, kAttemptsMax),
                                    std::max(now_ms, recipient.next_attempt_ms)}),
           i, false});
    }
    // A recipient never tried needs no record: the envelope's default.
  }
  return records;
}

void Compactor::Swap(Copy& copy) {
  const MessageEntry* entry = queue_.index.Find(copy.id);
  if (entry == nullptr) return;  // Finished meanwhile: the copy is garbage.
  MessageEntry replacement;
  replacement.id = entry->id;
  replacement.begin = copy.begin;
  replacement.chunks = std::move(copy.chunks);
  replacement.commit_segment = copy.commit_segment;
  replacement.body_bytes = entry->body_bytes;
  replacement.received_ms = entry->received_ms;
  replacement.deadline_ms = entry->deadline_ms;
  replacement.sender = entry->sender;
  replacement.recipients = entry->recipients;
  for (uint32_t segment : copy.outcome_segments) replacement.segments.push_back(segment);
  std::sort(replacement.segments.begin(), replacement.segments.end());
  replacement.segments.erase(std::unique(replacement.segments.begin(), replacement.segments.end()),
                             replacement.segments.end());
  queue_.index.ReplaceMessage(std::move(replacement), std::move(copy.failed), copy.moved_segment);
  ++stats_.messages_moved;
}

}  // namespace ringmta::queue
