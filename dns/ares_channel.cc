#include "dns/ares_channel.h"

#include <liburing.h>
#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <mutex>
#include <utility>

#include "absl/strings/str_cat.h"
#include "mta/base/check.h"
#include "mta/io/ring.h"

namespace ringmta::dns {
namespace {

constexpr int kClassIn = 1;
// EDNS0 payload size advertised (RFC 6891): 1232 octets fits any path's MTU
// without fragmentation (DNS Flag Day 2020); larger answers come over TCP.
constexpr int kEdnsPayloadBytes = 1232;

absl::Status InitLibrary() {
  // ares_library_init is not thread-safe; every shard creates a channel.
  static std::once_flag once;
  static int status = ARES_SUCCESS;
  std::call_once(once, [] { status = ares_library_init(ARES_LIB_INIT_ALL); });
  if (status == ARES_SUCCESS) return absl::OkStatus();
  return absl::InternalError(absl::StrCat("ares_library_init: ", ares_strerror(status)));
}

}  // namespace

AresChannel::AresChannel(io::Reactor& reactor)
    : reactor_(reactor), timer_(&AresChannel::OnTimer, this) {}

absl::StatusOr<std::unique_ptr<AresChannel>> AresChannel::Create(io::Reactor& reactor,
                                                                 const ChannelOptions& options) {
  if (absl::Status status = InitLibrary(); !status.ok()) return status;
  std::unique_ptr<AresChannel> channel(new AresChannel(reactor));
  ares_options ares{};
  ares.sock_state_cb = &AresChannel::OnSocketState;
  ares.sock_state_cb_data = channel.get();
  ares.timeout = static_cast<int>(options.timeout_ms);
  ares.tries = options.tries;
  // NOSEARCH: a mail domain is absolute, never completed with resolv.conf's
  // search list. NOALIASES: no HOSTALIASES file from the environment.
  // EDNS: large MX sets fit in one UDP answer.
  ares.flags = ARES_FLAG_NOSEARCH | ARES_FLAG_NOALIASES | ARES_FLAG_EDNS;
  ares.ednspsz = kEdnsPayloadBytes;
  int mask = ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_FLAGS |
             ARES_OPT_EDNSPSZ;
  int status = ares_init_options(&channel->channel_, &ares, mask);
  if (status != ARES_SUCCESS) {
    return absl::FailedPreconditionError(absl::StrCat("c-ares init: ", ares_strerror(status)));
  }
  if (!options.servers_csv.empty()) {
    status = ares_set_servers_ports_csv(channel->channel_, options.servers_csv.c_str());
    if (status != ARES_SUCCESS) {
      return absl::InvalidArgumentError(
          absl::StrCat("DNS servers \"", options.servers_csv, "\": ", ares_strerror(status)));
    }
  }
  return channel;
}

AresChannel::~AresChannel() {
  if (channel_ != nullptr) {
    // No query may be pending here (the owner checks): destroying only
    // closes sockets, whose watchers must then be idle.
    ares_channel channel = std::exchange(channel_, nullptr);
    ares_destroy(channel);
  }
  for (const auto& watcher : watchers_) CHECK(watcher->armed_mask == 0);
  // Posted work or polls would call back into freed memory: Close() first.
  CHECK(Idle());
}

void AresChannel::Query(const std::string& name, uint16_t type, ares_callback callback,
                        void* arg) {
  if (channel_ == nullptr) {
    callback(arg, ARES_ECANCELLED, 0, nullptr, 0);
    return;
  }
  ares_query(channel_, name.c_str(), kClassIn, type, callback, arg);
  Sync();
}

io::Task<void> AresChannel::Close() {
  if (channel_ != nullptr) {
    ares_channel channel = std::exchange(channel_, nullptr);
    ares_cancel(channel);
    // Closes every socket, telling us through OnSocketState.
    ares_destroy(channel);
    for (const auto& watcher : watchers_) watcher->retired = true;
    reactor_.timers().Cancel(&timer_);
    Sync();
  }
  co_await IdleAwaiter{*this};
}

AresChannel::Watcher* AresChannel::FindActive(int fd) {
  for (const auto& watcher : watchers_) {
    if (watcher->fd == fd && !watcher->retired) return watcher.get();
  }
  return nullptr;
}

void AresChannel::OnSocketState(void* data, ares_socket_t fd, int readable, int writable) {
  // Runs inside c-ares calls (ares_query, ares_process_fd, ares_destroy):
  // only bookkeeping here; Sync() acts on it when c-ares returns.
  auto* self = static_cast<AresChannel*>(data);
  uint32_t wanted = (readable ? POLLIN : 0) | (writable ? POLLOUT : 0);
  Watcher* watcher = self->FindActive(fd);
  if (watcher == nullptr) {
    if (wanted == 0) return;
    self->watchers_.push_back(std::make_unique<Watcher>());
    watcher = self->watchers_.back().get();
    watcher->channel = self;
    watcher->fd = fd;
    watcher->on_complete = &AresChannel::OnPoll;
  }
  watcher->wanted = wanted;
  // (0, 0) comes just before c-ares closes the socket.
  if (wanted == 0) watcher->retired = true;
}

void AresChannel::Arm(Watcher* watcher) {
  io_uring_sqe* sqe = reactor_.ring().GetSqe(watcher);
  io_uring_prep_poll_add(sqe, watcher->fd, watcher->wanted);
  watcher->armed_mask = watcher->wanted;
  ++polls_in_flight_;
}

void AresChannel::Sync() {
  for (size_t i = 0; i < watchers_.size();) {
    Watcher* watcher = watchers_[i].get();
    if (watcher->armed_mask != 0) {
      // A retired socket's poll, or one missing an event c-ares now wants
      // (a TCP send queued), is cancelled; OnPoll re-arms the latter. A
      // poll for more than is wanted stays: one spurious wake-up is cheaper.
      bool stale = watcher->retired || (watcher->wanted & ~watcher->armed_mask) != 0;
      if (stale && !watcher->cancel_sent) {
        io_uring_prep_cancel(reactor_.ring().GetSqe(nullptr), static_cast<io::Completion*>(watcher),
                             0);
        watcher->cancel_sent = true;
      }
    } else if (watcher->retired) {
      watchers_[i] = std::move(watchers_.back());
      watchers_.pop_back();
      continue;
    } else if (watcher->wanted != 0 && watcher->revents == 0) {
      // (With revents pending, the posted pass processes, then re-arms.)
      Arm(watcher);
    }
    ++i;
  }
  ArmTimeout();
}

void AresChannel::ArmTimeout() {
  timeval tv;
  if (channel_ == nullptr || ares_timeout(channel_, nullptr, &tv) == nullptr) {
    reactor_.timers().Cancel(&timer_);
    return;
  }
  // Rounded up: firing early only costs a pass that finds nothing due.
  int64_t delay_ms = int64_t{tv.tv_sec} * 1000 + (tv.tv_usec + 999) / 1000;
  reactor_.timers().Schedule(&timer_, reactor_.now_ms() + std::max<int64_t>(delay_ms, 1));
}

void AresChannel::OnPoll(io::Completion* completion, int32_t result, uint32_t cqe_flags) {
  // Completion rule: record and post, nothing else.
  auto* watcher = static_cast<Watcher*>(completion);
  AresChannel* self = watcher->channel;
  --self->polls_in_flight_;
  watcher->armed_mask = 0;
  watcher->cancel_sent = false;
  if (result > 0) {
    watcher->revents |= static_cast<uint32_t>(result);
  } else if (result == -EBADF) {
    // The descriptor is gone without c-ares telling us; re-arming would spin.
    watcher->retired = true;
  } else if (result < 0 && result != -ECANCELED) {
    watcher->revents |= POLLERR;  // c-ares reads the socket and sees the error
  }
  self->SchedulePass();
}

void AresChannel::OnTimer(io::Timer* timer, void* context) {
  static_cast<AresChannel*>(context)->SchedulePass();
}

void AresChannel::SchedulePass() {
  if (pass_posted_) return;
  pass_posted_ = true;
  reactor_.Post(&AresChannel::RunPass, this);
}

void AresChannel::RunPass(void* context) {
  auto* self = static_cast<AresChannel*>(context);
  self->pass_posted_ = false;
  if (self->channel_ != nullptr) self->ProcessReady();
  self->Sync();
  if (self->close_waiter_ && self->Idle()) {
    self->reactor_.Post(std::exchange(self->close_waiter_, nullptr));
  }
}

void AresChannel::ProcessReady() {
  // Snapshot first: processing one socket may close or open others.
  ready_.clear();
  for (const auto& watcher : watchers_) {
    uint32_t events = std::exchange(watcher->revents, 0);
    if (events != 0 && !watcher->retired) ready_.push_back({watcher->fd, events});
  }
  // A descriptor closed by an earlier call in this loop is unknown to c-ares
  // (ignored), or already reused by a new socket, for which a spurious
  // readiness is harmless: c-ares' sockets are non-blocking.
  for (const Ready& ready : ready_) {
    bool readable = ready.events & (POLLIN | POLLERR | POLLHUP);
    bool writable = ready.events & (POLLOUT | POLLERR);
    ares_process_fd(channel_, readable ? ready.fd : ARES_SOCKET_BAD,
                    writable ? ready.fd : ARES_SOCKET_BAD);
  }
  // Every ares_process_fd also handles due timeouts; with no socket ready
  // this pass came from the timer.
  if (ready_.empty()) ares_process_fd(channel_, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
}

}  // namespace ringmta::dns
