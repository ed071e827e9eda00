// Parsing of configured DNS server addresses ("127.0.0.1:5353", "[::1]:53",
// or an address alone for port 53) into c-ares' "ports CSV" entries, with
// errors that name the bad entry. Not here: host names (a resolver's address
// must not need a resolver).
#ifndef RINGMTA_DNS_SERVER_ADDRESS_H_
#define RINGMTA_DNS_SERVER_ADDRESS_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace ringmta::dns {

// One entry in ares_set_servers_ports_csv form: "1.2.3.4:53" or "[::1]:53".
absl::StatusOr<std::string> ServerCsvEntry(std::string_view server);

}  // namespace ringmta::dns

#endif  // RINGMTA_DNS_SERVER_ADDRESS_H_
