// Connections per second through the real inbound SMTP path: accept, 220
// greeting, QUIT, 221, close. Clients are coroutines on one client reactor
// (this thread); the server is a ShardGroup with `shards` threads, so on a
// 2-core machine client and server share the cores, as in production.
#include <sys/socket.h>

#include <string>

#include <benchmark/benchmark.h>

#include "mta/io/operation.h"
#include "mta/io/shard.h"
#include "mta/io/socket.h"
#include "mta/server/inbound_session.h"

namespace ringmta {
namespace {

struct ClientStats {
  int64_t completed = 0;
  int64_t failed = 0;
};

// Reads until a line starting with `code` and a space (the final line).
io::Task<bool> ExpectReply(io::Socket& socket, std::string& pending, const char* code) {
  for (;;) {
    size_t end;
    while ((end = pending.find("\r\n")) != std::string::npos) {
      std::string line = pending.substr(0, end);
      pending.erase(0, end + 2);
      if (line.size() >= 4 && line.compare(0, 3, code) == 0 && line[3] == ' ') co_return true;
      if (line.size() < 4 || line[3] != '-') co_return false;
    }
    if (co_await socket.Receive(10'000) <= 0) co_return false;
    pending.append(socket.chunk());
  }
}

io::Task<void> GreetQuitLoop(io::Reactor& reactor, io::BufferRing& buffers,
                             io::SocketAddress server, int64_t count, ClientStats* stats) {
  for (int64_t i = 0; i < count; ++i) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    io::Socket socket(reactor, buffers, fd, nullptr);
    std::string pending;
    bool ok = co_await io::Connect(reactor, nullptr, fd, server.get(), server.length, 10'000) == 0 &&
              co_await ExpectReply(socket, pending, "220") &&
              co_await socket.SendAll("QUIT\r\n", 10'000) >= 0 &&
              co_await ExpectReply(socket, pending, "221");
    ++(ok ? stats->completed : stats->failed);
    co_await socket.Close();
  }
}

void BM_AcceptGreetQuit(benchmark::State& state) {
  const int shards = static_cast<int>(state.range(0));
  const int clients = static_cast<int>(state.range(1));
  server::RefusingSinkFactory sinks;
  server::InboundConfig inbound;
  inbound.protocol.hostname = "bench.test";
  inbound.sinks = &sinks;
  io::ShardGroupOptions options;
  options.shards = shards;
  options.listen.push_back(*io::SocketAddress::Parse("127.0.0.1:0"));
  options.handler = &server::ServeInbound;
  options.handler_context = &inbound;
  auto group = io::ShardGroup::Start(options);
  auto reactor = io::Reactor::Create();
  if (!group.ok() || !reactor.ok()) {
    state.SkipWithError("cannot start");
    return;
  }
  auto buffers = io::BufferRing::Create((*reactor)->ring(), 1, 1024, 4096);
  ClientStats stats;
  constexpr int64_t kPerClient = 200;
  for (auto _ : state) {
    io::TaskGroup tasks;
    for (int i = 0; i < clients; ++i) {
      Spawn(**reactor, tasks,
            GreetQuitLoop(**reactor, **buffers, (*group)->bound()[0], kPerClient, &stats));
    }
    while (!tasks.empty()) (*reactor)->RunOnce(-1);
  }
  state.counters["conn/s"] =
      benchmark::Counter(static_cast<double>(stats.completed), benchmark::Counter::kIsRate);
  state.counters["failed"] = static_cast<double>(stats.failed);
  (*group)->RequestStop();
  (*group)->Join();
  buffers->reset();
}
// (shards, concurrent clients)
BENCHMARK(BM_AcceptGreetQuit)
    ->Args({1, 1})
    ->Args({1, 32})
    ->Args({2, 32})
    ->Args({2, 128})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace ringmta
