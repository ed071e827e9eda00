#include "mta/server/relay_policy.h"

#include <arpa/inet.h>

#include <algorithm>

#include <charconv>
#include <cstring>

namespace ringmta::server {
namespace {

constexpr uint8_t kMappedPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

}  // namespace

std::optional<IpAddress> IpAddress::Parse(std::string_view text) {
  // inet_pton needs a NUL-terminated string; an address is never longer.
  if (text.empty() || text.size() >= INET6_ADDRSTRLEN) return std::nullopt;
  char buffer[INET6_ADDRSTRLEN];
  std::memcpy(buffer, text.data(), text.size());
  buffer[text.size()] = '\0';
  IpAddress address;
  if (inet_pton(AF_INET, buffer, address.bytes.data()) == 1) {
    address.v4 = true;
    return address;
  }
  if (inet_pton(AF_INET6, buffer, address.bytes.data()) != 1) return std::nullopt;
  if (std::memcmp(address.bytes.data(), kMappedPrefix, sizeof kMappedPrefix) == 0) {
    std::memmove(address.bytes.data(), address.bytes.data() + 12, 4);
    std::memset(address.bytes.data() + 4, 0, 12);
    address.v4 = true;
  }
  return address;
}

absl::StatusOr<Network> Network::Parse(std::string_view text) {
  const std::string quoted = "\"" + std::string(text) + "\"";
  const size_t slash = text.find('/');
  std::optional<IpAddress> base = IpAddress::Parse(text.substr(0, slash));
  if (!base) {
    return absl::InvalidArgumentError(quoted + " is not an IPv4 or IPv6 network (ADDRESS/BITS)");
  }
  // A mapped IPv6 spelling of an IPv4 network is not accepted: its prefix
  // length would count the 96 mapping bits, which is easy to get wrong.
  const bool mapped_spelling = base->v4 && text.substr(0, slash).find(':') != std::string::npos;
  if (mapped_spelling) {
    return absl::InvalidArgumentError(quoted + ": write IPv4 networks in dotted form");
  }
  const int bits_max = base->v4 ? 32 : 128;
  Network network{*base, bits_max};
  if (slash != std::string_view::npos) {
    const std::string_view digits = text.substr(slash + 1);
    int bits = -1;
    auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), bits);
    if (digits.empty() || error != std::errc() || end != digits.data() + digits.size() ||
        bits < 0 || bits > bits_max) {
      return absl::InvalidArgumentError(quoted + ": prefix length must be 0 to " +
                                        std::to_string(bits_max));
    }
    network.prefix_bits = bits;
  }
  // Host bits set ("10.1.2.3/8") usually mean a typo, so refuse rather than
  // guess which of the address or the length was meant.
  IpAddress masked = network.base;
  for (int i = 0; i < 16; ++i) {
    const int keep = std::min(8, std::max(0, network.prefix_bits - 8 * i));
    masked.bytes[i] &= static_cast<uint8_t>(0xff00 >> keep);
  }
  if (masked.bytes != network.base.bytes) {
    return absl::InvalidArgumentError(quoted + " has host bits set beyond its prefix length");
  }
  return network;
}

bool Network::Contains(const IpAddress& address) const {
  if (address.v4 != base.v4) return false;
  const int whole = prefix_bits / 8;
  if (std::memcmp(address.bytes.data(), base.bytes.data(), whole) != 0) return false;
  const int rest = prefix_bits % 8;
  if (rest == 0) return true;
  const uint8_t mask = static_cast<uint8_t>(0xff00 >> rest);
  return (address.bytes[whole] & mask) == base.bytes[whole];
}

absl::StatusOr<std::vector<Network>> ParseNetworks(const std::vector<std::string>& texts) {
  std::vector<Network> networks;
  for (const std::string& text : texts) {
    absl::StatusOr<Network> network = Network::Parse(text);
    if (!network.ok()) return network.status();
    networks.push_back(*network);
  }
  return networks;
}

bool RelayPolicy::InRelayNetworks(std::string_view client_address) const {
  // The address comes from getpeername, never from the client's words; one
  // that does not parse (a Unix socket, "unknown") is simply not trusted.
  const std::optional<IpAddress> address = IpAddress::Parse(client_address);
  if (!address) return false;
  for (const Network& network : networks_) {
    if (network.Contains(*address)) return true;
  }
  return false;
}

// Every recipient is remote to an outbound relay, so there is no local
// domain to accept for anyone (not even "Postmaster": we deliver nothing
// locally, RFC 5321 §4.5.1 applies to the final destination).
absl::Status RelayPolicy::CheckRecipient(const smtp::Envelope& envelope,
                                         const smtp::Recipient& recipient) {
  if (!envelope.auth_user.empty()) return absl::OkStatus();
  if (InRelayNetworks(envelope.client_address)) return absl::OkStatus();
  return absl::PermissionDeniedError("relay access denied");
}

}  // namespace ringmta::server
