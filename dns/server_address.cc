#include "dns/server_address.h"

#include <charconv>
#include <cstdint>

#include "absl/strings/str_cat.h"
#include "dns/ip_address.h"

namespace ringmta::dns {
namespace {

constexpr uint16_t kDnsPort = 53;

absl::Status Bad(std::string_view server, std::string_view why) {
  return absl::InvalidArgumentError(
      absl::StrCat("DNS server \"", absl::string_view(server.data(), server.size()),
                   "\": ", absl::string_view(why.data(), why.size())));
}

}  // namespace

absl::StatusOr<std::string> ServerCsvEntry(std::string_view server) {
  std::string_view host = server;
  std::string_view port_text;
  bool has_port = false;
  if (!server.empty() && server.front() == '[') {
    size_t close = server.find(']');
    if (close == std::string_view::npos) return Bad(server, "missing ']'");
    host = server.substr(1, close - 1);
    std::string_view rest = server.substr(close + 1);
    if (!rest.empty() && rest.front() != ':') return Bad(server, "expected ':' after ']'");
    has_port = !rest.empty();
    if (has_port) port_text = rest.substr(1);
  } else if (size_t colon = server.find(':');
             colon != server.npos && server.find(':', colon + 1) == server.npos) {
    // Exactly one colon: IPv4 with a port. More: a bare IPv6 address.
    host = server.substr(0, colon);
    port_text = server.substr(colon + 1);
    has_port = true;
  }
  std::optional<IpAddress> address = IpAddress::Parse(host);
  if (!address.has_value()) return Bad(server, "not an IP address");
  uint16_t port = kDnsPort;
  if (has_port) {
    const char* end = port_text.data() + port_text.size();
    auto [parsed_end, error] = std::from_chars(port_text.data(), end, port);
    if (error != std::errc() || parsed_end != end || port == 0) return Bad(server, "bad port");
  }
  if (address->is_v6()) return absl::StrCat("[", address->ToString(), "]:", port);
  return absl::StrCat(address->ToString(), ":", port);
}

}  // namespace ringmta::dns
