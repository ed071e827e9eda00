// A fixed-capacity, lock-free single-producer single-consumer ring for
// messages between two shards (DESIGN §2): full is backpressure, never growth.
// Not here: waking the consumer (MSG_RING/eventfd belongs to the shard loop).
#ifndef RINGMTA_MTA_IO_MAILBOX_H_
#define RINGMTA_MTA_IO_MAILBOX_H_

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>

#include "mta/base/check.h"

namespace ringmta::io {

// Exactly one producer thread calls TryPush and exactly one consumer thread
// calls Drain; Empty and SizeApprox may be called from either. T may be
// move-only. Items left at destruction are destroyed.
template <typename T, uint32_t kSlots>
class Mailbox {
  static_assert(kSlots >= 2 && (kSlots & (kSlots - 1)) == 0,
                "kSlots must be a power of two so a counter maps to a slot with a mask");

 public:
  Mailbox() = default;
  ~Mailbox() {
    // Both threads are done by now, so plain reads of the counters suffice.
    const uint64_t tail = tail_.load(std::memory_order_relaxed);
    for (uint64_t i = head_.load(std::memory_order_relaxed); i != tail; ++i) {
      std::destroy_at(&slots_[i & kMask].value);
    }
  }

  Mailbox(const Mailbox&) = delete;
  Mailbox& operator=(const Mailbox&) = delete;

  // Producer only. Returns false when full, and then leaves `value` untouched
  // so the caller can retry it later (a by-value parameter would destroy a
  // move-only message on backpressure).
  [[nodiscard]] bool TryPush(T&& value) { return Emplace(std::move(value)); }
  [[nodiscard]] bool TryPush(const T& value) { return Emplace(value); }

  // Consumer only. Calls fn(T&&) for up to max_count items in FIFO order and
  // returns how many. The freed slots are published once, after the batch, so
  // the producer's cache line is touched once per batch, not per item.
  // `fn` must not throw and must not push into this mailbox.
  template <typename F>
  size_t Drain(F&& fn, size_t max_count) {
    const uint64_t head = head_.load(std::memory_order_relaxed);  // Ours alone.
    if (tail_cached_ - head < max_count) {
      // Acquire pairs with the producer's release store of tail_: the slot
      // contents it wrote are visible before we read them.
      tail_cached_ = tail_.load(std::memory_order_acquire);
    }
    const uint64_t available = tail_cached_ - head;
    // More than kSlots means a second consumer or producer broke the contract.
    CHECK(available <= kSlots);
    const size_t count = static_cast<size_t>(std::min<uint64_t>(available, max_count));
    for (uint64_t i = head; i != head + count; ++i) {
      T& item = slots_[i & kMask].value;
      fn(std::move(item));
      std::destroy_at(&item);
    }
    // Release: our reads and destruction of these slots happen-before the
    // producer, after its acquire load of head_, constructs into them again.
    if (count != 0) head_.store(head + count, std::memory_order_release);
    return count;
  }

  // Approximate from either side: the other side may move at any moment.
  bool Empty() const { return SizeApprox() == 0; }
  size_t SizeApprox() const {
    // Head first, with acquire: the tail read after it is at least the tail
    // the consumer had seen when it published that head, so no underflow.
    const uint64_t head = head_.load(std::memory_order_acquire);
    const uint64_t tail = tail_.load(std::memory_order_acquire);
    return static_cast<size_t>(std::min<uint64_t>(tail - head, kSlots));
  }

  static constexpr uint32_t capacity() { return kSlots; }

 private:
  static constexpr uint64_t kMask = kSlots - 1;
  // 64 rather than std::hardware_destructive_interference_size: g++ 12 warns
  // that the latter may differ between translation units (-Winterference-size),
  // and every x86-64 core we target has 64-byte lines.
  static constexpr size_t kCacheLineBytes = 64;

  // Storage whose lifetime we manage by hand: a slot holds a T only between
  // its push and its drain.
  union Slot {
    Slot() {}
    ~Slot() {}
    T value;
  };

  template <typename U>
  bool Emplace(U&& value) {
    const uint64_t tail = tail_.load(std::memory_order_relaxed);  // Ours alone.
    if (tail - head_cached_ == kSlots) {
      // Acquire pairs with the consumer's release store of head_: it has
      // finished with the slots it freed before we construct into them.
      head_cached_ = head_.load(std::memory_order_acquire);
      if (tail - head_cached_ == kSlots) return false;
    }
    std::construct_at(&slots_[tail & kMask].value, std::forward<U>(value));
    // Release: the constructed item is visible to the consumer before the
    // tail that covers it.
    tail_.store(tail + 1, std::memory_order_release);
    return true;
  }

  // Counters only grow (64 bits never wrap in practice); slot = counter & kMask.
  // Each side's counter and its cached copy of the other side's counter share
  // one cache line that only that side writes. The other side reads it only
  // when its cached copy runs out (full, or empty), so in steady state the
  // lines do not bounce between cores on every message.
  alignas(kCacheLineBytes) std::atomic<uint64_t> tail_{0};  // Producer writes.
  uint64_t head_cached_ = 0;                                // Producer's view of head_.
  alignas(kCacheLineBytes) std::atomic<uint64_t> head_{0};  // Consumer writes.
  uint64_t tail_cached_ = 0;                                // Consumer's view of tail_.
  alignas(kCacheLineBytes) Slot slots_[kSlots];
};

}  // namespace ringmta::io

#endif  // RINGMTA_MTA_IO_MAILBOX_H_
