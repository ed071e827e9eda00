// MX policy, pure: from the MX records of a domain to the hosts to try, in
// order (RFC 5321 §5.1: ascending preference, random among equals), with the
// RFC 7505 null MX recognised. No sockets, no clock: unit-testable alone.
// Not here: the implicit MX fallback's address lookup (resolver.cc).
#ifndef RINGMTA_DNS_MX_H_
#define RINGMTA_DNS_MX_H_

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "dns/message.h"

namespace ringmta::dns {

struct MxHost {
  std::string name;  // normalised host name
  uint16_t preference = 0;
  friend bool operator==(const MxHost&, const MxHost&) = default;
};

struct MxResult {
  // Delivery order: try hosts[0] first.
  std::vector<MxHost> hosts;
  // True when the domain has no MX and hosts is the domain itself with
  // preference 0 (RFC 5321 §5.1 implicit MX; its A/AAAA exist).
  bool implicit = false;
};

// The generator MX shuffling draws from; one per resolver, seedable so tests
// are deterministic.
using MxRandom = std::mt19937_64;

// True for an RFC 7505 null MX: the exchange "." is the only record. (The
// RFC also asks for preference 0; "." is never deliverable, so any
// preference counts.)
bool IsNullMx(const std::vector<MxRecord>& records);

// Orders `records` for delivery: sorted by preference, shuffled within each
// preference with `random`, duplicate exchanges merged (the best preference
// wins), "." entries dropped when other records exist (a misconfigured null
// MX: the usable hosts still get the mail), at most limits::kMxHostsMax kept.
// kFailedPrecondition for a null MX (or nothing usable left): the caller
// bounces at once (RFC 7505 §4.2). CHECKs that `records` is not empty.
absl::StatusOr<MxResult> OrderMxHosts(std::vector<MxRecord> records, MxRandom& random);

}  // namespace ringmta::dns

#endif  // RINGMTA_DNS_MX_H_
