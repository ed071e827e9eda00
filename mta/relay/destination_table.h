// DestinationTable: the Destinations one owner shard keeps, by route key.
// Made on first use; forgotten again once idle for a while (swept by the
// owner's periodic timer), so memory follows the routes in use rather than
// every MX site ever seen. Not here: scheduling (Destination) or timers.
#ifndef RINGMTA_MTA_RELAY_DESTINATION_TABLE_H_
#define RINGMTA_MTA_RELAY_DESTINATION_TABLE_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "mta/relay/destination.h"
#include "mta/relay/destination_host.h"

namespace ringmta::relay {

class DestinationTable {
 public:
  explicit DestinationTable(DestinationHost& host) : host_(host) {}
  ~DestinationTable() { Clear(); }
  DestinationTable(const DestinationTable&) = delete;
  DestinationTable& operator=(const DestinationTable&) = delete;

  // The destination for `key`, made with `hops` on first use; a known one
  // takes `hops` when they are not empty (MX answers may have changed).
  Destination& FindOrAdd(const std::string& key, const std::vector<NextHop>& hops);
  Destination* Find(const std::string& key);
  // Deletes every destination that is Forgettable; returns how many went.
  size_t ForgetIdle(int64_t now_ms, int64_t forget_ms);
  // Deletes all of them; each must be idle (the sessions have ended).
  void Clear();

  size_t size() const { return destinations_.size(); }
  template <typename Visit>
  void ForEach(Visit visit) {
    for (auto& [key, destination] : destinations_) visit(*destination);
  }

 private:
  DestinationHost& host_;
  absl::flat_hash_map<std::string, std::unique_ptr<Destination>> destinations_;
};

}  // namespace ringmta::relay

#endif  // RINGMTA_MTA_RELAY_DESTINATION_TABLE_H_
