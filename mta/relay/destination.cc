#include "mta/relay/destination.h"

#include <algorithm>

#include "mta/base/check.h"
#include "mta/base/log.h"
#include "mta/relay/relay_shard.h"

namespace ringmta::relay {

Destination::Destination(RelayShard& relay, std::string key, std::vector<NextHop> hops)
    : relay_(relay), key_(std::move(key)), hops_(std::move(hops)),
      window_(std::max(1, relay.config().initial_concurrency)) {}

Destination::~Destination() {
  CHECK(sessions_ == 0 && idle_head_ == nullptr);
  CHECK(ready_.empty());
}

bool Destination::in_backoff() const {
  return backoff_until_ms_ > relay_.reactor().now_ms();
}

void Destination::Submit(DeliveryJob* job) {
  if (stopping_) {
    job->SetAllOutcomes(OutcomeKind::kDeferred, 0, "4.3.2", "shutting down");
    relay_.ReturnJob(job);
    return;
  }
  // In backoff, one probe session may be out; everything else waits at home.
  if (in_backoff() && sessions_ > 0) {
    job->SetAllOutcomes(OutcomeKind::kDeferred, 0, "4.4.1",
                        "destination " + key_ + " in backoff after connection failures");
    relay_.ReturnJob(job);
    return;
  }
  if (ready_.size() >= relay_.config().ready_jobs_max) {
    job->SetAllOutcomes(OutcomeKind::kDeferred, 0, "4.3.2",
                        "destination " + key_ + " has too many messages waiting");
    relay_.ReturnJob(job);
    return;
  }
  if (NextJobAwaiter* waiter = idle_head_) {
    Unlink(waiter);
    waiter->Wake(job);
    return;
  }
  ready_.push_back(job);
  MaybeStartSession();
}

void Destination::MaybeStartSession() {
  if (stopping_ || ready_.empty()) return;
  int limit = in_backoff() ? 1 : std::min(window_, relay_.config().connections_per_destination_max);
  if (sessions_ >= limit) return;
  ++sessions_;
  relay_.StartSession(*this);
}

void Destination::Finish(DeliveryJob* job) { relay_.ReturnJob(job); }

void Destination::OnConnected() {
  consecutive_failures_ = 0;
  backoff_until_ms_ = 0;
}

void Destination::OnConnectFailed() {
  window_ = std::max(1, window_ / 2);
  if (++consecutive_failures_ >= relay_.config().destination_failures_max) {
    backoff_until_ms_ = relay_.reactor().now_ms() + relay_.config().destination_backoff_ms;
    Log(LogLevel::kWarning, "destination %s: %d connection failures; backing off", key_,
        consecutive_failures_);
  }
}

void Destination::OnDelivered() {
  if (window_ < relay_.config().connections_per_destination_max) ++window_;
  MaybeStartSession();
}

void Destination::OnSessionEnded() {
  CHECK(sessions_ > 0);
  --sessions_;
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
    relay_.ReturnJob(job);
  }
}

void Destination::Stop() {
  stopping_ = true;
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
  if (destination_.stopping_) return true;
  if (destination_.ready_.empty()) return false;
  job_ = destination_.ready_.front();
  destination_.ready_.pop_front();
  return true;
}

void Destination::NextJobAwaiter::await_suspend(std::coroutine_handle<> handle) {
  handle_ = handle;
  prev_ = nullptr;
  next_ = destination_.idle_head_;
  if (next_ != nullptr) next_->prev_ = this;
  destination_.idle_head_ = this;
  io::Reactor& reactor = destination_.relay_.reactor();
  reactor.timers().Schedule(&timer_, reactor.now_ms() + idle_ms_);
}

void Destination::NextJobAwaiter::Wake(DeliveryJob* job) {
  destination_.relay_.reactor().timers().Cancel(&timer_);
  job_ = job;
  destination_.relay_.reactor().Post(handle_);
}

void Destination::NextJobAwaiter::OnTimeout(io::Timer*, void* context) {
  auto* self = static_cast<NextJobAwaiter*>(context);
  self->destination_.Unlink(self);
  self->job_ = nullptr;
  self->destination_.relay_.reactor().Post(self->handle_);
}

}  // namespace ringmta::relay
