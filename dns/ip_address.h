// IpAddress: an IPv4 or IPv6 address as the resolver returns it, with the
// conversions a connecting client needs (text, sockaddr with a port).
// Not here: ports, host names or parsing of "host:port" (see resolver config).
#ifndef RINGMTA_DNS_IP_ADDRESS_H_
#define RINGMTA_DNS_IP_ADDRESS_H_

#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ringmta::dns {

class IpAddress {
 public:
  // From network-order bytes.
  static IpAddress V4(const uint8_t (&bytes)[4]);
  static IpAddress V6(const uint8_t (&bytes)[16]);
  // Dotted quad or RFC 4291 text (no brackets, no zone); nullopt otherwise.
  static std::optional<IpAddress> Parse(std::string_view text);

  bool is_v6() const { return family_ == AF_INET6; }
  int family() const { return family_; }  // AF_INET or AF_INET6
  // 4 or 16 network-order bytes.
  const uint8_t* bytes() const { return bytes_.data(); }
  size_t size() const { return is_v6() ? 16 : 4; }

  std::string ToString() const;
  // Fills `out` with this address and `port`; returns the sockaddr's length.
  socklen_t ToSockaddr(uint16_t port, sockaddr_storage* out) const;

  friend bool operator==(const IpAddress& a, const IpAddress& b) {
    return a.family_ == b.family_ && a.bytes_ == b.bytes_;
  }

 private:
  IpAddress(int family, const uint8_t* bytes, size_t size);

  int family_;
  std::array<uint8_t, 16> bytes_{};
};

}  // namespace ringmta::dns

#endif  // RINGMTA_DNS_IP_ADDRESS_H_
