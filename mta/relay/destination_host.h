// DestinationHost: what a Destination needs from the shard that owns it —
// its clock and timers, a way to resume a waiting session, starting
// sessions and sending jobs home. RelayShard is the real one; tests use a
// virtual clock. Not here: any policy (that is Destination's).
#ifndef RINGMTA_MTA_RELAY_DESTINATION_HOST_H_
#define RINGMTA_MTA_RELAY_DESTINATION_HOST_H_

#include <coroutine>
#include <cstdint>

#include "mta/io/timer_wheel.h"
#include "mta/relay/delivery_job.h"
#include "mta/relay/relay_config.h"

namespace ringmta::relay {

class Destination;

class DestinationHost {
 public:
  virtual ~DestinationHost() = default;
  virtual const RelayConfig& config() const = 0;
  // The owner shard's monotonic clock, as its timers see it.
  virtual int64_t now_ms() const = 0;
  virtual io::TimerWheel& timers() = 0;
  // Resumes `handle` soon, never inside the caller.
  virtual void Resume(std::coroutine_handle<> handle) = 0;
  virtual void StartSession(Destination& destination) = 0;
  // The job goes back to its home shard with its outcomes.
  virtual void ReturnJob(DeliveryJob* job) = 0;
};

}  // namespace ringmta::relay

#endif  // RINGMTA_MTA_RELAY_DESTINATION_HOST_H_
