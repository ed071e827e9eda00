// FanOut: runs one piece of work on several shards and gathers the results
// on the shard that asked (the control server's, shard 0). State lives in
// the shards (DESIGN §2), so an admin request is answered by asking each
// shard on its own thread: the work travels by Shard::Send, the result comes
// back the same way. No locks; nothing is shared while in flight (each call
// carries its own copy of the work). A shard that is stopping answers with
// an error; one that does not answer within the timeout counts as an error.
// Not here: what the work does (control_commands).
#ifndef RINGMTA_MTA_ADMIN_FANOUT_H_
#define RINGMTA_MTA_ADMIN_FANOUT_H_

#include <coroutine>
#include <cstdint>
#include <functional>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "mta/admin/json.h"
#include "mta/io/shard.h"
#include "mta/io/timer_wheel.h"

namespace ringmta::admin {

// Runs on the target shard's thread; must not suspend.
using ShardWork = std::function<Json(io::Shard& target)>;

class FanOut {
 public:
  // Lives on `origin`'s thread, and only there.
  explicit FanOut(io::Shard& origin);
  ~FanOut();
  FanOut(const FanOut&) = delete;
  FanOut& operator=(const FanOut&) = delete;

  class Gather;
  // co_await Run(...) -> std::vector<absl::StatusOr<Json>>, one per target
  // in `targets` order.
  Gather Run(std::vector<int> targets, ShardWork work, int64_t timeout_ms);
  // Ends every pending gather at once with errors (the origin is stopping).
  void CancelAll();
  size_t pending() const { return gathers_.size(); }

  class Gather {
   public:
    Gather(FanOut& hub, std::vector<int> targets, ShardWork work, int64_t timeout_ms);
    ~Gather();
    Gather(const Gather&) = delete;
    Gather& operator=(const Gather&) = delete;
    bool await_ready() const { return targets_.empty(); }
    void await_suspend(std::coroutine_handle<> handle);
    std::vector<absl::StatusOr<Json>> await_resume() { return std::move(results_); }

   private:
    friend class FanOut;
    static void OnTimeout(io::Timer* timer, void* context);
    void Finish();

    FanOut& hub_;
    std::vector<int> targets_;
    ShardWork work_;
    int64_t timeout_ms_;
    uint64_t id_ = 0;
    size_t remaining_ = 0;
    std::vector<absl::StatusOr<Json>> results_;
    std::coroutine_handle<> handle_;
    io::Timer timer_;
  };

 private:
  struct Call;
  static void RunWork(io::Shard& target, uint64_t, void* pointer);
  static void RunReply(io::Shard& origin, uint64_t, void* pointer);
  static void OnRetry(io::Timer* timer, void* context);
  static void SendOrRetry(io::Shard& from, Call* call);
  void Deliver(Call* call);

  io::Shard& origin_;
  uint64_t next_id_ = 1;
  absl::flat_hash_map<uint64_t, Gather*> gathers_;
};

}  // namespace ringmta::admin

#endif  // RINGMTA_MTA_ADMIN_FANOUT_H_
