#include "mta/io/frame_pool.h"

#include <new>

namespace ringmta::io {
namespace {

// Size classes are powers of two from 64 B to 64 KiB; larger frames (rare:
// a coroutine with a big array on its "stack") go straight to operator new.
constexpr int kClassCount = 11;
constexpr size_t kSmallestClassBytes = 64;
constexpr size_t kLargestClassBytes = kSmallestClassBytes << (kClassCount - 1);
// Cached frames per class: bounds the memory a burst of connections leaves
// behind once it has gone, while keeping steady state allocation-free.
constexpr uint32_t kCachedFramesPerClassMax = 4096;

struct FreeFrameNode {
  FreeFrameNode* next;
};

struct ThreadPool {
  FreeFrameNode* heads[kClassCount] = {};
  uint32_t counts[kClassCount] = {};
  FramePoolStats stats;

  ~ThreadPool() {
    for (FreeFrameNode*& head : heads) {
      while (head != nullptr) {
        FreeFrameNode* next = head->next;
        ::operator delete(head);
        head = next;
      }
    }
  }
};

thread_local ThreadPool pool;

int ClassOf(size_t bytes) {
  int index = 0;
  size_t class_bytes = kSmallestClassBytes;
  while (class_bytes < bytes) {
    class_bytes <<= 1;
    ++index;
  }
  return index;
}

}  // namespace

// Under AddressSanitizer every frame goes to the system allocator, so a use
// of a destroyed coroutine frame is reported instead of hidden by recycling.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kRecycleFrames = false;
#else
constexpr bool kRecycleFrames = true;
#endif

void* AllocateFrame(size_t bytes) {
  ++pool.stats.allocations;
  if (!kRecycleFrames || bytes > kLargestClassBytes) {
    ++pool.stats.system_allocations;
    return ::operator new(bytes);
  }
  int index = ClassOf(bytes);
  if (FreeFrameNode* node = pool.heads[index]) {
    pool.heads[index] = node->next;
    --pool.counts[index];
    return node;
  }
  ++pool.stats.system_allocations;
  return ::operator new(kSmallestClassBytes << index);
}

void FreeFrame(void* frame, size_t bytes) {
  if (!kRecycleFrames || bytes > kLargestClassBytes) {
    ::operator delete(frame);
    return;
  }
  int index = ClassOf(bytes);
  if (pool.counts[index] >= kCachedFramesPerClassMax) {
    ::operator delete(frame);
    return;
  }
  auto* node = static_cast<FreeFrameNode*>(frame);
  node->next = pool.heads[index];
  pool.heads[index] = node;
  ++pool.counts[index];
}

FramePoolStats ThisThreadFramePoolStats() { return pool.stats; }

}  // namespace ringmta::io
