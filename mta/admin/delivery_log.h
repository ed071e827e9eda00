// The delivery log: one JSON line per event (received, delivered, deferred,
// bounced, expired), fields documented in docs/operations.md "Delivery
// log". DeliveryLog is shared by the shards and holds only the path and a
// reopen generation; each shard has a ShardDeliveryLog that formats its
// events, buffers the lines and writes them with io_uring to its own
// O_APPEND descriptor (appends from several shards never interleave within
// a line). A write batches every line produced since the last one began;
// while it is in flight new lines wait in a buffer bounded by
// kDeliveryLogBufferBytesMax, past which they are dropped and counted: a
// stuck disk never blocks a shard or delays a 250. Not here: deciding
// which events happen (mta/server, mta/relay report them).
#ifndef RINGMTA_MTA_ADMIN_DELIVERY_LOG_H_
#define RINGMTA_MTA_ADMIN_DELIVERY_LOG_H_

#include <atomic>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "mta/base/delivery_events.h"
#include "mta/base/shard_stats.h"
#include "mta/io/reactor.h"
#include "mta/io/task.h"

namespace ringmta::admin {

class DeliveryLog {
 public:
  explicit DeliveryLog(std::string path) : path_(std::move(path)) {}

  // Thread-safe (the daemon's SIGHUP path): every shard closes its
  // descriptor and opens the path anew before its next write, so after a
  // rename (logrotate) new lines go to a new file. A shard with nothing to
  // write keeps the old file open until it has.
  void Reopen() { generation_.fetch_add(1, std::memory_order_release); }

  const std::string& path() const { return path_; }
  uint64_t generation() const { return generation_.load(std::memory_order_acquire); }

 private:
  const std::string path_;
  std::atomic<uint64_t> generation_{0};
};

// The lines themselves, pure (for tests and for the writer below).
std::string FormatReceived(const ReceivedEvent& event, int64_t now_ms);
std::string FormatOutcome(const OutcomeEvent& event, int64_t now_ms);

class ShardDeliveryLog : public DeliveryEventSink {
 public:
  // `stats` counts dropped lines and write errors.
  ShardDeliveryLog(DeliveryLog& log, io::Reactor& reactor, ShardStats& stats,
                   size_t buffer_bytes_max);
  ~ShardDeliveryLog() override;

  // Opens the file (blocking; at shard start, before it accepts).
  absl::Status Open();
  void OnReceived(const ReceivedEvent& event) override;
  void OnOutcome(const OutcomeEvent& event) override;
  // For the shard's stop hook: writes what is buffered and waits for it.
  void Drain();

  size_t buffered_bytes() const { return pending_.size(); }

 private:
  void Append(std::string line);
  io::Task<void> WriteLoop();
  io::Task<void> ReopenIfAsked();

  DeliveryLog& log_;
  io::Reactor& reactor_;
  ShardStats& stats_;
  const size_t buffer_bytes_max_;
  int fd_ = -1;
  uint64_t generation_ = 0;
  std::string pending_;  // lines not yet handed to a write
  std::string writing_;  // the batch in flight
  bool writer_running_ = false;
  io::TaskGroup tasks_;
};

}  // namespace ringmta::admin

#endif  // RINGMTA_MTA_ADMIN_DELIVERY_LOG_H_
