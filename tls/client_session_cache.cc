// Client-side session cache: a bounded map host -> SSL_SESSION.
// Eviction is a linear scan, paid only when a full cache takes a new host.
#include "tls/client_session_cache.h"

#include <openssl/ssl.h>

#include "mta/base/check.h"

namespace ringmta::tls {

ClientSessionCache::ClientSessionCache(size_t entries_max) : entries_max_(entries_max) {
  CHECK(entries_max_ > 0);
}

void ClientSessionCache::Put(std::string_view key, SslSessionPtr session) {
  if (session == nullptr || !SSL_SESSION_is_resumable(session.get())) return;
  std::string owned_key(key);
  auto it = entries_.find(owned_key);
  if (it == entries_.end() && entries_.size() >= entries_max_) EvictOldest();
  entries_[owned_key] = Entry{std::move(session), next_seq_++};
  CHECK(entries_.size() <= entries_max_);
}

SslSessionPtr ClientSessionCache::Take(std::string_view key) {
  auto it = entries_.find(std::string(key));
  if (it == entries_.end()) return nullptr;
  if (SSL_SESSION_should_be_single_use(it->second.session.get())) {
    SslSessionPtr session = std::move(it->second.session);
    entries_.erase(it);
    return session;
  }
  SSL_SESSION_up_ref(it->second.session.get());
  return SslSessionPtr(it->second.session.get());
}

void ClientSessionCache::EvictOldest() {
  auto oldest = entries_.begin();
  for (auto it = entries_.begin(); it != entries_.end(); ++it) {
    if (it->second.stored_seq < oldest->second.stored_seq) oldest = it;
  }
  if (oldest != entries_.end()) entries_.erase(oldest);
}

}  // namespace ringmta::tls
