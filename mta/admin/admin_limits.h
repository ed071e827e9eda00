// Bounds of the control plane, each with its reason (STYLE §3: every
// bound in a limits header). Shared by the daemon's side and ringctl.
#ifndef RINGMTA_MTA_ADMIN_ADMIN_LIMITS_H_
#define RINGMTA_MTA_ADMIN_ADMIN_LIMITS_H_

#include <cstddef>
#include <cstdint>

namespace ringmta::admin {

// A request line longer than this is refused (and the connection closed):
// the longest valid request is a few hundred bytes.
inline constexpr size_t kRequestBytesMax = 64 * 1024;
// Nesting deeper than this is refused: a request is a flat object, a
// response two or three levels; the bound keeps the parser's recursion short.
inline constexpr int kJsonDepthMax = 16;
// Admin connections at once; more are closed at accept. ringctl uses one.
inline constexpr int kControlConnectionsMax = 16;
// A connection with no request for this long is closed.
inline constexpr int64_t kControlIdleTimeoutMs = 300'000;
// Writing one answer to a client that does not read.
inline constexpr int64_t kControlSendTimeoutMs = 10'000;
// How long `reload` waits for the main thread (it reads files and loads a
// certificate: milliseconds, unless something is badly wrong).
inline constexpr int64_t kReloadTimeoutMs = 30'000;
// A shard's answer to a fan-out: each does a walk of its index at most
// (~1 s for a million messages), so silence past this means it is stuck.
inline constexpr int64_t kShardAnswerTimeoutMs = 5'000;
// Messages one `list` answer may hold: keeps an answer line to a few MB.
inline constexpr int64_t kListLimitMax = 10'000;
// A suspension longer than the queue lifetime (5 days) is a mistake; a
// month leaves room for long holidays of a downstream host.
inline constexpr int64_t kDurationMaxS = 30LL * 24 * 3600;
// A filter or destination argument: an address is at most 256 bytes
// (RFC 5321 §4.5.3.1.3), an MX site key a few hosts.
inline constexpr size_t kFilterBytesMax = 512;
// The largest answer ringctl reads: kListLimitMax rows of ~1 KB, with room.
inline constexpr size_t kResponseBytesMax = 64 << 20;

}  // namespace ringmta::admin

#endif  // RINGMTA_MTA_ADMIN_ADMIN_LIMITS_H_
