// OutboundTls: one shard's client-side TLS state. A ClientContext per
// (policy, CA bundle) in use, each with its session cache, so pooled and
// repeat connections to a host resume instead of doing a full handshake;
// and the hosts whose handshake failed under "may", reached in cleartext
// until a deadline. Not here: the handshake (outbound_session) or which
// policy a hop gets (routes, RelayConfig).
#ifndef RINGMTA_MTA_RELAY_OUTBOUND_TLS_H_
#define RINGMTA_MTA_RELAY_OUTBOUND_TLS_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "tls/context.h"

namespace ringmta::relay {

class OutboundTls {
 public:
  // The shard's context for `policy` with `ca_file` (empty: the system
  // bundle), made on first use. An error (unreadable CA bundle) is not
  // remembered: the next connection tries again.
  absl::StatusOr<std::shared_ptr<tls::ClientContext>> Context(tls::ClientPolicy policy,
                                                              const std::string& ca_file);

  // Whether `host` failed a handshake recently enough to skip TLS.
  bool InCleartextFallback(const std::string& host, int64_t now_ms) const;
  void RememberCleartextFallback(const std::string& host, int64_t until_ms, int64_t now_ms);
  size_t fallback_hosts() const { return fallback_until_ms_.size(); }

 private:
  absl::flat_hash_map<std::string, std::shared_ptr<tls::ClientContext>> contexts_;
  absl::flat_hash_map<std::string, int64_t> fallback_until_ms_;
};

}  // namespace ringmta::relay

#endif  // RINGMTA_MTA_RELAY_OUTBOUND_TLS_H_
