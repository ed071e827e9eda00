// Task<T>: a lazily started, move-only C++20 coroutine that yields one T.
// `co_await task` starts it and resumes the awaiter when it finishes
// (symmetric transfer: no stack growth). Spawn() runs a Task<void> detached
// inside a TaskGroup, which is how sessions live. Frames come from the
// per-thread frame pool. No exceptions: an escaping one terminates.
#ifndef RINGMTA_MTA_IO_TASK_H_
#define RINGMTA_MTA_IO_TASK_H_

#include <coroutine>
#include <cstdlib>
#include <optional>
#include <utility>

#include "mta/base/check.h"
#include "mta/io/frame_pool.h"

namespace ringmta::io {

template <typename T>
class Task;
class Reactor;

namespace internal {

struct PromiseBase {
  std::coroutine_handle<> continuation;

  static void* operator new(size_t bytes) { return AllocateFrame(bytes); }
  static void operator delete(void* frame, size_t bytes) { FreeFrame(frame, bytes); }

  std::suspend_always initial_suspend() noexcept { return {}; }

  struct FinalAwaiter {
    bool await_ready() noexcept { return false; }
    template <typename Promise>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<Promise> done) noexcept {
      std::coroutine_handle<> next = done.promise().continuation;
      return next ? next : std::noop_coroutine();
    }
    void await_resume() noexcept {}
  };
  FinalAwaiter final_suspend() noexcept { return {}; }
  void unhandled_exception() noexcept { std::abort(); }
};

template <typename T>
struct Promise : PromiseBase {
  std::optional<T> value;
  Task<T> get_return_object() noexcept;
  template <typename U>
  void return_value(U&& result) {
    value.emplace(std::forward<U>(result));
  }
  T TakeValue() { return std::move(*value); }
};

template <>
struct Promise<void> : PromiseBase {
  Task<void> get_return_object() noexcept;
  void return_void() noexcept {}
  void TakeValue() {}
};

}  // namespace internal

template <typename T = void>
class [[nodiscard]] Task {
 public:
  using promise_type = internal::Promise<T>;
  using Handle = std::coroutine_handle<promise_type>;

  Task(Task&& other) noexcept : handle_(std::exchange(other.handle_, nullptr)) {}
  Task& operator=(Task&& other) noexcept {
    if (this != &other) {
      Reset();
      handle_ = std::exchange(other.handle_, nullptr);
    }
    return *this;
  }
  Task(const Task&) = delete;
  Task& operator=(const Task&) = delete;
  ~Task() { Reset(); }

  bool await_ready() const noexcept { return false; }
  std::coroutine_handle<> await_suspend(std::coroutine_handle<> awaiter) noexcept {
    handle_.promise().continuation = awaiter;
    return handle_;
  }
  T await_resume() {
    CHECK(handle_.done());
    return handle_.promise().TakeValue();
  }

 private:
  friend promise_type;
  explicit Task(Handle handle) : handle_(handle) {}

  // Destroying a started but unfinished coroutine would free a frame that a
  // pending ring operation still points into; tasks must finish (cancel
  // them) before they are dropped.
  void Reset() {
    if (handle_) {
      handle_.destroy();
      handle_ = nullptr;
    }
  }

  Handle handle_;
};

namespace internal {
template <typename T>
Task<T> Promise<T>::get_return_object() noexcept {
  return Task<T>(std::coroutine_handle<Promise<T>>::from_promise(*this));
}
inline Task<void> Promise<void>::get_return_object() noexcept {
  return Task<void>(std::coroutine_handle<Promise<void>>::from_promise(*this));
}
}  // namespace internal

// Counts detached tasks so that an owner (a shard, a test) can stop only once
// every one of them has finished. Single-threaded, like everything on a shard.
class TaskGroup {
 public:
  TaskGroup() = default;
  TaskGroup(const TaskGroup&) = delete;
  TaskGroup& operator=(const TaskGroup&) = delete;
  ~TaskGroup() { CHECK(live_ == 0); }

  int live() const { return live_; }
  bool empty() const { return live_ == 0; }

 private:
  friend void Spawn(Reactor& reactor, TaskGroup& group, Task<void> task);
  int live_ = 0;
};

// Runs `task` detached: it starts on the reactor's next ready pass (never
// inside the caller, so Spawn is safe from completion callbacks) and
// finishes on its own; the group counts it meanwhile.
void Spawn(Reactor& reactor, TaskGroup& group, Task<void> task);

}  // namespace ringmta::io

#endif  // RINGMTA_MTA_IO_TASK_H_
