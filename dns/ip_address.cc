#include "dns/ip_address.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstring>

namespace ringmta::dns {

IpAddress::IpAddress(int family, const uint8_t* bytes, size_t size) : family_(family) {
  std::memcpy(bytes_.data(), bytes, size);
}

IpAddress IpAddress::V4(const uint8_t (&bytes)[4]) { return IpAddress(AF_INET, bytes, 4); }
IpAddress IpAddress::V6(const uint8_t (&bytes)[16]) { return IpAddress(AF_INET6, bytes, 16); }

std::optional<IpAddress> IpAddress::Parse(std::string_view text) {
  // inet_pton wants a terminated string; anything longer is no address.
  char buffer[INET6_ADDRSTRLEN];
  if (text.size() >= sizeof buffer) return std::nullopt;
  std::memcpy(buffer, text.data(), text.size());
  buffer[text.size()] = '\0';
  uint8_t bytes[16];
  if (inet_pton(AF_INET, buffer, bytes) == 1) return IpAddress(AF_INET, bytes, 4);
  if (inet_pton(AF_INET6, buffer, bytes) == 1) return IpAddress(AF_INET6, bytes, 16);
  return std::nullopt;
}

std::string IpAddress::ToString() const {
  char buffer[INET6_ADDRSTRLEN];
  if (inet_ntop(family_, bytes_.data(), buffer, sizeof buffer) == nullptr) return "?";
  return buffer;
}

socklen_t IpAddress::ToSockaddr(uint16_t port, sockaddr_storage* out) const {
  std::memset(out, 0, sizeof *out);
  if (is_v6()) {
    auto* in6 = reinterpret_cast<sockaddr_in6*>(out);
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(port);
    std::memcpy(&in6->sin6_addr, bytes_.data(), 16);
    return sizeof *in6;
  }
  auto* in4 = reinterpret_cast<sockaddr_in*>(out);
  in4->sin_family = AF_INET;
  in4->sin_port = htons(port);
  std::memcpy(&in4->sin_addr, bytes_.data(), 4);
  return sizeof *in4;
}

}  // namespace ringmta::dns
