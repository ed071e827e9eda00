// Destination: one route (smart host or MX site) on its owner shard. Jobs
// wait in a bounded ready queue; outbound sessions take them. The number of
// sessions follows a concurrency window that starts small, grows with each
// delivery and halves when connections fail (Postfix's scheduler); repeated
// connection failures put the destination in backoff, during which new jobs
// are deferred at once and a single probe session tests the waters.
// Optional rate limits (messages/s, new connections/s) are token buckets on
// the owner shard's clock: a limited destination sleeps on one timer until
// its next token, never spins, and never holds up another destination.
// Not here: SMTP (outbound_session) or what outcomes mean (queue_runner).
#ifndef RINGMTA_MTA_RELAY_DESTINATION_H_
#define RINGMTA_MTA_RELAY_DESTINATION_H_

#include <coroutine>
#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "mta/io/timer_wheel.h"
#include "mta/relay/delivery_job.h"
#include "mta/relay/destination_host.h"
#include "mta/relay/relay_config.h"
#include "mta/relay/token_bucket.h"

namespace ringmta::relay {

class Destination {
 public:
  Destination(DestinationHost& host, std::string key, std::vector<NextHop> hops);
  ~Destination();
  Destination(const Destination&) = delete;
  Destination& operator=(const Destination&) = delete;

  // Takes the job; it goes home with outcomes later, whatever happens.
  void Submit(DeliveryJob* job);

  // For sessions: the next job, or nullptr after `idle_ms` without one (or
  // at shutdown). The session owns the job until it calls Finish. A session
  // held back only by the messages/s limit is not idle: it keeps waiting.
  class NextJobAwaiter;
  NextJobAwaiter NextJob(int64_t idle_ms);
  void Finish(DeliveryJob* job);
  // A session that lost its pooled connection gives its job back (first in
  // line) instead of reconnecting itself: a new connection is the
  // destination's to grant, under its connections/s limit.
  void Requeue(DeliveryJob* job);

  void OnConnected();
  void OnConnectFailed();
  void OnDelivered();
  void OnSessionEnded();
  // Wakes idle sessions with nullptr and defers queued jobs: shutdown.
  void Stop();

  // True once nothing here is worth remembering: no jobs, no sessions, no
  // backoff, no suspension, and quiet for `forget_ms`. The owner may then
  // delete it.
  bool Forgettable(int64_t now_ms, int64_t forget_ms) const;

  // Control plane. A suspended destination opens no connection; its jobs
  // wait in the ready queue (on this owner shard) until Resume or `until_ms`
  // (reactor time; INT64_MAX: until resumed). Not kept across restarts.
  void Suspend(int64_t until_ms);
  void Resume();
  // Forgets connection failures: the next job may connect at once (flush).
  void ClearBackoff();
  // Starts sessions if limits allow (after a reload or a resume).
  void Kick() { MaybeStartSession(); }
  bool suspended() const;
  int64_t suspended_until_ms() const { return suspended_until_ms_; }
  // "active", "backoff" or "suspended".
  const char* state() const;
  const std::string& last_error() const { return last_error_; }
  // Kept short: it is shown in a table row, the log has the whole text.
  void set_last_error(std::string text) { last_error_ = text.substr(0, kLastErrorBytesMax); }
  static constexpr size_t kLastErrorBytesMax = 300;

  const std::string& key() const { return key_; }
  const std::vector<NextHop>& hops() const { return hops_; }
  void set_hops(std::vector<NextHop> hops) { hops_ = std::move(hops); }
  size_t queued() const { return ready_.size(); }
  int sessions() const { return sessions_; }
  int window() const { return window_; }
  bool idle() const { return sessions_ == 0 && ready_.empty(); }
  // Times a rate limit made this destination wait for a token.
  uint64_t message_rate_waits() const { return message_rate_waits_; }
  uint64_t connection_rate_waits() const { return connection_rate_waits_; }

  class NextJobAwaiter {
   public:
    NextJobAwaiter(Destination& destination, int64_t idle_ms);
    NextJobAwaiter(const NextJobAwaiter&) = delete;
    NextJobAwaiter& operator=(const NextJobAwaiter&) = delete;
    bool await_ready();
    void await_suspend(std::coroutine_handle<> handle);
    DeliveryJob* await_resume() const { return job_; }

   private:
    friend class Destination;
    static void OnTimeout(io::Timer* timer, void* context);
    void Wake(DeliveryJob* job);
    // Idle deadline from now; pushed out while jobs wait for a token.
    int64_t DeadlineMs();

    Destination& destination_;
    int64_t idle_ms_;
    io::Timer timer_;
    std::coroutine_handle<> handle_;
    DeliveryJob* job_ = nullptr;
    NextJobAwaiter* next_ = nullptr;
    NextJobAwaiter* prev_ = nullptr;
  };

 private:
  // Hands ready jobs to idle sessions while message tokens last, then
  // starts a session if the limits allow.
  void Dispatch();
  void MaybeStartSession();
  // Arms the rate timer for `wait_ms` from now, unless it fires sooner.
  void WaitForToken(int64_t wait_ms, uint64_t* waits);
  static void OnRateTimer(io::Timer* timer, void* context);
  void DeferAll(std::string reason);
  void Unlink(NextJobAwaiter* waiter);
  bool in_backoff() const;

  DestinationHost& host_;
  std::string key_;
  std::vector<NextHop> hops_;
  std::deque<DeliveryJob*> ready_;
  NextJobAwaiter* idle_head_ = nullptr;  // sessions waiting for a job
  int sessions_ = 0;
  int window_;
  int consecutive_failures_ = 0;
  int64_t backoff_until_ms_ = 0;
  int64_t last_active_ms_;
  TokenBucket message_tokens_;
  TokenBucket connection_tokens_;
  io::Timer rate_timer_;
  uint64_t message_rate_waits_ = 0;
  uint64_t connection_rate_waits_ = 0;
  int64_t suspended_until_ms_ = 0;  // 0: not suspended
  io::Timer suspend_timer_;
  std::string last_error_;
  bool stopping_ = false;
  static void OnSuspendEnd(io::Timer* timer, void* context);
};

}  // namespace ringmta::relay

#endif  // RINGMTA_MTA_RELAY_DESTINATION_H_
