// ClientCounter: concurrent inbound connections per client address on one
// shard, so one client cannot take every connection slot (issue 3: 421 past
// the limit). Per shard, like everything else: a client's connections spread
// over the shards by SO_REUSEPORT's hash, so the daemon-wide limit is split
// between them. Not here: the policy of who is exempt (the session asks).
#ifndef RINGMTA_MTA_SERVER_CLIENT_COUNTER_H_
#define RINGMTA_MTA_SERVER_CLIENT_COUNTER_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/container/flat_hash_map.h"

namespace ringmta::server {

class ClientCounter {
 public:
  explicit ClientCounter(int per_client_max) : per_client_max_(per_client_max) {}

  // Counts a connection from `client`; false (and not counted) when it
  // already has per_client_max connections here.
  bool TryAdd(std::string_view client) {
    int& count = counts_[std::string(client)];
    if (count >= per_client_max_) {
      if (count == 0) counts_.erase(std::string(client));
      return false;
    }
    ++count;
    return true;
  }

  void Remove(std::string_view client) {
    auto it = counts_.find(std::string(client));
    if (it == counts_.end()) return;
    if (--it->second <= 0) counts_.erase(it);
  }

  int Count(std::string_view client) const {
    auto it = counts_.find(std::string(client));
    return it == counts_.end() ? 0 : it->second;
  }
  // Distinct clients connected: bounded by the shard's connection limit,
  // because an entry lives only while a connection does.
  size_t clients() const { return counts_.size(); }

 private:
  int per_client_max_;
  absl::flat_hash_map<std::string, int> counts_;
};

}  // namespace ringmta::server

#endif  // RINGMTA_MTA_SERVER_CLIENT_COUNTER_H_
