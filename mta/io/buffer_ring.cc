#include "mta/io/buffer_ring.h"

#include <sys/mman.h>

#include <cerrno>

#include "mta/base/check.h"
#include "mta/base/status.h"

namespace ringmta::io {

absl::StatusOr<std::unique_ptr<BufferRing>> BufferRing::Create(Ring& ring, uint16_t group_id,
                                                               uint32_t count, uint32_t bytes) {
  if (count == 0 || count > 32768 || (count & (count - 1)) != 0) {
    return absl::InvalidArgumentError("buffer ring size must be a power of two <= 32768");
  }
  std::unique_ptr<BufferRing> pool(new BufferRing(ring, group_id, count, bytes));
  // The ring of buffer descriptors is shared with the kernel and must be
  // page aligned: mmap gives that. Buffers go in one mapping beside it.
  pool->kernel_ring_bytes_ = sizeof(io_uring_buf) * count;
  void* descriptors = mmap(nullptr, pool->kernel_ring_bytes_, PROT_READ | PROT_WRITE,
                           MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (descriptors == MAP_FAILED) return ErrnoToStatus(errno, "mmap buffer ring");
  pool->kernel_ring_ = static_cast<io_uring_buf_ring*>(descriptors);
  pool->memory_bytes_ = size_t{count} * bytes;
  void* memory = mmap(nullptr, pool->memory_bytes_, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (memory == MAP_FAILED) return ErrnoToStatus(errno, "mmap receive buffers");
  pool->memory_ = static_cast<char*>(memory);

  io_uring_buf_reg registration{};
  registration.ring_addr = reinterpret_cast<uint64_t>(pool->kernel_ring_);
  registration.ring_entries = count;
  registration.bgid = group_id;
  int result = io_uring_register_buf_ring(ring.raw(), &registration, 0);
  if (result < 0) return ErrnoToStatus(-result, "io_uring_register_buf_ring");
  io_uring_buf_ring_init(pool->kernel_ring_);
  pool->registered_ = true;
  for (uint32_t id = 0; id < count; ++id) pool->Recycle(static_cast<uint16_t>(id));
  return pool;
}

BufferRing::BufferRing(Ring& ring, uint16_t group_id, uint32_t count, uint32_t bytes)
    : ring_(ring), group_id_(group_id), count_(count), bytes_(bytes), next_(count, 0), lengths_(count, 0) {}

BufferRing::~BufferRing() {
  CHECK(starved_head_ == nullptr);
  if (registered_) io_uring_unregister_buf_ring(ring_.raw(), group_id_);
  if (memory_ != nullptr) munmap(memory_, memory_bytes_);
  if (kernel_ring_ != nullptr) munmap(kernel_ring_, kernel_ring_bytes_);
}

std::string_view BufferRing::View(uint16_t buffer_id, uint32_t bytes) const {
  CHECK(buffer_id < count_ && bytes <= bytes_);
  return std::string_view(memory_ + size_t{buffer_id} * bytes_, bytes);
}

void BufferRing::Recycle(uint16_t buffer_id) {
  CHECK(buffer_id < count_);
  CHECK(available_ < count_);
  io_uring_buf_ring_add(kernel_ring_, memory_ + size_t{buffer_id} * bytes_, bytes_, buffer_id,
                        io_uring_buf_ring_mask(count_), 0);
  io_uring_buf_ring_advance(kernel_ring_, 1);
  ++available_;
  if (StarvedWaiter* waiter = starved_head_) {
    RemoveStarved(waiter);
    waiter->on_buffers_available(waiter->owner);
  }
}

void BufferRing::AddStarved(StarvedWaiter* waiter) {
  if (waiter->linked) return;
  ++starvations_;
  waiter->linked = true;
  waiter->next = nullptr;
  waiter->prev = starved_tail_;
  if (starved_tail_ != nullptr) starved_tail_->next = waiter;
  else starved_head_ = waiter;
  starved_tail_ = waiter;
}

void BufferRing::RemoveStarved(StarvedWaiter* waiter) {
  if (!waiter->linked) return;
  waiter->linked = false;
  if (waiter->prev != nullptr) waiter->prev->next = waiter->next;
  else starved_head_ = waiter->next;
  if (waiter->next != nullptr) waiter->next->prev = waiter->prev;
  else starved_tail_ = waiter->prev;
  waiter->next = waiter->prev = nullptr;
}

}  // namespace ringmta::io
