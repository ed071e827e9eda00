#include "mta/io/task.h"

#include "mta/io/reactor.h"

namespace ringmta::io {
namespace {

// A self-destroying coroutine that owns a Task<void> while it runs.
struct Detached {
  struct promise_type {
    static void* operator new(size_t bytes) { return AllocateFrame(bytes); }
    static void operator delete(void* frame, size_t bytes) { FreeFrame(frame, bytes); }
    Detached get_return_object() noexcept {
      return {std::coroutine_handle<promise_type>::from_promise(*this)};
    }
    std::suspend_always initial_suspend() noexcept { return {}; }
    std::suspend_never final_suspend() noexcept { return {}; }
    void return_void() noexcept {}
    void unhandled_exception() noexcept { std::abort(); }
  };
  std::coroutine_handle<promise_type> handle;
};

Detached RunDetached(Task<void> task, int* live) {
  co_await std::move(task);
  --*live;
}

}  // namespace

void Spawn(Reactor& reactor, TaskGroup& group, Task<void> task) {
  ++group.live_;
  reactor.Post(RunDetached(std::move(task), &group.live_).handle);
}

}  // namespace ringmta::io
