// Bounds on configured routes, each with its reason.
#ifndef RINGMTA_MTA_RELAY_ROUTE_LIMITS_H_
#define RINGMTA_MTA_RELAY_ROUTE_LIMITS_H_

#include <cstddef>

namespace ringmta::relay::limits {

// Explicit routes in one config. The router scans them per recipient domain;
// a relay with more special cases than this wants MX records, not routes.
inline constexpr size_t kRoutesMax = 1000;

}  // namespace ringmta::relay::limits

#endif  // RINGMTA_MTA_RELAY_ROUTE_LIMITS_H_
