// Socket: multishot receive over provided buffers, timeouts, end of stream,
// cancellation, buffer starvation (backpressure), and a 1,000-connection
// echo through a ShardGroup.
#include "mta/io/socket.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "mta/io/operation.h"
#include "mta/io/shard.h"
#include "mta/io/test_util.h"

namespace ringmta::io {
namespace {

class SocketPairTest : public ::testing::Test {
 protected:
  void SetUp() override { Init(64, 4096); }
  void Init(uint32_t buffer_count, uint32_t buffer_bytes) {
    auto reactor = Reactor::Create();
    ASSERT_TRUE(reactor.ok()) << reactor.status();
    reactor_ = std::move(*reactor);
    auto buffers = BufferRing::Create(reactor_->ring(), 7, buffer_count, buffer_bytes);
    ASSERT_TRUE(buffers.ok()) << buffers.status();
    buffers_ = std::move(*buffers);
  }
  void TearDown() override {
    ASSERT_TRUE(RunUntil(*reactor_, [&] { return tasks_.empty(); }));
    EXPECT_EQ(reactor_->pending_operations(), 0);
    EXPECT_EQ(buffers_->available(), buffers_->count()) << "a buffer was not given back";
    buffers_.reset();
  }
  // A connected pair: [0] is ours (wrapped in Socket), [1] the peer's.
  void MakePair(int fds[2]) { ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0); }

  std::unique_ptr<Reactor> reactor_;
  std::unique_ptr<BufferRing> buffers_;
  TaskGroup tasks_;
};

int NoDelayOf(int fd) {
  int value = -1;
  socklen_t length = sizeof value;
  if (getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &value, &length) != 0) return -errno;
  return value;
}

// Outbound connections call DisableNagle before connect: it must take on a
// fresh TCP socket of either family and stay on once connected.
TEST(DisableNagleTest, SetsTcpNoDelayBeforeConnectOnBothFamilies) {
  for (int family : {AF_INET, AF_INET6}) {
    int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 && family == AF_INET6) continue;  // no IPv6 in this sandbox
    ASSERT_GE(fd, 0);
    EXPECT_EQ(NoDelayOf(fd), 0) << "the kernel default changed; this test proves nothing";
    EXPECT_TRUE(DisableNagle(fd));
    EXPECT_NE(NoDelayOf(fd), 0) << "family " << family;
    close(fd);
  }
  int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  ASSERT_EQ(listen(listener, 1), 0);
  socklen_t length = sizeof address;
  ASSERT_EQ(getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length), 0);
  int client = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_TRUE(DisableNagle(client));
  ASSERT_EQ(connect(client, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  EXPECT_NE(NoDelayOf(client), 0);
  close(client);
  close(listener);
}

TEST(DisableNagleTest, LeavesUnixSocketsAloneAndReportsBadDescriptors) {
  int fds[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
  EXPECT_TRUE(DisableNagle(fds[0]));  // nothing to do, not an error
  EXPECT_EQ(NoDelayOf(fds[0]), -EOPNOTSUPP);
  close(fds[0]);
  close(fds[1]);
  errno = 0;
  EXPECT_FALSE(DisableNagle(-1));
  EXPECT_EQ(errno, EBADF);
}

struct ReadResult {
  std::string bytes;
  int32_t last = 1;
};

Task<void> ReadAll(Reactor& reactor, BufferRing& buffers, int fd, CancelScope* scope,
                   int64_t timeout_ms, ReadResult* out) {
  Socket socket(reactor, buffers, fd, scope);
  for (;;) {
    int32_t result = co_await socket.Receive(timeout_ms);
    if (result <= 0) {
      out->last = result;
      break;
    }
    out->bytes.append(socket.chunk());
  }
  co_await socket.Close();
}

TEST_F(SocketPairTest, ReceivesEverythingThenEndOfStream) {
  int fds[2];
  MakePair(fds);
  ReadResult out;
  Spawn(*reactor_, tasks_, ReadAll(*reactor_, *buffers_, fds[0], nullptr, 10'000, &out));
  ASSERT_EQ(write(fds[1], "hello ", 6), 6);
  reactor_->RunOnce(0);
  ASSERT_EQ(write(fds[1], "world", 5), 5);
  close(fds[1]);
  ASSERT_TRUE(RunUntil(*reactor_, [&] { return tasks_.empty(); }));
  EXPECT_EQ(out.bytes, "hello world");
  EXPECT_EQ(out.last, 0);
}

TEST_F(SocketPairTest, ReceiveTimesOutAndKeepsLaterBytes) {
  int fds[2];
  MakePair(fds);
  std::vector<int32_t> results;
  std::string later;
  auto task = [](Reactor& reactor, BufferRing& buffers, int fd, int peer,
                 std::vector<int32_t>* results, std::string* later) -> Task<void> {
    Socket socket(reactor, buffers, fd, nullptr);
    results->push_back(co_await socket.Receive(20));
    EXPECT_EQ(write(peer, "late", 4), 4);
    results->push_back(co_await socket.Receive(10'000));
    if (results->back() > 0) later->assign(socket.chunk());
    co_await socket.Close();
  };
  Spawn(*reactor_, tasks_, task(*reactor_, *buffers_, fds[0], fds[1], &results, &later));
  ASSERT_TRUE(RunUntil(*reactor_, [&] { return tasks_.empty(); }));
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[0], -ETIMEDOUT);
  EXPECT_EQ(results[1], 4);
  EXPECT_EQ(later, "late");
  close(fds[1]);
}

TEST_F(SocketPairTest, CancelledReceiveResumesWithECANCELEDAndCloseFreesAll) {
  int fds[2];
  MakePair(fds);
  CancelScope scope;
  ReadResult out;
  Spawn(*reactor_, tasks_, ReadAll(*reactor_, *buffers_, fds[0], &scope, kNoTimeout, &out));
  ASSERT_EQ(write(fds[1], "abc", 3), 3);
  ASSERT_TRUE(RunUntil(*reactor_, [&] { return out.bytes == "abc"; }));
  scope.Cancel();
  ASSERT_TRUE(RunUntil(*reactor_, [&] { return tasks_.empty(); }));
  EXPECT_EQ(out.last, -ECANCELED);
  close(fds[1]);
}

TEST_F(SocketPairTest, BytesQueuedBeforeCloseAreGivenBack) {
  int fds[2];
  MakePair(fds);
  auto task = [](Reactor& reactor, BufferRing& buffers, int fd, int peer) -> Task<void> {
    Socket socket(reactor, buffers, fd, nullptr);
    EXPECT_EQ(write(peer, "one", 3), 3);
    EXPECT_GT(co_await socket.Receive(10'000), 0);
    EXPECT_EQ(write(peer, "two", 3), 3);
    co_await Sleep(reactor, nullptr, 20);  // "two" lands in a queued buffer.
    co_await socket.Close();
  };
  Spawn(*reactor_, tasks_, task(*reactor_, *buffers_, fds[0], fds[1]));
  ASSERT_TRUE(RunUntil(*reactor_, [&] { return tasks_.empty(); }));
  close(fds[1]);
}

class StarvedPoolTest : public SocketPairTest {
 protected:
  void SetUp() override { Init(4, 16); }  // 64 bytes of buffers in all.
};

TEST_F(StarvedPoolTest, ConnectionsShareATinyPoolWithoutLosingBytes) {
  constexpr int kSockets = 3;
  constexpr int kBytes = 20'000;
  int fds[kSockets][2];
  ReadResult out[kSockets];
  std::string sent[kSockets];
  for (int i = 0; i < kSockets; ++i) {
    MakePair(fds[i]);
    for (int b = 0; b < kBytes; ++b) sent[i] += static_cast<char>('a' + (b * 7 + i) % 26);
    Spawn(*reactor_, tasks_, ReadAll(*reactor_, *buffers_, fds[i][0], nullptr, 10'000, &out[i]));
  }
  // Writers on another thread: the pool (64 bytes) runs dry constantly, so
  // receives fail with -ENOBUFS and must be re-armed as buffers return.
  std::thread writer([&] {
    for (int offset = 0; offset < kBytes; offset += 1000) {
      for (int i = 0; i < kSockets; ++i) {
        ASSERT_EQ(write(fds[i][1], sent[i].data() + offset, 1000), 1000);
      }
    }
    for (int i = 0; i < kSockets; ++i) close(fds[i][1]);
  });
  bool finished = RunUntil(*reactor_, [&] { return tasks_.empty(); });
  writer.join();
  ASSERT_TRUE(finished);
  EXPECT_GT(buffers_->starvations(), 0u) << "the pool never ran dry: the test proves nothing";
  for (int i = 0; i < kSockets; ++i) {
    EXPECT_EQ(out[i].last, 0);
    EXPECT_TRUE(out[i].bytes == sent[i]) << "socket " << i << " got " << out[i].bytes.size();
  }
}

// ---- 1,000 concurrent connections through a ShardGroup ----

Task<void> EchoHandler(Shard& shard, int fd, void* context) {
  auto* peak = static_cast<std::atomic<int>*>(context);
  int now = shard.connections();
  int seen = peak->load();
  while (now > seen && !peak->compare_exchange_weak(seen, now)) {
  }
  CancelScope scope;
  Socket socket(shard.reactor(), shard.buffers(), fd, &scope);
  ShutdownNode node{[](void* owner) { static_cast<CancelScope*>(owner)->Cancel(); }, &scope};
  shard.AddShutdownNode(&node);
  for (;;) {
    int32_t received = co_await socket.Receive(30'000);
    if (received <= 0) break;
    // chunk() stays valid until the next Receive, so it is sent as is.
    if (co_await socket.SendAll(socket.chunk(), 30'000) < 0) break;
  }
  shard.RemoveShutdownNode(&node);
  co_await socket.Close();
}

struct EchoClientState {
  int connected = 0;
  int total = 0;
  int echoed_ok = 0;
  int failures = 0;
};

Task<void> EchoClient(Reactor& reactor, BufferRing& buffers, SocketAddress server, int id,
                      EchoClientState* state) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  Socket socket(reactor, buffers, fd, nullptr);
  int32_t connected = co_await Connect(reactor, nullptr, fd, server.get(), server.length, 30'000);
  if (connected < 0) {
    ++state->failures;
    co_await socket.Close();
    co_return;
  }
  // Hold every connection open until all are: the server must carry 1,000
  // at once, not 1,000 in turn.
  ++state->connected;
  while (state->connected < state->total) co_await Sleep(reactor, nullptr, 5);
  std::string message = "message from client " + std::to_string(id) + "\r\n";
  std::string echoed;
  if (co_await socket.SendAll(message, 30'000) >= 0) {
    while (echoed.size() < message.size()) {
      if (co_await socket.Receive(30'000) <= 0) break;
      echoed.append(socket.chunk());
    }
  }
  if (echoed == message) ++state->echoed_ok;
  else ++state->failures;
  co_await socket.Close();
}

TEST(ShardGroupEchoTest, ThousandConcurrentConnectionsEchoCorrectly) {
  RaiseDescriptorLimit();
  std::atomic<int> peak{0};
  ShardGroupOptions options;
  options.shards = 2;
  options.listen.push_back(*SocketAddress::Parse("127.0.0.1:0"));
  options.handler = &EchoHandler;
  options.handler_context = &peak;
  auto group = ShardGroup::Start(options);
  ASSERT_TRUE(group.ok()) << group.status();
  SocketAddress server = (*group)->bound()[0];

  auto reactor = Reactor::Create();
  ASSERT_TRUE(reactor.ok());
  auto buffers = BufferRing::Create((*reactor)->ring(), 1, 1024, 4096);
  ASSERT_TRUE(buffers.ok());
  TaskGroup clients;
  EchoClientState state;
  state.total = 1000;
  for (int id = 0; id < state.total; ++id) {
    Spawn(**reactor, clients, EchoClient(**reactor, **buffers, server, id, &state));
  }
  EXPECT_TRUE(RunUntil(**reactor, [&] { return clients.empty(); }, 120'000));
  EXPECT_EQ(state.echoed_ok, 1000);
  EXPECT_EQ(state.failures, 0);
  (*group)->RequestStop();
  (*group)->Join();
  uint64_t accepted = (*group)->shard(0).connections_accepted() +
                      (*group)->shard(1).connections_accepted();
  EXPECT_EQ(accepted, 1000u);
  // Two shards share the load: at least 1,000 / 2 open on one at once.
  EXPECT_GE(peak.load(), 400);
  buffers->reset();
}

}  // namespace
}  // namespace ringmta::io
