#include "mta/admin/fanout.h"

#include <string>

#include "mta/base/check.h"

namespace ringmta::admin {

// One shard's part of a gather. Heap-allocated, owned by exactly one shard
// at a time: the origin, then the target (while it works), then the origin.
struct FanOut::Call {
  FanOut* hub = nullptr;  // dereferenced on the origin's thread only
  uint64_t gather_id = 0;
  size_t slot = 0;
  int origin = 0;
  int target = 0;
  bool replying = false;
  ShardWork work;
  absl::StatusOr<Json> result = absl::UnknownError("no answer");
  // A full mailbox is retried every millisecond on the sending shard's wheel.
  io::Timer retry{&FanOut::OnRetry, this};
  io::Shard* sender = nullptr;
};

FanOut::FanOut(io::Shard& origin) : origin_(origin) {}

FanOut::~FanOut() { CHECK(gathers_.empty()); }

FanOut::Gather FanOut::Run(std::vector<int> targets, ShardWork work, int64_t timeout_ms) {
  return Gather(*this, std::move(targets), std::move(work), timeout_ms);
}

FanOut::Gather::Gather(FanOut& hub, std::vector<int> targets, ShardWork work, int64_t timeout_ms)
    : hub_(hub), targets_(std::move(targets)), work_(std::move(work)), timeout_ms_(timeout_ms),
      timer_(&Gather::OnTimeout, this) {}

FanOut::Gather::~Gather() {
  hub_.origin_.reactor().timers().Cancel(&timer_);
  if (id_ != 0) hub_.gathers_.erase(id_);
}

void FanOut::Gather::await_suspend(std::coroutine_handle<> handle) {
  handle_ = handle;
  id_ = hub_.next_id_++;
  hub_.gathers_[id_] = this;
  remaining_ = targets_.size();
  for (size_t slot = 0; slot < targets_.size(); ++slot) {
    results_.push_back(absl::DeadlineExceededError("shard " + std::to_string(targets_[slot]) +
                                                   " did not answer in time"));
    auto* call = new Call();
    call->hub = &hub_;
    call->gather_id = id_;
    call->slot = slot;
    call->origin = hub_.origin_.index();
    call->target = targets_[slot];
    call->work = work_;  // a copy per shard: nothing shared across threads
    SendOrRetry(hub_.origin_, call);
  }
  io::Reactor& reactor = hub_.origin_.reactor();
  reactor.timers().Schedule(&timer_, reactor.now_ms() + timeout_ms_);
}

void FanOut::Gather::OnTimeout(io::Timer*, void* context) {
  // Late answers find no gather under their id and are dropped.
  static_cast<Gather*>(context)->Finish();
}

void FanOut::Gather::Finish() {
  hub_.origin_.reactor().timers().Cancel(&timer_);
  hub_.gathers_.erase(id_);
  id_ = 0;
  hub_.origin_.reactor().Post(handle_);
}

void FanOut::CancelAll() {
  while (!gathers_.empty()) {
    Gather* gather = gathers_.begin()->second;
    for (auto& result : gather->results_) {
      if (!result.ok() && result.status().code() == absl::StatusCode::kDeadlineExceeded) {
        result = absl::UnavailableError("the daemon is stopping");
      }
    }
    gather->Finish();
  }
}

void FanOut::SendOrRetry(io::Shard& from, Call* call) {
  int to = call->replying ? call->origin : call->target;
  io::ShardMessage message{call->replying ? &FanOut::RunReply : &FanOut::RunWork, 0, call};
  if (from.Send(to, message)) return;
  call->sender = &from;
  from.reactor().timers().Schedule(&call->retry, from.reactor().now_ms() + 1);
}

void FanOut::OnRetry(io::Timer*, void* context) {
  auto* call = static_cast<Call*>(context);
  SendOrRetry(*call->sender, call);
}

void FanOut::RunWork(io::Shard& target, uint64_t, void* pointer) {
  auto* call = static_cast<Call*>(pointer);
  if (target.stopping()) {
    call->result = absl::UnavailableError("shard " + std::to_string(target.index()) + " is stopping");
  } else {
    call->result = call->work(target);
  }
  call->work = nullptr;  // its captures die on the thread that used them
  call->replying = true;
  SendOrRetry(target, call);
}

void FanOut::RunReply(io::Shard&, uint64_t, void* pointer) {
  auto* call = static_cast<Call*>(pointer);
  call->hub->Deliver(call);
}

void FanOut::Deliver(Call* call) {
  auto it = gathers_.find(call->gather_id);
  if (it != gathers_.end()) {
    Gather* gather = it->second;
    gather->results_[call->slot] = std::move(call->result);
    if (--gather->remaining_ == 0) gather->Finish();
  }
  delete call;
}

}  // namespace ringmta::admin
