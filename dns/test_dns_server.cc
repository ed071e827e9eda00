#include "dns/test_dns_server.h"

#include <ares.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <span>

#include "absl/strings/str_cat.h"
#include "dns/message.h"
#include "mta/base/status.h"

extern char** environ;

namespace ringmta::dns {
namespace {

constexpr const char* kPython = "/usr/bin/python3";  // Debian's, which has dnslib
constexpr const char* kScript = "dns/testdata/fake_dns_server.py";
constexpr int kStartTimeoutMs = 30'000;  // a generous bound on a loaded machine
constexpr int kCountTimeoutMs = 5'000;
constexpr int kCountAttempts = 3;

// Reads the first line the child prints: its port.
absl::StatusOr<uint16_t> ReadPort(int fd) {
  std::string line;
  char c;
  while (line.size() < 16) {
    pollfd waiting{fd, POLLIN, 0};
    if (poll(&waiting, 1, kStartTimeoutMs) <= 0) {
      return absl::DeadlineExceededError("fake DNS server printed no port");
    }
    ssize_t got = read(fd, &c, 1);
    if (got <= 0) return absl::UnavailableError("fake DNS server exited before printing its port");
    if (c == '\n') break;
    line.push_back(c);
  }
  uint16_t port = 0;
  auto [end, error] = std::from_chars(line.data(), line.data() + line.size(), port);
  if (error != std::errc() || port == 0) return absl::InternalError("bad port line: " + line);
  return port;
}

absl::StatusOr<std::string> Exchange(uint16_t port, const unsigned char* query, int query_bytes) {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return ErrnoToStatus(errno, "socket");
  sockaddr_in server{};
  server.sin_family = AF_INET;
  server.sin_port = htons(port);
  server.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string reply(4096, '\0');
  absl::Status status = absl::DeadlineExceededError("no answer to the count query");
  if (connect(fd, reinterpret_cast<sockaddr*>(&server), sizeof server) == 0 &&
      send(fd, query, static_cast<size_t>(query_bytes), 0) == query_bytes) {
    pollfd waiting{fd, POLLIN, 0};
    if (poll(&waiting, 1, kCountTimeoutMs) == 1) {
      ssize_t got = recv(fd, reply.data(), reply.size(), 0);
      if (got > 0) {
        reply.resize(static_cast<size_t>(got));
        status = absl::OkStatus();
      }
    }
  }
  close(fd);
  if (!status.ok()) return status;
  return reply;
}

}  // namespace

absl::StatusOr<std::unique_ptr<TestDnsServer>> TestDnsServer::Start() {
  int to_child[2], from_child[2];
  if (pipe2(to_child, O_CLOEXEC) != 0) return ErrnoToStatus(errno, "pipe");
  if (pipe2(from_child, O_CLOEXEC) != 0) return ErrnoToStatus(errno, "pipe");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, to_child[0], STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&actions, from_child[1], STDOUT_FILENO);
  char* argv[] = {const_cast<char*>(kPython), const_cast<char*>(kScript), nullptr};
  pid_t pid = -1;
  int spawned = posix_spawn(&pid, kPython, &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  close(to_child[0]);
  close(from_child[1]);
  if (spawned != 0) {
    close(to_child[1]);
    close(from_child[0]);
    return ErrnoToStatus(spawned, "posix_spawn python3");
  }
  absl::StatusOr<uint16_t> port = ReadPort(from_child[0]);
  close(from_child[0]);
  std::unique_ptr<TestDnsServer> server(new TestDnsServer(pid, to_child[1], port.value_or(0)));
  if (!port.ok()) return port.status();  // the destructor reaps the child
  return server;
}

TestDnsServer::~TestDnsServer() {
  close(stdin_fd_);
  kill(pid_, SIGTERM);
  int status;
  while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
}

std::string TestDnsServer::address() const { return absl::StrCat("127.0.0.1:", port_); }

absl::StatusOr<int> TestDnsServer::QueryCount(const std::string& name) const {
  std::string qname = name + ".count.invalid";
  unsigned char* query = nullptr;
  int query_bytes = 0;
  if (ares_create_query(qname.c_str(), 1, kTypeA, 4242, 1, &query, &query_bytes, 0) !=
      ARES_SUCCESS) {
    return absl::InternalError("ares_create_query");
  }
  absl::StatusOr<std::string> reply;
  for (int attempt = 0; attempt < kCountAttempts; ++attempt) {
    reply = Exchange(port_, query, query_bytes);
    if (reply.ok()) break;
  }
  ares_free_string(query);
  if (!reply.ok()) return reply.status();
  auto bytes = std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(reply->data()),
                                        reply->size());
  absl::StatusOr<Answer> answer = ParseAnswer(bytes, qname, kTypeA);
  if (!answer.ok()) return answer.status();
  if (answer->addresses.size() != 1) return absl::InternalError("count answer without address");
  const uint8_t* address = answer->addresses[0].bytes();
  return address[2] * 256 + address[3];
}

}  // namespace ringmta::dns
