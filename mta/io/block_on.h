// BlockOn: runs a task to completion on the calling thread's reactor. Only
// for a shard's start and stop hooks and for tools, where nothing else may
// proceed until the task is done; never inside a running loop's work.
#ifndef RINGMTA_MTA_IO_BLOCK_ON_H_
#define RINGMTA_MTA_IO_BLOCK_ON_H_

#include <optional>
#include <utility>

#include "mta/io/reactor.h"
#include "mta/io/task.h"

namespace ringmta::io {

template <typename T>
T BlockOn(Reactor& reactor, Task<T> task) {
  std::optional<T> result;
  TaskGroup group;
  Spawn(reactor, group, [](Task<T> inner, std::optional<T>* out) -> Task<void> {
    out->emplace(co_await std::move(inner));
  }(std::move(task), &result));
  while (!group.empty()) reactor.RunOnce(-1);
  return std::move(*result);
}

inline void BlockOn(Reactor& reactor, Task<void> task) {
  TaskGroup group;
  Spawn(reactor, group, std::move(task));
  while (!group.empty()) reactor.RunOnce(-1);
}

}  // namespace ringmta::io

#endif  // RINGMTA_MTA_IO_BLOCK_ON_H_
