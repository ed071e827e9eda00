// HttpMetricsServer: serves GET /metrics on its own thread with blocking
// sockets and poll, one connection at a time. A scrape is rare (every few
// seconds) and cheap, so a thread outside the shards is the simplest thing
// that cannot slow them: it only reads their relaxed atomics. Every request
// is bounded (kMetricsRequestBytesMax, kMetricsIoTimeoutMs); other paths
// get 404, other methods 405, malformed requests 400, and the server stays
// up whatever a client sends. Not here: what the page says (the render
// callback), TLS or authentication (bind it to loopback).
#ifndef RINGMTA_MTA_ADMIN_HTTP_METRICS_SERVER_H_
#define RINGMTA_MTA_ADMIN_HTTP_METRICS_SERVER_H_

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

#include "absl/status/statusor.h"
#include "mta/io/listener.h"

namespace ringmta::admin {

// 127.0.0.0/8, ::1 or ::ffff:127.0.0.0/104.
bool IsLoopback(const io::SocketAddress& address);

struct HttpResponse {
  int status = 200;
  std::string content_type;
  std::string body;
};

// The pure part, for tests: one request's bytes (up to and including the
// blank line) to a response. `render` is called only for GET/HEAD /metrics.
HttpResponse AnswerHttpRequest(std::string_view request, const std::function<std::string()>& render);
std::string FormatHttpResponse(const HttpResponse& response, bool head_only);

class HttpMetricsServer {
 public:
  // Binds `address` now (so a bad address fails the daemon's start) and
  // serves on a new thread until destroyed. `render` runs on that thread.
  static absl::StatusOr<std::unique_ptr<HttpMetricsServer>> Start(
      const io::SocketAddress& address, std::function<std::string()> render);
  ~HttpMetricsServer();
  HttpMetricsServer(const HttpMetricsServer&) = delete;
  HttpMetricsServer& operator=(const HttpMetricsServer&) = delete;

  const io::SocketAddress& bound() const { return bound_; }
  uint64_t requests_served() const;

 private:
  HttpMetricsServer(int listen_fd, int stop_fd, io::SocketAddress bound,
                    std::function<std::string()> render);
  void Serve();
  void ServeConnection(int fd);

  int listen_fd_;
  int stop_fd_;  // an eventfd: written once to end Serve()
  io::SocketAddress bound_;
  std::function<std::string()> render_;
  std::atomic<uint64_t> requests_served_{0};
  std::thread thread_;
};

}  // namespace ringmta::admin

#endif  // RINGMTA_MTA_ADMIN_HTTP_METRICS_SERVER_H_
