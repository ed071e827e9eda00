// QueueRunner: the home shard's side of delivery. It keeps the schedule of
// queued messages (when each is next due), turns a due message into one
// DeliveryJob per route and sends it to the route's owner shard, and
// applies the outcomes that come back: records in the log, the index, retry
// times with backoff, expiry at the deadline, and the end of the message.
// Not here: connections (Destination, outbound sessions).
#ifndef RINGMTA_MTA_RELAY_QUEUE_RUNNER_H_
#define RINGMTA_MTA_RELAY_QUEUE_RUNNER_H_

#include <cstdint>
#include <utility>

#include "absl/container/btree_set.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/random/random.h"
#include "mta/io/task.h"
#include "mta/io/timer_wheel.h"
#include "mta/relay/bounce.h"
#include "mta/relay/delivery_job.h"
#include "queue/compactor.h"
#include "queue/shard_queue.h"

namespace ringmta::relay {

class RelayShard;

class QueueRunner : public queue::CommitListener {
 public:
  explicit QueueRunner(RelayShard& relay);
  void Start();
  ~QueueRunner() override;

  // Due now (a new message, or one found by recovery).
  void OnMessageCommitted(uint64_t id) override { Schedule(id, 0); }
  void Schedule(uint64_t id, int64_t due_ms);
  // Outcomes from the owner shard; takes the job back and frees it.
  void ApplyOutcome(DeliveryJob* job);
  void Stop();

  size_t scheduled() const { return schedule_.size(); }
  size_t in_flight() const { return in_flight_.size(); }
  // The retry delay after `attempts` failed attempts (1 = first retry).
  int64_t BackoffMs(uint32_t attempts);

  // Control plane (mta/admin), on the home shard's thread; each returns
  // false when the message is not (or no longer) queued here.
  // Makes every pending recipient due now.
  bool FlushMessage(uint64_t id);
  // Removes the message with a MessageDone(deleted) record: no bounce. A
  // delivery already under way may still complete; its outcome is ignored.
  bool DeleteMessage(uint64_t id);
  // Fails every pending recipient (5.0.0) so the sender gets a DSN, as at
  // expiry.
  bool BounceMessage(uint64_t id);
  bool is_in_flight(uint64_t id) const { return in_flight_.contains(id); }
  // The destination (route key) a domain's recipients go to as far as this
  // shard knows without asking DNS: the smart host's key, the MX site last
  // resolved here, or "domain:NAME" when not resolved yet.
  std::string DestinationOf(const std::string& domain) const;
  // The last deferral or failure text of each recipient, or null when there
  // was none. RAM only: a restart forgets it (the log keeps it).
  const std::vector<std::string>* LastResponses(uint64_t id) const;

 private:
  static void OnTimer(io::Timer* timer, void* context);
  static void OnSweep(io::Timer* timer, void* context);
  static void OnCommitTimer(io::Timer* timer, void* context);
  // Unlinks segments nothing live needs any more and starts compacting the
  // mostly-dead ones (DESIGN §4: disk stays bounded), every kSweepIntervalMs.
  void SweepSegments();
  void ArmTimer();
  void RunDue();
  io::Task<void> Dispatch(uint64_t id);
  void FinishIfDone(uint64_t id);
  void Expire(queue::MessageEntry& entry);
  // `job`: the attempt it came from, if any (for the delivery log).
  void RecordOutcome(uint64_t id, const RecipientOutcome& outcome, const DeliveryJob* job = nullptr);
  void CommitSoon();
  void WriteDone(uint64_t id);
  io::Task<void> BounceThenDone(uint64_t id, std::vector<FailureReport> failures);

  RelayShard& relay_;
  // (due_ms, id): the next attempt of every message not in flight.
  absl::btree_set<std::pair<int64_t, uint64_t>> schedule_;
  absl::flat_hash_set<uint64_t> in_flight_;  // dispatching or jobs out
  absl::flat_hash_map<uint64_t, int> pending_jobs_;  // jobs out per message
  // Failures of messages not yet finished, for their bounce.
  absl::flat_hash_map<uint64_t, std::vector<FailureReport>> failures_;
  std::unique_ptr<queue::Compactor> compactor_;  // made in Start()
  io::Timer timer_;
  io::Timer sweep_timer_;
  io::Timer commit_timer_;
  io::TaskGroup tasks_;
  absl::BitGen random_;
  // For the control plane: domain -> MX site key, bounded (cleared when
  // full: it is a hint for the summary, refilled by the next dispatch).
  absl::flat_hash_map<std::string, std::string> mx_site_of_domain_;
  absl::flat_hash_map<uint64_t, std::vector<std::string>> last_responses_;
  void NoteResponse(uint64_t id, const RecipientOutcome& outcome, size_t recipients);
  bool commit_pending_ = false;  // commit_timer_ armed
  bool commit_running_ = false;  // a commit task is under way
  bool commit_again_ = false;    // records appended since it began
  bool stopped_ = false;
};

}  // namespace ringmta::relay

#endif  // RINGMTA_MTA_RELAY_QUEUE_RUNNER_H_
