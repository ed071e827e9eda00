#include "mta/relay/destination_table.h"

#include "mta/base/check.h"

namespace ringmta::relay {

Destination& DestinationTable::FindOrAdd(const std::string& key,
                                         const std::vector<NextHop>& hops) {
  auto it = destinations_.find(key);
  if (it == destinations_.end()) {
    return *destinations_.emplace(key, std::make_unique<Destination>(host_, key, hops))
                .first->second;
  }
  if (!hops.empty()) it->second->set_hops(hops);
  return *it->second;
}

Destination* DestinationTable::Find(const std::string& key) {
  auto it = destinations_.find(key);
  return it == destinations_.end() ? nullptr : it->second.get();
}

size_t DestinationTable::ForgetIdle(int64_t now_ms, int64_t forget_ms) {
  size_t forgotten = 0;
  // Erasing one element leaves the other iterators of a flat_hash_map valid.
  for (auto it = destinations_.begin(); it != destinations_.end();) {
    if (it->second->Forgettable(now_ms, forget_ms)) {
      destinations_.erase(it++);
      ++forgotten;
    } else {
      ++it;
    }
  }
  return forgotten;
}

void DestinationTable::Clear() {
  for (auto& [key, destination] : destinations_) CHECK(destination->idle());
  destinations_.clear();
}

}  // namespace ringmta::relay
