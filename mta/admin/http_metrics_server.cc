#include "mta/admin/http_metrics_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "mta/admin/metrics_exposition.h"
#include "mta/base/clock.h"
#include "mta/base/limits.h"
#include "mta/base/log.h"
#include "mta/base/status.h"

namespace ringmta::admin {
namespace {

const char* Reason(int status) {
  if (status == 200) return "OK";
  if (status == 400) return "Bad Request";
  if (status == 404) return "Not Found";
  if (status == 405) return "Method Not Allowed";
  if (status == 408) return "Request Timeout";
  if (status == 431) return "Request Header Fields Too Large";
  return "Internal Server Error";
}

HttpResponse Error(int status) {
  return HttpResponse{status, "text/plain; charset=utf-8", std::string(Reason(status)) + "\n"};
}

// Reads until the blank line that ends the header, the size bound, the
// deadline or EOF. Returns 0 with the request in *request, or the HTTP
// status to answer with (or -1: the client left; answer nothing).
int ReadRequest(int fd, std::string* request) {
  int64_t deadline_ms = MonotonicNowMs() + limits::kMetricsIoTimeoutMs;
  char buffer[2048];
  while (request->find("\r\n\r\n") == std::string::npos &&
         request->find("\n\n") == std::string::npos) {
    if (request->size() >= limits::kMetricsRequestBytesMax) return 431;
    int64_t wait_ms = deadline_ms - MonotonicNowMs();
    if (wait_ms <= 0) return 408;
    pollfd readable{fd, POLLIN, 0};
    int ready = poll(&readable, 1, static_cast<int>(wait_ms));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) return ready == 0 ? 408 : -1;
    size_t room = std::min(sizeof buffer, limits::kMetricsRequestBytesMax - request->size());
    ssize_t got = recv(fd, buffer, room, 0);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return request->empty() ? -1 : 400;
    request->append(buffer, static_cast<size_t>(got));
  }
  return 0;
}

void SendAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t sent = send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (sent < 0 && errno == EINTR) continue;
    if (sent <= 0) return;  // timeout (SO_SNDTIMEO) or peer gone
    data.remove_prefix(static_cast<size_t>(sent));
  }
}

// Reads and drops what the client still sends (an oversized request), for
// a bounded time and amount, so our close does not reset the connection
// before the client has read the error.
void DrainBriefly(int fd) {
  constexpr int kDrainMs = 200;
  constexpr size_t kDrainBytesMax = 64 * 1024;
  char buffer[4096];
  size_t drained = 0;
  int64_t deadline_ms = MonotonicNowMs() + kDrainMs;
  while (drained < kDrainBytesMax) {
    int64_t wait_ms = deadline_ms - MonotonicNowMs();
    pollfd readable{fd, POLLIN, 0};
    if (wait_ms <= 0 || poll(&readable, 1, static_cast<int>(wait_ms)) <= 0) return;
    ssize_t got = recv(fd, buffer, sizeof buffer, 0);
    if (got <= 0) return;
    drained += static_cast<size_t>(got);
  }
}

}  // namespace

bool IsLoopback(const io::SocketAddress& address) {
  if (address.family() == AF_INET) {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(&address.storage);
    return (ntohl(v4->sin_addr.s_addr) >> 24) == 127;
  }
  if (address.family() == AF_INET6) {
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&address.storage);
    if (IN6_IS_ADDR_LOOPBACK(&v6->sin6_addr)) return true;
    return IN6_IS_ADDR_V4MAPPED(&v6->sin6_addr) && v6->sin6_addr.s6_addr[12] == 127;
  }
  return false;
}

HttpResponse AnswerHttpRequest(std::string_view request,
                               const std::function<std::string()>& render) {
  size_t line_end = request.find('\n');
  if (line_end == std::string_view::npos) return Error(400);
  std::string_view line = request.substr(0, line_end);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  // RFC 9112 §3: method SP request-target SP HTTP-version.
  size_t first_space = line.find(' ');
  size_t last_space = line.rfind(' ');
  if (first_space == std::string_view::npos || first_space == last_space) return Error(400);
  std::string_view method = line.substr(0, first_space);
  std::string_view target = line.substr(first_space + 1, last_space - first_space - 1);
  std::string_view version = line.substr(last_space + 1);
  if (method.empty() || target.empty() || target.find(' ') != std::string_view::npos ||
      version.substr(0, 5) != "HTTP/") {
    return Error(400);
  }
  for (char c : method) {
    if (c < 'A' || c > 'Z') return Error(400);
  }
  std::string_view path = target.substr(0, target.find('?'));
  if (path != "/metrics") return Error(404);
  if (method != "GET" && method != "HEAD") return Error(405);
  return HttpResponse{200, std::string(kExpositionContentType), render()};
}

std::string FormatHttpResponse(const HttpResponse& response, bool head_only) {
  std::string text = "HTTP/1.1 " + std::to_string(response.status) + " " +
                     Reason(response.status) + "\r\nContent-Type: " + response.content_type +
                     "\r\nContent-Length: " + std::to_string(response.body.size()) +
                     "\r\nConnection: close\r\n";
  if (response.status == 405) text += "Allow: GET, HEAD\r\n";
  text += "\r\n";
  if (!head_only) text += response.body;
  return text;
}

absl::StatusOr<std::unique_ptr<HttpMetricsServer>> HttpMetricsServer::Start(
    const io::SocketAddress& address, std::function<std::string()> render) {
  ASSIGN_OR_RETURN(int listen_fd, io::OpenListeningSocket(address, /*exclusive=*/true));
  absl::StatusOr<io::SocketAddress> bound = io::LocalAddress(listen_fd);
  int stop_fd = eventfd(0, EFD_CLOEXEC);
  if (!bound.ok() || stop_fd < 0) {
    absl::Status error = bound.ok() ? ErrnoToStatus(errno, "eventfd") : bound.status();
    ::close(listen_fd);
    if (stop_fd >= 0) ::close(stop_fd);
    return error;
  }
  std::unique_ptr<HttpMetricsServer> server(
      new HttpMetricsServer(listen_fd, stop_fd, *bound, std::move(render)));
  server->thread_ = std::thread([raw = server.get()] {
    SetLogShard(-1);
    raw->Serve();
  });
  return server;
}

HttpMetricsServer::HttpMetricsServer(int listen_fd, int stop_fd, io::SocketAddress bound,
                                     std::function<std::string()> render)
    : listen_fd_(listen_fd), stop_fd_(stop_fd), bound_(bound), render_(std::move(render)) {}

HttpMetricsServer::~HttpMetricsServer() {
  uint64_t one = 1;
  if (write(stop_fd_, &one, sizeof one) != sizeof one) {
    Log(LogLevel::kError, "metrics server: cannot signal stop: %s", std::strerror(errno));
  }
  if (thread_.joinable()) thread_.join();
  ::close(listen_fd_);
  ::close(stop_fd_);
}

uint64_t HttpMetricsServer::requests_served() const {
  return requests_served_.load(std::memory_order_relaxed);
}

void HttpMetricsServer::Serve() {
  for (;;) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {stop_fd_, POLLIN, 0}};
    int ready = poll(fds, 2, -1);
    if (ready < 0) {
      if (errno == EINTR) continue;
      Log(LogLevel::kError, "metrics server: poll: %s", std::strerror(errno));
      return;
    }
    if (fds[1].revents != 0) return;
    if ((fds[0].revents & POLLIN) == 0) continue;
    int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;  // the client left, or out of descriptors: next time
    ServeConnection(fd);
    ::close(fd);
  }
}

void HttpMetricsServer::ServeConnection(int fd) {
  timeval timeout{limits::kMetricsIoTimeoutMs / 1000, (limits::kMetricsIoTimeoutMs % 1000) * 1000};
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
  std::string request;
  int problem = ReadRequest(fd, &request);
  if (problem < 0) return;
  HttpResponse response = problem > 0 ? Error(problem) : AnswerHttpRequest(request, render_);
  bool head_only = problem == 0 && request.rfind("HEAD ", 0) == 0;
  SendAll(fd, FormatHttpResponse(response, head_only));
  requests_served_.fetch_add(1, std::memory_order_relaxed);
  // Half-close and let the client read everything before the descriptor
  // goes (a close with unread input would reset the connection).
  shutdown(fd, SHUT_WR);
  DrainBriefly(fd);
}

}  // namespace ringmta::admin
