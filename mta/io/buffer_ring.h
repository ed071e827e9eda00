// BufferRing: a pool of receive buffers provided to the kernel (io_uring
// provided-buffer ring), so an idle connection holds no buffer and a recv
// picks one only when bytes arrive. When the pool is empty the kernel fails
// recvs with -ENOBUFS; that is backpressure: starved sockets wait here and
// are re-armed one by one as buffers come back.
#ifndef RINGMTA_MTA_IO_BUFFER_RING_H_
#define RINGMTA_MTA_IO_BUFFER_RING_H_

#include <liburing.h>

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "mta/io/ring.h"

namespace ringmta::io {

// A socket waiting for buffers; linked while starved.
struct StarvedWaiter {
  void (*on_buffers_available)(void* owner) = nullptr;
  void* owner = nullptr;
  StarvedWaiter* next = nullptr;
  StarvedWaiter* prev = nullptr;
  bool linked = false;
};

class BufferRing {
 public:
  static absl::StatusOr<std::unique_ptr<BufferRing>> Create(Ring& ring, uint16_t group_id,
                                                            uint32_t count, uint32_t bytes);
  ~BufferRing();
  BufferRing(const BufferRing&) = delete;
  BufferRing& operator=(const BufferRing&) = delete;

  uint16_t group_id() const { return group_id_; }
  uint32_t count() const { return count_; }
  // Buffers currently handed to the kernel (the rest are held by sockets).
  uint32_t available() const { return available_; }

  std::string_view View(uint16_t buffer_id, uint32_t bytes) const;
  // Returns a buffer to the kernel and re-arms one starved socket, if any.
  void Recycle(uint16_t buffer_id);
  // The kernel consumed a buffer (a CQE carried IORING_CQE_F_BUFFER).
  void NoteTaken() { --available_; }

  // Per-socket FIFO links through the pool, so a socket's queue of filled
  // buffers costs it no memory of its own and is bounded by the pool.
  uint16_t& next(uint16_t buffer_id) { return next_[buffer_id]; }
  uint32_t& length(uint16_t buffer_id) { return lengths_[buffer_id]; }

  void AddStarved(StarvedWaiter* waiter);
  // How often a receive found the pool empty (backpressure events).
  uint64_t starvations() const { return starvations_; }
  void RemoveStarved(StarvedWaiter* waiter);

 private:
  BufferRing(Ring& ring, uint16_t group_id, uint32_t count, uint32_t bytes);

  Ring& ring_;
  uint16_t group_id_;
  uint32_t count_;
  uint32_t bytes_;
  uint32_t available_ = 0;
  bool registered_ = false;
  io_uring_buf_ring* kernel_ring_ = nullptr;
  size_t kernel_ring_bytes_ = 0;
  char* memory_ = nullptr;
  size_t memory_bytes_ = 0;
  std::vector<uint16_t> next_;
  std::vector<uint32_t> lengths_;
  uint64_t starvations_ = 0;
  StarvedWaiter* starved_head_ = nullptr;
  StarvedWaiter* starved_tail_ = nullptr;
};

}  // namespace ringmta::io

#endif  // RINGMTA_MTA_IO_BUFFER_RING_H_
