#include "mta/io/shard.h"

#include <unistd.h>

#include <future>
#include <string>

#include "mta/base/check.h"
#include "mta/base/log.h"
#include "mta/base/shard_stats.h"
#include "mta/base/status.h"

namespace ringmta::io {
namespace {
// Buffer group id for receive buffers; one group per ring.
constexpr uint16_t kRecvBufferGroup = 1;
}  // namespace

Shard::Shard(ShardGroup& group, int index) : group_(group), index_(index) {}

int Shard::shard_count() const { return group_.size(); }

absl::Status Shard::Init() {
  ASSIGN_OR_RETURN(reactor_, Reactor::Create());
  ASSIGN_OR_RETURN(buffers_, BufferRing::Create(reactor_->ring(), kRecvBufferGroup,
                                                limits::kRecvBufferCount,
                                                limits::kRecvBufferBytes));
  const ShardGroupOptions& options = group_.options_;
  const std::vector<int>& fds = group_.listen_fds_[index_];
  accept_targets_.reserve(fds.size());  // listeners point into it
  for (size_t i = 0; i < fds.size(); ++i) {
    void* context = options.listen_contexts.empty() || options.listen_contexts[i] == nullptr
                        ? options.handler_context
                        : options.listen_contexts[i];
    accept_targets_.push_back(AcceptTarget{this, context});
    listeners_.push_back(
        std::make_unique<Listener>(*reactor_, fds[i], &Shard::OnAccept, &accept_targets_[i]));
  }
  group_.listen_fds_[index_].clear();  // The listeners own them now.
  return absl::OkStatus();
}

bool Shard::Send(int to, const ShardMessage& message) {
  CHECK(to >= 0 && to < group_.size());
  // A message to ourselves goes through our own inbox too (producer and
  // consumer are then one thread, which SPSC allows): it runs later, never
  // inline, whichever shard owns the work.
  Shard& target = group_.shard(to);
  if (!target.inboxes_[index_]->TryPush(message)) return false;
  // Pairs with the fence in Reactor::OnWake: either the target sees this
  // push in its next drain, or we see its wake flag cleared and wake it.
  std::atomic_thread_fence(std::memory_order_seq_cst);
  target.reactor_->Wake();
  return true;
}

bool Shard::DrainInboxes() {
  bool more = false;
  for (auto& inbox : inboxes_) {
    size_t drained = inbox->Drain(
        [this](ShardMessage&& message) { message.run(*this, message.value, message.pointer); },
        limits::kMailboxDrainBatchMax);
    // A full batch may have left messages behind; their wake-up was
    // already spent, so the next turn must not sleep.
    more |= drained == limits::kMailboxDrainBatchMax;
  }
  return more;
}

bool ShardGroup::SendFromMain(int to, const ShardMessage& message) {
  CHECK(to >= 0 && to < size());
  Shard& target = *shards_[to];
  // The last inbox is the main thread's (see Start).
  if (!target.inboxes_.back()->TryPush(message)) return false;
  std::atomic_thread_fence(std::memory_order_seq_cst);
  target.reactor_->Wake();
  return true;
}

void Shard::AddShutdownNode(ShutdownNode* node) {
  node->prev = nullptr;
  node->next = shutdown_head_;
  if (shutdown_head_ != nullptr) shutdown_head_->prev = node;
  shutdown_head_ = node;
}

void Shard::RemoveShutdownNode(ShutdownNode* node) {
  if (node->prev != nullptr) node->prev->next = node->next;
  else if (shutdown_head_ == node) shutdown_head_ = node->next;
  if (node->next != nullptr) node->next->prev = node->prev;
  node->prev = node->next = nullptr;
}

void Shard::OnAccept(void* target, int fd) {
  auto* accept = static_cast<AcceptTarget*>(target);
  Shard* self = accept->shard;
  ++self->accepted_;
  CurrentShardStats().Count(Counter::kConnectionsIn);
  if (self->stopping_ || self->connections_ >= self->group_.options().connections_per_shard_max) {
    ++self->refused_;
    CurrentShardStats().Count(Counter::kConnectionsInRefused);
    ::close(fd);
    return;
  }
  ++self->connections_;
  Spawn(*self->reactor_, self->tasks_, ServeCounted(*self, fd, accept->handler_context));
}

Task<void> Shard::ServeCounted(Shard& shard, int fd, void* context) {
  co_await shard.group_.options().handler(shard, fd, context);
  --shard.connections_;
}

void Shard::BeginStop() {
  stopping_ = true;
  for (auto& listener : listeners_) listener->Stop();
  // A shutdown callback may remove its own node, so step past it first.
  for (ShutdownNode* node = shutdown_head_; node != nullptr;) {
    ShutdownNode* next = node->next;
    node->on_shutdown(node->owner);
    node = next;
  }
}

void Shard::ForceStop() {
  forced_ = true;
  for (ShutdownNode* node = shutdown_head_; node != nullptr;) {
    ShutdownNode* next = node->next;
    if (node->on_force != nullptr) node->on_force(node->owner);
    node = next;
  }
}

bool Shard::Finished() const {
  if (!stopping_ || !tasks_.empty()) return false;
  for (const auto& listener : listeners_) {
    if (!listener->stopped()) return false;
  }
  return reactor_->pending_operations() == 0;
}

void Shard::Run() {
  for (auto& listener : listeners_) listener->Start();
  bool more_mail = false;
  while (!Finished()) {
    reactor_->RunOnce(more_mail ? 0 : -1);
    more_mail = DrainInboxes();
    if (!stopping_ && stop_requested_.load(std::memory_order_acquire)) BeginStop();
    if (stopping_ && !forced_ && force_requested_.load(std::memory_order_acquire)) ForceStop();
  }
  // Messages still queued for a stopped shard are dropped: their senders are
  // stopping too. The reactor object outlives the thread (ShardGroup frees
  // it after Join) so a late Wake() from another thread stays harmless.
  listeners_.clear();
  const ShardGroupOptions& options = group_.options_;
  if (options.on_shard_stop != nullptr) options.on_shard_stop(*this, options.hook_context);
  buffers_.reset();
  reactor_->Shutdown();
  finished_.store(true, std::memory_order_release);
}

absl::StatusOr<std::unique_ptr<ShardGroup>> ShardGroup::Start(const ShardGroupOptions& options) {
  if (options.shards < 1 || options.shards > limits::kShardsMax) {
    return absl::InvalidArgumentError("shards must be between 1 and " +
                                      std::to_string(limits::kShardsMax));
  }
  if (options.listen.size() > static_cast<size_t>(limits::kListenersMax)) {
    return absl::InvalidArgumentError("too many listen addresses");
  }
  if (!options.listen_contexts.empty() && options.listen_contexts.size() != options.listen.size()) {
    return absl::InvalidArgumentError("listen_contexts must match listen, one per address");
  }
  CHECK(options.handler != nullptr);
  std::unique_ptr<ShardGroup> group(new ShardGroup(options));
  group->listen_fds_.resize(options.shards);
  auto close_all = [&group] {
    for (auto& fds : group->listen_fds_) {
      for (int fd : fds) ::close(fd);
      fds.clear();
    }
  };
  for (const SocketAddress& requested : options.listen) {
    SocketAddress address = requested;
    for (int shard = 0; shard < options.shards; ++shard) {
      absl::StatusOr<int> fd = OpenListeningSocket(address);
      if (!fd.ok()) {
        close_all();
        return fd.status();
      }
      group->listen_fds_[shard].push_back(*fd);
      // Port 0 picks a free port once; every other shard binds that one.
      if (shard == 0) {
        absl::StatusOr<SocketAddress> bound = LocalAddress(*fd);
        if (!bound.ok()) {
          close_all();
          return bound.status();
        }
        address = *bound;
        group->bound_.push_back(address);
      }
    }
  }

  if (options.after_bind != nullptr) {
    absl::Status status = options.after_bind(options.after_bind_context);
    if (!status.ok()) {
      close_all();
      return status;
    }
  }

  for (int index = 0; index < options.shards; ++index) {
    group->shards_.push_back(std::unique_ptr<Shard>(new Shard(*group, index)));
  }
  for (auto& shard : group->shards_) {
    // One inbox per shard, plus the main thread's (SendFromMain) last.
    for (int from = 0; from <= options.shards; ++from) {
      shard->inboxes_.push_back(std::make_unique<Shard::Inbox>());
    }
  }
  // Each ring is created on its own thread (SINGLE_ISSUER: the creator
  // submits). Start waits for every shard to report its Init result.
  std::vector<std::promise<absl::Status>> ready(options.shards);
  std::vector<std::future<absl::Status>> results;
  for (auto& promise : ready) results.push_back(promise.get_future());
  std::vector<std::promise<bool>> go(options.shards);
  std::vector<std::shared_future<bool>> go_signals;
  for (auto& promise : go) go_signals.push_back(promise.get_future().share());
  for (int index = 0; index < options.shards; ++index) {
    Shard* shard = group->shards_[index].get();
    shard->thread_ = std::thread([shard, &ready, index, signal = go_signals[index]] {
      SetLogShard(shard->index_);
      const ShardGroupOptions& options = shard->group_.options_;
      absl::Status status = shard->Init();
      if (status.ok() && options.on_shard_start != nullptr) {
        status = options.on_shard_start(*shard, options.hook_context);
      }
      ready[index].set_value(status);
      if (!signal.get() || !status.ok()) {
        shard->listeners_.clear();
        shard->buffers_.reset();
        if (shard->reactor_ != nullptr) shard->reactor_->Shutdown();
        return;
      }
      shard->Run();
    });
  }
  absl::Status first_error = absl::OkStatus();
  for (auto& result : results) {
    absl::Status status = result.get();
    if (!status.ok() && first_error.ok()) first_error = status;
  }
  for (auto& promise : go) promise.set_value(first_error.ok());
  if (!first_error.ok()) {
    group->Join();
    close_all();
    return first_error;
  }
  return group;
}

ShardGroup::~ShardGroup() {
  Join();
  shards_.clear();
}

void ShardGroup::RequestStop() {
  for (auto& shard : shards_) {
    shard->stop_requested_.store(true, std::memory_order_release);
    if (shard->reactor_ != nullptr) shard->reactor_->Wake();
  }
}

void ShardGroup::ForceStop() {
  for (auto& shard : shards_) {
    shard->force_requested_.store(true, std::memory_order_release);
    if (shard->reactor_ != nullptr) shard->reactor_->Wake();
  }
}

bool ShardGroup::AllFinished() const {
  for (const auto& shard : shards_) {
    if (!shard->finished_.load(std::memory_order_acquire)) return false;
  }
  return true;
}

void ShardGroup::Join() {
  for (auto& shard : shards_) {
    if (shard->thread_.joinable()) shard->thread_.join();
  }
}

}  // namespace ringmta::io
