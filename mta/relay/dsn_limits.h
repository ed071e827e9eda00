// The bounds DSN generation enforces, each with its reason (STYLE practice 3).
// They live beside the DSN code until the relay's limits join mta/base/limits.h;
// config may only narrow them. Not here: the NOTIFY/RET defaults (dsn.h).
#ifndef RINGMTA_MTA_RELAY_DSN_LIMITS_H_
#define RINGMTA_MTA_RELAY_DSN_LIMITS_H_

#include <cstddef>
#include <cstdint>

#include "mta/base/limits.h"

namespace ringmta::relay {

// RET=FULL returns the whole message up to this size by default: enough
// for ordinary mail with attachments; a bounce of a huge message is mostly
// useless to the sender and doubles the traffic for a possibly forged one.
inline constexpr uint64_t kDsnFullReturnBytesDefault = uint64_t{10} << 20;
// The most any configuration may return: the DSN is built in memory.
inline constexpr uint64_t kDsnFullReturnBytesMax = uint64_t{50} << 20;
static_assert(kDsnFullReturnBytesDefault <= kDsnFullReturnBytesMax);
static_assert(kDsnFullReturnBytesMax <= limits::kMessageBytesMax);

// Header section returned when the body is not: real header sections are a
// few KiB (long Received: chains and signatures reach tens); past this the
// rest is cut at a line boundary and the report says so.
inline constexpr uint64_t kDsnReturnedHeaderBytesMax = 256u << 10;
static_assert(kDsnReturnedHeaderBytesMax <= kDsnFullReturnBytesDefault);

// A remote server's reply as quoted in Diagnostic-Code and the text part:
// a few reply lines (RFC 5321 §4.5.3.1.5 allows 512 octets each) is all a
// person needs; a hostile server cannot grow our bounce past this.
inline constexpr size_t kDsnDiagnosticBytesMax = 2048;
// Addresses, ENVID and host names as echoed: RFC 5321 §4.5.3.1 bounds paths
// at 256 octets and RFC 3461 §4.4 ENVID at 100; this leaves room for escapes.
inline constexpr size_t kDsnFieldTextBytesMax = 1024;

// RFC 5322 §2.1.1: lines SHOULD stay within 78 octets and MUST within 998.
inline constexpr size_t kDsnLineBytesSoft = 78;
inline constexpr size_t kDsnLineBytesMax = 998;

// One DSN reports at most the recipients one message may have.
inline constexpr size_t kDsnRecipientsMax = limits::kSmtpRecipientsMax;

}  // namespace ringmta::relay

#endif  // RINGMTA_MTA_RELAY_DSN_LIMITS_H_
