// Recycles coroutine frames per thread so that starting a Task in steady state
// costs no malloc: frames come from per-size-class free lists. Thread-local,
// so shards share nothing; a frame freed on another thread simply joins that
// thread's list. Not a general allocator: only promise_type uses it.
#ifndef RINGMTA_MTA_IO_FRAME_POOL_H_
#define RINGMTA_MTA_IO_FRAME_POOL_H_

#include <cstddef>
#include <cstdint>

namespace ringmta::io {

struct FramePoolStats {
  uint64_t allocations = 0;    // frames handed out
  uint64_t system_allocations = 0;  // of which came from operator new
};

void* AllocateFrame(size_t bytes);
void FreeFrame(void* frame, size_t bytes);
// This thread's counters; tests use them to prove "no allocation per operation".
FramePoolStats ThisThreadFramePoolStats();

}  // namespace ringmta::io

#endif  // RINGMTA_MTA_IO_FRAME_POOL_H_
