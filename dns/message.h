// DNS answers as the resolver uses them: the normalised form of a name and a
// parser from a c-ares answer buffer (RFC 1035 §4.1) to the records of one
// question, following CNAMEs and reading negative TTLs (RFC 2308).
// Not here: sending, caching or MX policy (ares_channel, cache, mx).
#ifndef RINGMTA_DNS_MESSAGE_H_
#define RINGMTA_DNS_MESSAGE_H_

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "dns/ip_address.h"

namespace ringmta::dns {

// RR types we ask for or step through (RFC 1035 §3.2.2, RFC 3596).
inline constexpr uint16_t kTypeA = 1;
inline constexpr uint16_t kTypeCname = 5;
inline constexpr uint16_t kTypeSoa = 6;
inline constexpr uint16_t kTypeMx = 15;
inline constexpr uint16_t kTypeAaaa = 28;

struct MxRecord {
  uint16_t preference = 0;
  // Normalised; empty for the root "." (an RFC 7505 null MX).
  std::string exchange;
  friend bool operator==(const MxRecord&, const MxRecord&) = default;
};

enum class AnswerKind {
  kRecords,   // NOERROR with records of the asked type
  kNoData,    // NOERROR without them (RFC 2308 §2.2): for MX, implicit MX applies
  kNxDomain,  // the name does not exist (RFC 2308 §2.1)
};

// What one (name, type) question established; this is what the cache keeps.
struct Answer {
  AnswerKind kind = AnswerKind::kNoData;
  std::vector<MxRecord> mx;          // type MX, in answer order
  std::vector<IpAddress> addresses;  // type A or AAAA, in answer order
  // Records: the smallest TTL along the CNAME chain and the records.
  // Negative: min(SOA TTL, SOA MINIMUM) (RFC 2308 §5); nullopt without SOA.
  std::optional<uint32_t> ttl_s;
};

// Lower-cases ASCII, drops one trailing dot, and checks the RFC 1035 §2.3.4
// lengths and letters/digits/hyphen/underscore labels (underscore for
// service names). kInvalidArgument otherwise: such a domain is a bounce.
// Internationalised names must arrive as A-labels (RFC 5890 "xn--").
absl::StatusOr<std::string> NormalizeName(std::string_view name);

// Parses a response to (`qname`, `qtype`) (qname normalised). Follows the
// CNAME chain from qname inside the answer section (at most
// limits::kCnameChainMax hops). Errors are kUnavailable (the caller defers):
// a malformed message, an rcode other than NOERROR/NXDOMAIN, a CNAME loop.
absl::StatusOr<Answer> ParseAnswer(std::span<const uint8_t> message, std::string_view qname,
                                   uint16_t qtype);

}  // namespace ringmta::dns

#endif  // RINGMTA_DNS_MESSAGE_H_
