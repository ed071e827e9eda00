// AresChannel: a c-ares channel driven by its shard's io_uring: no resolver
// thread, no blocking call, c-ares' timeouts on the reactor's timer wheel.
// Not here: what answers mean, caching, waiters (resolver.h).
#ifndef RINGMTA_DNS_ARES_CHANNEL_H_
#define RINGMTA_DNS_ARES_CHANNEL_H_

#include <ares.h>

#include <coroutine>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "mta/base/check.h"
#include "mta/io/reactor.h"
#include "mta/io/task.h"
#include "mta/io/timer_wheel.h"

namespace ringmta::dns {

struct ChannelOptions {
  // ares_set_servers_ports_csv form ("127.0.0.1:5353,[::1]:53"); empty:
  // the system's /etc/resolv.conf.
  std::string servers_csv;
  int64_t timeout_ms = 0;  // first try; c-ares doubles it each round
  int tries = 0;
};

// c-ares reports the sockets it wants watched (ARES_OPT_SOCK_STATE_CB); each
// gets a Watcher that keeps a one-shot IORING_OP_POLL_ADD armed; readiness
// runs ares_process_fd from posted work (never inside completion dispatch),
// and ares_timeout() sets one timer. The polls carry no linked timeout
// (DESIGN §2's rule): c-ares' timer bounds every query, and a poll lives
// exactly as long as c-ares keeps its socket.
class AresChannel {
 public:
  static absl::StatusOr<std::unique_ptr<AresChannel>> Create(io::Reactor& reactor,
                                                             const ChannelOptions& options);
  // CHECKs that nothing of ours is in the ring or the ready queue: await
  // Close() first unless the channel never had a socket open.
  ~AresChannel();
  AresChannel(const AresChannel&) = delete;
  AresChannel& operator=(const AresChannel&) = delete;

  // Starts an IN-class query without search domains. `callback(arg, ...)`
  // runs exactly once: from posted work when the answer or a timeout comes,
  // inside Query itself when c-ares fails at once, or inside Close with
  // ARES_ECANCELLED. Never from completion dispatch.
  void Query(const std::string& name, uint16_t type, ares_callback callback, void* arg);

  // Ends every query (callbacks get ARES_ECANCELLED), closes c-ares'
  // sockets, and completes once no poll of ours is in flight and no pass is
  // posted. Later queries fail at once with ARES_ECANCELLED.
  io::Task<void> Close();

  int64_t polls_in_flight() const { return polls_in_flight_; }
  size_t watchers() const { return watchers_.size(); }

 private:
  // One socket c-ares asked us to watch. It outlives the socket while its
  // poll is in flight (c-ares closes first, the kernel lets go later), so a
  // new socket reusing the descriptor number gets a new Watcher.
  struct Watcher : io::Completion {
    AresChannel* channel = nullptr;
    int fd = -1;
    uint32_t wanted = 0;      // POLLIN/POLLOUT, per c-ares' latest state
    uint32_t armed_mask = 0;  // mask of the poll in flight; 0: none
    uint32_t revents = 0;     // readiness recorded, not yet processed
    bool cancel_sent = false;
    bool retired = false;  // c-ares closed the socket
  };
  struct Ready {
    int fd;
    uint32_t events;
  };
  struct IdleAwaiter {
    AresChannel& channel;
    bool await_ready() const { return channel.Idle(); }
    void await_suspend(std::coroutine_handle<> waiter) {
      CHECK(!channel.close_waiter_);  // one Close() at a time
      channel.close_waiter_ = waiter;
    }
    void await_resume() const {}
  };

  explicit AresChannel(io::Reactor& reactor);
  Watcher* FindActive(int fd);
  void Arm(Watcher* watcher);
  // Brings the ring in line with the watchers: arms, cancels, frees; then
  // re-arms the timeout timer. Runs after every call into c-ares.
  void Sync();
  void ArmTimeout();
  void ProcessReady();
  void SchedulePass();
  bool Idle() const { return polls_in_flight_ == 0 && !pass_posted_; }

  static void OnSocketState(void* data, ares_socket_t fd, int readable, int writable);
  static void OnPoll(io::Completion* completion, int32_t result, uint32_t cqe_flags);
  static void OnTimer(io::Timer* timer, void* context);
  static void RunPass(void* context);

  io::Reactor& reactor_;
  ares_channel channel_ = nullptr;
  std::vector<std::unique_ptr<Watcher>> watchers_;
  std::vector<Ready> ready_;  // scratch for ProcessReady, capacity reused
  io::Timer timer_;
  int64_t polls_in_flight_ = 0;
  bool pass_posted_ = false;
  std::coroutine_handle<> close_waiter_;
};

}  // namespace ringmta::dns

#endif  // RINGMTA_DNS_ARES_CHANNEL_H_
