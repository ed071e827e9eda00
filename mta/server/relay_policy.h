// The relay policy: who may send mail through this relay (DESIGN §3, issue
// 3). Clients in the relay networks (CIDRs, IPv4 and IPv6) may relay to any
// domain; any other client only after AUTH; everyone else gets 554 5.7.1 at
// RCPT. Not here: credentials (credentials.h) or the SMTP exchange (mta/smtp).
#ifndef RINGMTA_MTA_SERVER_RELAY_POLICY_H_
#define RINGMTA_MTA_SERVER_RELAY_POLICY_H_

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "mta/smtp/message_sink.h"

namespace ringmta::server {

// An IP address as 16 bytes; IPv4 (and IPv4-mapped IPv6, "::ffff:a.b.c.d",
// which is how a dual-stack listener sees IPv4 clients) is kept as IPv4 so
// an IPv4 network matches it either way.
struct IpAddress {
  bool v4 = false;
  std::array<uint8_t, 16> bytes{};  // v4 uses the first 4

  static std::optional<IpAddress> Parse(std::string_view text);
};

// "192.0.2.0/24", "2001:db8::/32", or a bare address (a host: /32 or /128).
struct Network {
  IpAddress base;  // host bits cleared
  int prefix_bits = 0;

  // Errors name the text and say what is wrong with it.
  static absl::StatusOr<Network> Parse(std::string_view text);
  bool Contains(const IpAddress& address) const;
  // 0.0.0.0/0 or ::/0: every client of that family, i.e. an open relay.
  bool CoversEverything() const { return prefix_bits == 0; }
};

// Parses every entry; the first bad one is the error.
absl::StatusOr<std::vector<Network>> ParseNetworks(const std::vector<std::string>& texts);

// Immutable after construction, so one instance may serve every shard.
class RelayPolicy : public smtp::RecipientPolicy {
 public:
  explicit RelayPolicy(std::vector<Network> networks) : networks_(std::move(networks)) {}

  // OK when the client is in a relay network or authenticated (the
  // envelope carries both), else kPermissionDenied (554 5.7.1).
  absl::Status CheckRecipient(const smtp::Envelope& envelope,
                              const smtp::Recipient& recipient) override;
  bool InRelayNetworks(std::string_view client_address) const;

 private:
  const std::vector<Network> networks_;
};

}  // namespace ringmta::server

#endif  // RINGMTA_MTA_SERVER_RELAY_POLICY_H_
