// Remembers one resumable TLS session per next-hop host so pooled and repeat
// connections skip the full handshake. Not thread-safe: one per shard (DESIGN §2).
#ifndef RINGMTA_TLS_CLIENT_SESSION_CACHE_H_
#define RINGMTA_TLS_CLIENT_SESSION_CACHE_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/container/flat_hash_map.h"
#include "tls/ssl_types.h"

namespace ringmta::tls {

class ClientSessionCache {
 public:
  explicit ClientSessionCache(size_t entries_max);
  ClientSessionCache(const ClientSessionCache&) = delete;
  ClientSessionCache& operator=(const ClientSessionCache&) = delete;

  // Stores `session` for `key`, replacing an older one; evicts the least
  // recently stored entry when full. Non-resumable sessions are dropped.
  void Put(std::string_view key, SslSessionPtr session);

  // A session to offer for `key`, or null. TLS 1.3 tickets are handed out
  // once (RFC 8446 §C.4: reuse lets observers link connections); TLS 1.2
  // sessions stay cached.
  SslSessionPtr Take(std::string_view key);

  // Forgets `key`'s session, e.g. after that host failed a handshake.
  void Erase(std::string_view key) { entries_.erase(std::string(key)); }

  size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    SslSessionPtr session;
    uint64_t stored_seq;
  };
  void EvictOldest();

  size_t entries_max_;
  uint64_t next_seq_ = 0;
  absl::flat_hash_map<std::string, Entry> entries_;
};

}  // namespace ringmta::tls

#endif  // RINGMTA_TLS_CLIENT_SESSION_CACHE_H_
