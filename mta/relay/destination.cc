#include "mta/relay/destination.h"

#include <algorithm>

#include "mta/base/check.h"
#include "mta/base/log.h"

namespace ringmta::relay {
namespace {

// A limited destination may spend one second's worth of tokens at once
// after a quiet spell (at least one): smooth at the configured rate, yet a
// trickle of mail is not delayed at all.
int64_t BurstFor(int64_t rate_per_s) { return std::max<int64_t>(1, rate_per_s); }

}  // namespace

Destination::Destination(DestinationHost& host, std::string key, std::vector<NextHop> hops)
    : host_(host), key_(std::move(key)), hops_(std::move(hops)),
      window_(std::max(1, host.config().initial_concurrency)),
      last_active_ms_(host.now_ms()),
      message_tokens_(host.config().messages_per_second_per_destination,
                      BurstFor(host.config().messages_per_second_per_destination), host.now_ms()),
      connection_tokens_(host.config().connections_per_second_per_destination,
                         BurstFor(host.config().connections_per_second_per_destination),
                         host.now_ms()),
      rate_timer_(&Destination::OnRateTimer, this),
      suspend_timer_(&Destination::OnSuspendEnd, this) {}

Destination::~Destination() {
  host_.timers().Cancel(&suspend_timer_);
  CHECK(sessions_ == 0 && idle_head_ == nullptr);
  CHECK(ready_.empty());
  // rate_timer_ disarms itself when destroyed.
}

bool Destination::in_backoff() const { return backoff_until_ms_ > host_.now_ms(); }

bool Destination::Forgettable(int64_t now_ms, int64_t forget_ms) const {
  if (!idle() || stopping_ || backoff_until_ms_ > now_ms || suspended_until_ms_ != 0) return false;
  return now_ms - std::max(last_active_ms_, backoff_until_ms_) >= forget_ms;
}

void Destination::Submit(DeliveryJob* job) {
  last_active_ms_ = host_.now_ms();
  if (stopping_) {
    job->SetAllOutcomes(OutcomeKind::kDeferred, 0, "4.3.2", "shutting down");
    host_.ReturnJob(job);
    return;
  }
  // In backoff, one probe session may be out; everything else waits at home.
  if (in_backoff() && sessions_ > 0) {
    job->SetAllOutcomes(OutcomeKind::kDeferred, 0, "4.4.1",
                        "destination " + key_ + " in backoff after connection failures");
    host_.ReturnJob(job);
    return;
  }
  if (ready_.size() >= host_.config().ready_jobs_max) {
    job->SetAllOutcomes(OutcomeKind::kDeferred, 0, "4.3.2",
                        "destination " + key_ + " has too many messages waiting");
    host_.ReturnJob(job);
    return;
  }
  ready_.push_back(job);
  Dispatch();
}

void Destination::Dispatch() {
  // The most recently idle session first: the others may time out and close.
  while (idle_head_ != nullptr && !ready_.empty()) {
    if (!message_tokens_.TryTake(host_.now_ms())) {
      WaitForToken(message_tokens_.WaitMs(host_.now_ms()), &message_rate_waits_);
      return;
    }
    NextJobAwaiter* waiter = idle_head_;
    Unlink(waiter);
    DeliveryJob* job = ready_.front();
    ready_.pop_front();
    waiter->Wake(job);
  }
  MaybeStartSession();
}

bool Destination::suspended() const {
  return suspended_until_ms_ > host_.now_ms();
}

const char* Destination::state() const {
  if (suspended()) return "suspended";
  if (in_backoff()) return "backoff";
  return "active";
}

void Destination::Suspend(int64_t until_ms) {
  suspended_until_ms_ = until_ms;
  host_.timers().Cancel(&suspend_timer_);
  if (until_ms != INT64_MAX) host_.timers().Schedule(&suspend_timer_, until_ms);
  // Sessions already out finish their current message; idle ones end now,
  // so no connection stays open to a suspended destination.
  while (NextJobAwaiter* waiter = idle_head_) {
    Unlink(waiter);
    waiter->Wake(nullptr);
  }
}

void Destination::Resume() {
  suspended_until_ms_ = 0;
  host_.timers().Cancel(&suspend_timer_);
  MaybeStartSession();
}

void Destination::OnSuspendEnd(io::Timer*, void* context) {
  static_cast<Destination*>(context)->Resume();
}

void Destination::ClearBackoff() {
  consecutive_failures_ = 0;
  backoff_until_ms_ = 0;
  MaybeStartSession();
}

void Destination::MaybeStartSession() {
  // A session already waiting will take the next job when a token comes.
  if (stopping_ || ready_.empty() || idle_head_ != nullptr || suspended()) return;
  int limit = in_backoff() ? 1 : std::min(window_, host_.config().connections_per_destination_max);
  if (sessions_ >= limit) return;
  const int64_t now_ms = host_.now_ms();
  // Without a message token a new connection would only sit idle: wait.
  if (int64_t wait_ms = message_tokens_.WaitMs(now_ms); wait_ms > 0) {
    WaitForToken(wait_ms, &message_rate_waits_);
    return;
  }
  if (!connection_tokens_.TryTake(now_ms)) {
    WaitForToken(connection_tokens_.WaitMs(now_ms), &connection_rate_waits_);
    return;
  }
  ++sessions_;
  host_.StartSession(*this);
}

void Destination::WaitForToken(int64_t wait_ms, uint64_t* waits) {
  CHECK(wait_ms > 0);
  int64_t deadline_ms = host_.now_ms() + wait_ms;
  if (rate_timer_.armed() && rate_timer_.deadline_ms() <= deadline_ms) return;
  host_.timers().Schedule(&rate_timer_, deadline_ms);
  ++*waits;
}

void Destination::OnRateTimer(io::Timer*, void* context) {
  static_cast<Destination*>(context)->Dispatch();
}

void Destination::Finish(DeliveryJob* job) { host_.ReturnJob(job); }

void Destination::Requeue(DeliveryJob* job) {
  if (stopping_) {
    job->SetAllOutcomes(OutcomeKind::kDeferred, 0, "4.3.2", "shutting down");
    host_.ReturnJob(job);
    return;
  }
  ready_.push_front(job);
  Dispatch();
}

void Destination::OnConnected() {
  consecutive_failures_ = 0;
  backoff_until_ms_ = 0;
}

void Destination::OnConnectFailed() {
  window_ = std::max(1, window_ / 2);
  if (++consecutive_failures_ >= host_.config().destination_failures_max) {
    backoff_until_ms_ = host_.now_ms() + host_.config().destination_backoff_ms;
    Log(LogLevel::kWarning, "destination %s: %d connection failures; backing off", key_,
        consecutive_failures_);
  }
}

void Destination::OnDelivered() {
  if (window_ < host_.config().connections_per_destination_max) ++window_;
  MaybeStartSession();
}

void Destination::OnSessionEnded() {
  CHECK(sessions_ > 0);
  --sessions_;
  last_active_ms_ = host_.now_ms();
  // Jobs left without a session (its connection failed): in backoff they
  // go home deferred, otherwise another session takes them.
  if (in_backoff() && sessions_ == 0) {
    DeferAll("destination " + key_ + " in backoff after connection failures");
  }
  MaybeStartSession();
}

void Destination::DeferAll(std::string reason) {
  while (!ready_.empty()) {
    DeliveryJob* job = ready_.front();
    ready_.pop_front();
    job->SetAllOutcomes(OutcomeKind::kDeferred, 0, "4.4.1", reason);
    host_.ReturnJob(job);
  }
}

void Destination::Stop() {
  stopping_ = true;
  host_.timers().Cancel(&rate_timer_);
  DeferAll("shutting down");
  while (NextJobAwaiter* waiter = idle_head_) {
    Unlink(waiter);
    waiter->Wake(nullptr);
  }
}

void Destination::Unlink(NextJobAwaiter* waiter) {
  if (waiter->prev_ != nullptr) waiter->prev_->next_ = waiter->next_;
  else idle_head_ = waiter->next_;
  if (waiter->next_ != nullptr) waiter->next_->prev_ = waiter->prev_;
  waiter->next_ = waiter->prev_ = nullptr;
}

Destination::NextJobAwaiter Destination::NextJob(int64_t idle_ms) {
  return NextJobAwaiter(*this, idle_ms);
}

Destination::NextJobAwaiter::NextJobAwaiter(Destination& destination, int64_t idle_ms)
    : destination_(destination), idle_ms_(idle_ms), timer_(&NextJobAwaiter::OnTimeout, this) {}

bool Destination::NextJobAwaiter::await_ready() {
  Destination& d = destination_;
  if (d.stopping_ || d.suspended()) return true;
  if (d.ready_.empty() || !d.message_tokens_.TryTake(d.host_.now_ms())) return false;
  job_ = d.ready_.front();
  d.ready_.pop_front();
  return true;
}

int64_t Destination::NextJobAwaiter::DeadlineMs() {
  Destination& d = destination_;
  int64_t now_ms = d.host_.now_ms();
  if (d.ready_.empty()) return now_ms + idle_ms_;
  // Jobs are here but no token (callers checked): the session is busy
  // waiting, not idle. Look again no sooner than the token is due (>= 1 ms
  // away), so this never spins.
  return now_ms + std::max({idle_ms_, d.message_tokens_.WaitMs(now_ms), int64_t{1}});
}

void Destination::NextJobAwaiter::await_suspend(std::coroutine_handle<> handle) {
  Destination& d = destination_;
  handle_ = handle;
  prev_ = nullptr;
  next_ = d.idle_head_;
  if (next_ != nullptr) next_->prev_ = this;
  d.idle_head_ = this;
  if (!d.ready_.empty()) {
    d.WaitForToken(d.message_tokens_.WaitMs(d.host_.now_ms()), &d.message_rate_waits_);
  }
  d.host_.timers().Schedule(&timer_, DeadlineMs());
}

void Destination::NextJobAwaiter::Wake(DeliveryJob* job) {
  destination_.host_.timers().Cancel(&timer_);
  job_ = job;
  destination_.host_.Resume(handle_);
}

void Destination::NextJobAwaiter::OnTimeout(io::Timer*, void* context) {
  auto* self = static_cast<NextJobAwaiter*>(context);
  Destination& d = self->destination_;
  if (!d.stopping_ && !d.ready_.empty()) {
    // Held back by the message limit, not idle: take a token that has come
    // due, or look again when the next one will have.
    if (d.message_tokens_.TryTake(d.host_.now_ms())) {
      d.Unlink(self);
      self->job_ = d.ready_.front();
      d.ready_.pop_front();
      d.host_.Resume(self->handle_);
      return;
    }
    d.host_.timers().Schedule(&self->timer_, self->DeadlineMs());
    return;
  }
  d.Unlink(self);
  self->job_ = nullptr;
  d.host_.Resume(self->handle_);
}

}  // namespace ringmta::relay
