// Socket: a connected TCP socket on one shard. Receiving uses one multishot
// recv with provided buffers (one SQE for many reads); filled buffers queue
// on the socket until the owner takes them with Receive(), and a socket that
// hoards too many is paused so others keep theirs. Sending is a plain send
// with a linked timeout. Close() must be awaited before destruction: it
// stops the multishot recv and gives every buffer back.
#ifndef RINGMTA_MTA_IO_SOCKET_H_
#define RINGMTA_MTA_IO_SOCKET_H_

#include <coroutine>
#include <cstdint>
#include <string_view>

#include "mta/io/buffer_ring.h"
#include "mta/io/cancel_scope.h"
#include "mta/io/reactor.h"
#include "mta/io/task.h"
#include "mta/io/timer_wheel.h"

namespace ringmta::io {

// Turns Nagle's algorithm off on a TCP socket (inbound after accept,
// outbound before connect); other sockets are left alone. Our writes are
// already batched per loop turn, so Nagle only holds back the small ones
// that follow: with the peer's delayed ACK, 40 ms per pipelined BDAT chunk.
// Returns false (errno set) if the kernel refused.
bool DisableNagle(int fd);

class Socket {
 public:
  // Takes ownership of `fd`. `scope` (may be null) cancels Receive/Send.
  Socket(Reactor& reactor, BufferRing& buffers, int fd, CancelScope* scope);
  ~Socket();
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;

  int fd() const { return fd_; }

  class [[nodiscard]] ReceiveAwaitable {
   public:
    ReceiveAwaitable(Socket& socket, int64_t timeout_ms);
    ReceiveAwaitable(const ReceiveAwaitable&) = delete;
    ReceiveAwaitable& operator=(const ReceiveAwaitable&) = delete;
    bool await_ready();
    void await_suspend(std::coroutine_handle<> waiter);
    int32_t await_resume() const { return result_; }

   private:
    friend class Socket;
    void Finish(int32_t result);
    static void OnTimeout(Timer* timer, void* context);
    static void OnCancel(void* owner);

    Socket& socket_;
    int64_t timeout_ms_;
    Timer timer_;
    CancelNode cancel_node_;
    std::coroutine_handle<> waiter_;
    int32_t result_ = 0;
  };

  // Waits for the next bytes. Result: > 0 bytes now in chunk(), 0 end of
  // stream, or -errno (-ETIMEDOUT after `timeout_ms`, -ECANCELED). The
  // previous chunk is released when this is called.
  ReceiveAwaitable Receive(int64_t timeout_ms) { return ReceiveAwaitable(*this, timeout_ms); }
  // The bytes of the last successful Receive; valid until the next one.
  std::string_view chunk() const { return chunk_; }

  // Sends all of `data` (looping over partial sends). Returns data.size()
  // or -errno. `data` must stay valid until it completes.
  Task<int32_t> SendAll(std::string_view data, int64_t timeout_ms);
  // SendAll that ignores the cancel scope: for a last word after
  // cancellation (421 at shutdown), bounded by its timeout alone.
  Task<int32_t> SendFinal(std::string_view data, int64_t timeout_ms);

  // Stops receiving, returns buffers, closes the descriptor. Idempotent.
  Task<void> Close();

  // Buffers queued but not yet taken (for tests and metrics).
  uint32_t queued_buffers() const { return queued_count_; }

 private:
  struct RecvCompletion : Completion {
    Socket* socket;
  };
  struct CloseWaiter {
    Socket& socket;
    bool await_ready() const { return !socket.recv_armed_; }
    void await_suspend(std::coroutine_handle<> waiter) { socket.close_waiter_ = waiter; }
    void await_resume() const {}
  };

  Task<int32_t> SendAllUnder(CancelScope* scope, std::string_view data, int64_t timeout_ms);
  void ArmRecv();
  void PauseRecv();
  void ReleaseChunk();
  bool TakeQueued(int32_t* result);
  void Enqueue(uint16_t buffer_id, uint32_t bytes);
  static void OnRecv(Completion* completion, int32_t result, uint32_t cqe_flags);
  static void OnBuffersAvailable(void* owner);
  static void RunPause(void* owner);
  static void RunRearm(void* owner);

  Reactor& reactor_;
  BufferRing& buffers_;
  int fd_;
  CancelScope* scope_;
  RecvCompletion recv_completion_;
  StarvedWaiter starved_;
  // FIFO of filled buffers, linked through BufferRing::next(), with their
  // byte counts in BufferRing::length().
  int32_t queued_head_ = -1;
  int32_t queued_tail_ = -1;
  uint32_t queued_count_ = 0;
  std::string_view chunk_;
  int32_t chunk_buffer_ = -1;
  bool recv_armed_ = false;
  bool pause_requested_ = false;
  bool closing_ = false;
  // Sticky end of stream (0) or error (-errno) once the queue is drained.
  bool ended_ = false;
  int32_t end_result_ = 0;
  ReceiveAwaitable* receiver_ = nullptr;
  std::coroutine_handle<> close_waiter_;
};

}  // namespace ringmta::io

#endif  // RINGMTA_MTA_IO_SOCKET_H_
