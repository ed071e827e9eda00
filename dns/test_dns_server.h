// TestDnsServer: runs dns/testdata/fake_dns_server.py (python3-dnslib) as a
// child process on a loopback port, for tests of the resolver and of
// anything that delivers by MX. Test-only; blocking calls are fine here.
// Not here: the zone itself (see the script's docstring for its names).
#ifndef RINGMTA_DNS_TEST_DNS_SERVER_H_
#define RINGMTA_DNS_TEST_DNS_SERVER_H_

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace ringmta::dns {

class TestDnsServer {
 public:
  // Starts the server (from the test's runfiles directory) and waits for
  // the port it prints.
  static absl::StatusOr<std::unique_ptr<TestDnsServer>> Start();
  // Closes the child's stdin (it exits at EOF), then reaps it.
  ~TestDnsServer();
  TestDnsServer(const TestDnsServer&) = delete;
  TestDnsServer& operator=(const TestDnsServer&) = delete;

  uint16_t port() const { return port_; }
  // "127.0.0.1:PORT", for ResolverConfig::servers.
  std::string address() const;
  // Queries the server has seen for `name` (every type, UDP and TCP), read
  // through its "<name>.count.invalid" A record over a blocking UDP socket.
  absl::StatusOr<int> QueryCount(const std::string& name) const;

 private:
  TestDnsServer(pid_t pid, int stdin_fd, uint16_t port)
      : pid_(pid), stdin_fd_(stdin_fd), port_(port) {}

  pid_t pid_;
  int stdin_fd_;
  uint16_t port_;
};

}  // namespace ringmta::dns

#endif  // RINGMTA_DNS_TEST_DNS_SERVER_H_
