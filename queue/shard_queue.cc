#include "queue/shard_queue.h"

#include <cinttypes>
#include <cstdio>

#include "mta/base/clock.h"

namespace ringmta::queue {

uint64_t ShardQueue::NewMessageId() {
  // The scheme of recovery.h: the counter never falls below the wall clock
  // in microseconds, nor below what recovery saw (next_id starts there).
  uint64_t clock_floor = static_cast<uint64_t>(WallNowMs()) * 1000;
  if (next_id < clock_floor) next_id = clock_floor;
  uint64_t counter = next_id++ & ((uint64_t{1} << 56) - 1);
  return (static_cast<uint64_t>(shard) << 56) | counter;
}

std::string FormatQueueId(uint64_t message_id) {
  char text[20];
  std::snprintf(text, sizeof text, "%016" PRIx64, message_id);
  return text;
}

}  // namespace ringmta::queue
