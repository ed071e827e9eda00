#include "mta/io/operation.h"

#include <cerrno>

#include "mta/base/check.h"

namespace ringmta::io {

io_uring_sqe* OperationBase::BeginSubmit(std::coroutine_handle<> waiter) {
  waiter_ = waiter;
  on_complete = &OperationBase::OnComplete;
  Ring& ring = reactor_.ring();
  // The operation and its linked timeout must go in one submission.
  ring.ReserveSqes(timeout_ms_ >= 0 ? 2 : 1);
  if (scope_ != nullptr) {
    cancel_node_.cancel = &OperationBase::OnCancel;
    cancel_node_.owner = this;
    scope_->Link(&cancel_node_);
  }
  return ring.GetSqe(this);
}

void OperationBase::EndSubmit(io_uring_sqe* sqe) {
  if (timeout_ms_ < 0) return;
  timeout_.tv_sec = timeout_ms_ / 1000;
  timeout_.tv_nsec = (timeout_ms_ % 1000) * 1'000'000;
  sqe->flags |= IOSQE_IO_LINK;
  io_uring_prep_link_timeout(reactor_.ring().GetSqe(nullptr), &timeout_, 0);
}

void OperationBase::OnComplete(Completion* self, int32_t result, uint32_t cqe_flags) {
  auto* op = static_cast<OperationBase*>(self);
  bool cancelled_by_scope = op->scope_ != nullptr && op->scope_->cancelled();
  if (op->scope_ != nullptr) op->scope_->Unlink(&op->cancel_node_);
  // A linked timeout that fires cancels its operation; only our scope can
  // cancel otherwise, so an unexplained -ECANCELED means the timeout won.
  if (result == -ECANCELED && !cancelled_by_scope && op->timeout_ms_ >= 0) result = -ETIMEDOUT;
  op->result_ = result;
  op->cqe_flags_ = cqe_flags;
  op->reactor_.Post(op->waiter_);
}

void OperationBase::OnCancel(void* owner) {
  auto* op = static_cast<OperationBase*>(owner);
  // The target completes with -ECANCELED (or its real result if it won the
  // race); the cancel request's own CQE carries nothing we need.
  io_uring_prep_cancel(op->reactor_.ring().GetSqe(nullptr), static_cast<Completion*>(op), 0);
}

Sleep::Sleep(Reactor& reactor, CancelScope* scope, int64_t delay_ms)
    : reactor_(reactor), scope_(scope), delay_ms_(delay_ms), timer_(&Sleep::OnFire, this) {}

bool Sleep::await_ready() noexcept {
  if (scope_ != nullptr && scope_->cancelled()) {
    result_ = -ECANCELED;
    return true;
  }
  return false;
}

void Sleep::await_suspend(std::coroutine_handle<> waiter) {
  waiter_ = waiter;
  reactor_.timers().Schedule(&timer_, reactor_.now_ms() + delay_ms_);
  if (scope_ != nullptr) {
    cancel_node_.cancel = &Sleep::OnCancel;
    cancel_node_.owner = this;
    scope_->Link(&cancel_node_);
  }
}

void Sleep::OnFire(Timer* timer, void* context) {
  auto* sleep = static_cast<Sleep*>(context);
  if (sleep->scope_ != nullptr) sleep->scope_->Unlink(&sleep->cancel_node_);
  sleep->result_ = 0;
  sleep->reactor_.Post(sleep->waiter_);
}

void Sleep::OnCancel(void* owner) {
  auto* sleep = static_cast<Sleep*>(owner);
  sleep->reactor_.timers().Cancel(&sleep->timer_);
  sleep->scope_->Unlink(&sleep->cancel_node_);
  sleep->result_ = -ECANCELED;
  sleep->reactor_.Post(sleep->waiter_);
}

}  // namespace ringmta::io
