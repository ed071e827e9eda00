// LoadOptions: the load generator's command line. Not here: running it.
#ifndef RINGMTA_TOOLS_LOADGEN_LOAD_OPTIONS_H_
#define RINGMTA_TOOLS_LOADGEN_LOAD_OPTIONS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace ringmta::loadgen {

struct LoadOptions {
  std::string server = "127.0.0.1:25";
  int sessions = 1;             // concurrent connections (closed loop: the load)
  uint64_t messages = 1000;     // total, over all sessions
  double duration_s = 0;        // > 0: run this long instead of `messages`
  uint64_t per_connection = 0;  // messages per connection, then QUIT; 0: no limit
  double rate_per_s = 0;        // > 0: open loop at this many messages/s
  uint64_t size_bytes = 1024;
  int recipients = 1;
  int threads = 1;
  bool bdat = false;            // BDAT LAST (RFC 3030) when CHUNKING is offered
  bool pipelining = true;       // when PIPELINING is offered (RFC 2920)
  int64_t timeout_ms = 60'000;  // per reply and per send
  std::string helo = "loadgen.load.test";
  std::string sender = "sender@load.test";
  std::string recipient_domain = "sink.test";
  bool starttls = false;        // STARTTLS before mail; never falls back to cleartext
  bool handshake_only = false;  // per item: connect, EHLO, STARTTLS, handshake, QUIT
  bool tls_resume = false;      // offer the last session (default: full handshakes)
  bool json = false;
};

// Parses argv[1..]; an error names the flag. `help` is set for --help.
absl::StatusOr<LoadOptions> ParseLoadOptions(const std::vector<std::string>& arguments,
                                             bool* help);
extern const char kLoadUsage[];

}  // namespace ringmta::loadgen

#endif  // RINGMTA_TOOLS_LOADGEN_LOAD_OPTIONS_H_
