// ringctl: the operator's command line for a running ringmta. Sends one
// request line on the admin socket and prints the answer (docs/operations.md).
// Depends only on the admin protocol's JSON, never on the daemon.
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "mta/admin/admin_limits.h"
#include "tools/ringctl/cli.h"

namespace {

using ringmta::admin::Json;

using ringmta::admin::kResponseBytesMax;

// Connects to `path`; long paths go through /proc/self/fd (sun_path holds
// 108 bytes, a spool directory may be deeper). Returns -1 with errno set.
int Connect(const std::string& path) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::string target = path;
  int directory_fd = -1;
  if (target.size() >= sizeof address.sun_path) {
    size_t slash = path.rfind('/');
    std::string directory = slash == std::string::npos ? "." : path.substr(0, slash);
    directory_fd = open(directory.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (directory_fd < 0) return -1;
    target = "/proc/self/fd/" + std::to_string(directory_fd) + "/" + path.substr(slash + 1);
    if (target.size() >= sizeof address.sun_path) {
      close(directory_fd);
      errno = ENAMETOOLONG;
      return -1;
    }
  }
  std::memcpy(address.sun_path, target.c_str(), target.size() + 1);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int result = fd < 0 ? -1 : connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address);
  int saved = errno;
  if (directory_fd >= 0) close(directory_fd);
  if (result != 0) {
    if (fd >= 0) close(fd);
    errno = saved;
    return -1;
  }
  return fd;
}

bool WriteAll(int fd, const std::string& data) {
  size_t sent = 0;
  while (sent < data.size()) {
    ssize_t n = send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    sent += static_cast<size_t>(n);
  }
  return true;
}

// Reads one line (without its newline); false on EOF first or too long.
bool ReadLine(int fd, std::string* line) {
  char buffer[65536];
  for (;;) {
    size_t newline = line->find('\n');
    if (newline != std::string::npos) {
      line->resize(newline);
      return true;
    }
    if (line->size() > kResponseBytesMax) return false;
    ssize_t n = read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    line->append(buffer, static_cast<size_t>(n));
  }
}

}  // namespace

int main(int argc, char** argv) {
  using namespace ringmta::ringctl;
  std::vector<std::string> arguments(argv + 1, argv + argc);
  absl::StatusOr<Invocation> invocation = ParseArguments(arguments);
  if (!invocation.ok()) {
    std::fprintf(stderr, "ringctl: %s (ringctl --help lists the commands)\n",
                 std::string(invocation.status().message()).c_str());
    return 2;
  }
  if (invocation->help) {
    std::fputs(Usage().c_str(), stdout);
    return 0;
  }
  std::string path = invocation->socket_path.empty() ? DefaultSocketPath() : invocation->socket_path;
  int fd = Connect(path);
  if (fd < 0) {
    std::fprintf(stderr, "ringctl: cannot connect to %s: %s (is ringmta running? --socket PATH)\n",
                 path.c_str(), std::strerror(errno));
    return 3;
  }
  std::string line;
  if (!WriteAll(fd, invocation->request.Serialize() + "\n") || !ReadLine(fd, &line)) {
    std::fprintf(stderr, "ringctl: no answer from %s\n", path.c_str());
    close(fd);
    return 3;
  }
  close(fd);
  absl::StatusOr<Json> response = ringmta::admin::ParseJson(line);
  if (!response.ok() || !response->is_object() || response->Find("ok") == nullptr) {
    std::fprintf(stderr, "ringctl: the daemon's answer is not a response: %s\n", line.substr(0, 200).c_str());
    return 3;
  }
  bool ok = response->Find("ok")->is_bool() && response->Find("ok")->as_bool();
  if (invocation->json) {
    std::printf("%s\n", line.c_str());
  } else if (ok) {
    std::fputs(Render(invocation->command, *response).c_str(), stdout);
  }
  if (!ok) {
    const Json* error = response->Find("error");
    std::fprintf(stderr, "ringctl: %s\n",
                 error != nullptr && error->is_string() ? error->as_string().c_str() : "request failed");
    return 1;
  }
  return 0;
}
