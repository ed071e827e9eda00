#include "mta/io/socket.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "mta/base/check.h"
#include "mta/base/limits.h"
#include "mta/io/operation.h"

namespace ringmta::io {
namespace {
// Resume receiving once a paused socket's backlog falls to this.
constexpr uint32_t kRecvResumeBuffers = limits::kRecvBuffersPerSocketMax / 2;
}  // namespace

bool DisableNagle(int fd) {
  int domain = 0;
  socklen_t length = sizeof domain;
  if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &length) != 0) return false;
  if (domain != AF_INET && domain != AF_INET6) return true;
  int one = 1;
  return setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) == 0;
}

Socket::Socket(Reactor& reactor, BufferRing& buffers, int fd, CancelScope* scope)
    : reactor_(reactor), buffers_(buffers), fd_(fd), scope_(scope) {
  recv_completion_.on_complete = &Socket::OnRecv;
  recv_completion_.socket = this;
  starved_.on_buffers_available = &Socket::OnBuffersAvailable;
  starved_.owner = this;
}

Socket::~Socket() {
  // Close() must have run: the kernel may still hold a recv pointing here.
  CHECK(!recv_armed_);
  CHECK(receiver_ == nullptr);
  CHECK(queued_count_ == 0 && chunk_buffer_ < 0);
  if (fd_ >= 0) ::close(fd_);
}

void Socket::ArmRecv() {
  CHECK(!recv_armed_ && !closing_);
  recv_armed_ = true;
  pause_requested_ = false;
  io_uring_sqe* sqe = reactor_.ring().GetSqe(&recv_completion_);
  io_uring_prep_recv_multishot(sqe, fd_, nullptr, 0, 0);
  sqe->flags |= IOSQE_BUFFER_SELECT;
  sqe->buf_group = buffers_.group_id();
}

void Socket::PauseRecv() {
  if (!recv_armed_ || pause_requested_ || closing_) return;
  pause_requested_ = true;
  io_uring_prep_cancel(reactor_.ring().GetSqe(nullptr), &recv_completion_, 0);
}

void Socket::RunPause(void* owner) { static_cast<Socket*>(owner)->PauseRecv(); }

void Socket::Enqueue(uint16_t buffer_id, uint32_t bytes) {
  buffers_.length(buffer_id) = bytes;
  if (queued_tail_ >= 0) buffers_.next(static_cast<uint16_t>(queued_tail_)) = buffer_id;
  else queued_head_ = buffer_id;
  queued_tail_ = buffer_id;
  ++queued_count_;
}

bool Socket::TakeQueued(int32_t* result) {
  if (queued_count_ > 0) {
    auto buffer_id = static_cast<uint16_t>(queued_head_);
    uint32_t bytes = buffers_.length(buffer_id);
    queued_head_ = --queued_count_ > 0 ? buffers_.next(buffer_id) : -1;
    if (queued_count_ == 0) queued_tail_ = -1;
    chunk_buffer_ = buffer_id;
    chunk_ = buffers_.View(buffer_id, bytes);
    *result = static_cast<int32_t>(bytes);
    return true;
  }
  if (ended_) {
    *result = end_result_;
    return true;
  }
  return false;
}

void Socket::ReleaseChunk() {
  if (chunk_buffer_ < 0) return;
  auto buffer_id = static_cast<uint16_t>(chunk_buffer_);
  chunk_buffer_ = -1;
  chunk_ = {};
  buffers_.Recycle(buffer_id);
}

void Socket::OnRecv(Completion* completion, int32_t result, uint32_t cqe_flags) {
  Socket* self = static_cast<RecvCompletion*>(completion)->socket;
  if (cqe_flags & IORING_CQE_F_BUFFER) {
    auto buffer_id = static_cast<uint16_t>(cqe_flags >> IORING_CQE_BUFFER_SHIFT);
    self->buffers_.NoteTaken();
    if (result > 0) {
      self->Enqueue(buffer_id, static_cast<uint32_t>(result));
    } else {
      self->buffers_.Recycle(buffer_id);
    }
  }
  if (!(cqe_flags & IORING_CQE_F_MORE)) {
    self->recv_armed_ = false;
    if (result == -ENOBUFS) {
      // Backpressure: wait for a buffer to come back (unless closing).
      if (!self->closing_) self->buffers_.AddStarved(&self->starved_);
    } else if (result == -ECANCELED && (self->pause_requested_ || self->closing_)) {
      // Our own pause or close: not an end of stream.
    } else if (result <= 0) {
      self->ended_ = true;
      self->end_result_ = result;
    }
    if (self->close_waiter_) self->reactor_.Post(std::exchange(self->close_waiter_, nullptr));
  } else if (self->queued_count_ >= limits::kRecvBuffersPerSocketMax) {
    // Cancelling submits an SQE, which completion callbacks must not do.
    self->reactor_.Post(&Socket::RunPause, self);
  }
  if (self->receiver_ != nullptr) {
    int32_t taken;
    if (self->TakeQueued(&taken)) {
      self->receiver_->Finish(taken);
    } else if (!self->recv_armed_ && !self->closing_ && !self->starved_.linked) {
      // The multishot ended (our pause landed after the queue drained, or
      // the kernel stopped it) while a receiver waits on an empty queue:
      // nobody else would arm it again.
      self->reactor_.Post(&Socket::RunRearm, self);
    }
  }
}

void Socket::RunRearm(void* owner) {
  auto* self = static_cast<Socket*>(owner);
  if (self->receiver_ != nullptr && !self->recv_armed_ && !self->closing_ &&
      !self->starved_.linked && !self->ended_) {
    self->ArmRecv();
  }
}

void Socket::OnBuffersAvailable(void* owner) {
  auto* self = static_cast<Socket*>(owner);
  // Re-arm only for a waiting receiver; otherwise the next Receive arms.
  if (self->receiver_ != nullptr && !self->recv_armed_ && !self->closing_) self->ArmRecv();
}

Socket::ReceiveAwaitable::ReceiveAwaitable(Socket& socket, int64_t timeout_ms)
    : socket_(socket), timeout_ms_(timeout_ms), timer_(&ReceiveAwaitable::OnTimeout, this) {}

bool Socket::ReceiveAwaitable::await_ready() {
  Socket& s = socket_;
  CHECK(s.receiver_ == nullptr && !s.closing_);
  s.ReleaseChunk();
  if (s.scope_ != nullptr && s.scope_->cancelled()) {
    result_ = -ECANCELED;
    return true;
  }
  if (s.TakeQueued(&result_)) return true;
  return false;
}

void Socket::ReceiveAwaitable::await_suspend(std::coroutine_handle<> waiter) {
  Socket& s = socket_;
  waiter_ = waiter;
  s.receiver_ = this;
  if (!s.recv_armed_ && !s.starved_.linked && s.queued_count_ <= kRecvResumeBuffers) s.ArmRecv();
  if (timeout_ms_ >= 0) s.reactor_.timers().Schedule(&timer_, s.reactor_.now_ms() + timeout_ms_);
  if (s.scope_ != nullptr) {
    cancel_node_.cancel = &ReceiveAwaitable::OnCancel;
    cancel_node_.owner = this;
    s.scope_->Link(&cancel_node_);
  }
}

void Socket::ReceiveAwaitable::Finish(int32_t result) {
  Socket& s = socket_;
  s.receiver_ = nullptr;
  s.reactor_.timers().Cancel(&timer_);
  if (s.scope_ != nullptr) s.scope_->Unlink(&cancel_node_);
  result_ = result;
  s.reactor_.Post(waiter_);
}

void Socket::ReceiveAwaitable::OnTimeout(Timer* timer, void* context) {
  // The multishot recv stays armed: bytes arriving later are kept.
  static_cast<ReceiveAwaitable*>(context)->Finish(-ETIMEDOUT);
}

void Socket::ReceiveAwaitable::OnCancel(void* owner) {
  static_cast<ReceiveAwaitable*>(owner)->Finish(-ECANCELED);
}

Task<int32_t> Socket::SendAll(std::string_view data, int64_t timeout_ms) {
  return SendAllUnder(scope_, data, timeout_ms);
}

Task<int32_t> Socket::SendFinal(std::string_view data, int64_t timeout_ms) {
  return SendAllUnder(nullptr, data, timeout_ms);
}

Task<int32_t> Socket::SendAllUnder(CancelScope* scope, std::string_view data,
                                   int64_t timeout_ms) {
  size_t sent = 0;
  while (sent < data.size()) {
    int32_t result = co_await Send(reactor_, scope, fd_, data.substr(sent), timeout_ms);
    if (result < 0) co_return result;
    if (result == 0) co_return -EPIPE;
    sent += static_cast<size_t>(result);
  }
  co_return static_cast<int32_t>(sent);
}

Task<void> Socket::Close() {
  if (fd_ < 0) co_return;
  CHECK(receiver_ == nullptr);
  closing_ = true;
  buffers_.RemoveStarved(&starved_);
  if (recv_armed_) {
    io_uring_prep_cancel(reactor_.ring().GetSqe(nullptr), &recv_completion_, 0);
    co_await CloseWaiter{*this};
  }
  ReleaseChunk();
  int32_t ignored;
  while (queued_count_ > 0 && TakeQueued(&ignored)) ReleaseChunk();
  int fd = std::exchange(fd_, -1);
  co_await io::Close(reactor_, fd);
}

}  // namespace ringmta::io
