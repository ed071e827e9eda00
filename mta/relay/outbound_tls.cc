// OutboundTls: contexts made lazily per (policy, CA bundle); the cleartext
// fallback memory is a bounded map host -> deadline.
#include "mta/relay/outbound_tls.h"

#include <utility>

#include "absl/container/flat_hash_map.h"
#include "tls/tls_limits.h"

namespace ringmta::relay {

absl::StatusOr<std::shared_ptr<tls::ClientContext>> OutboundTls::Context(
    tls::ClientPolicy policy, const std::string& ca_file) {
  std::string key = std::string(tls::ClientPolicyName(policy)) + "|" + ca_file;
  auto it = contexts_.find(key);
  if (it != contexts_.end()) return it->second;
  tls::ClientOptions options;
  options.policy = policy;
  options.ca_file = ca_file;
  absl::StatusOr<std::shared_ptr<tls::ClientContext>> context = tls::ClientContext::Create(options);
  if (!context.ok()) return context.status();
  contexts_.emplace(std::move(key), *context);
  return context;
}

bool OutboundTls::InCleartextFallback(const std::string& host, int64_t now_ms) const {
  auto it = fallback_until_ms_.find(host);
  return it != fallback_until_ms_.end() && it->second > now_ms;
}

void OutboundTls::RememberCleartextFallback(const std::string& host, int64_t until_ms,
                                            int64_t now_ms) {
  if (fallback_until_ms_.size() >= tls::limits::kCleartextFallbackHostsMax &&
      !fallback_until_ms_.contains(host)) {
    for (auto it = fallback_until_ms_.begin(); it != fallback_until_ms_.end();) {
      if (it->second <= now_ms) {
        fallback_until_ms_.erase(it++);
      } else {
        ++it;
      }
    }
    if (fallback_until_ms_.size() >= tls::limits::kCleartextFallbackHostsMax) return;
  }
  fallback_until_ms_[host] = until_ms;
}

}  // namespace ringmta::relay
