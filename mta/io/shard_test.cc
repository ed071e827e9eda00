// ShardGroup: cross-shard mailboxes (order, backpressure), clean stop with
// live connections, and the message when io_uring cannot be set up.
#include "mta/io/shard.h"

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstddef>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "mta/io/operation.h"
#include "mta/io/socket.h"
#include "mta/io/test_util.h"

namespace ringmta::io {
namespace {

Task<void> NeverCalled(Shard&, int fd, void*) {
  ::close(fd);
  co_return;
}

// Shard 0 sends kMessages sequence numbers to shard 1, retrying when the
// mailbox is full; shard 1 checks they arrive in order.
constexpr uint64_t kMessages = 200'000;

struct MailboxRun {
  std::atomic<uint64_t> received{0};
  std::atomic<uint64_t> out_of_order{0};
  std::atomic<uint64_t> full_retries{0};
  uint64_t next_expected = 0;  // Touched only by shard 1.
};

void OnSequence(Shard& shard, uint64_t value, void* pointer) {
  auto* run = static_cast<MailboxRun*>(pointer);
  if (value != run->next_expected) run->out_of_order.fetch_add(1);
  run->next_expected = value + 1;
  run->received.fetch_add(1, std::memory_order_release);
}

Task<void> Producer(Shard& shard, MailboxRun* run) {
  for (uint64_t i = 0; i < kMessages; ++i) {
    while (!shard.Send(1, ShardMessage{&OnSequence, i, run})) {
      run->full_retries.fetch_add(1);
      co_await Nop(shard.reactor());  // Let shard 1 drain; yields one turn.
    }
  }
}

absl::Status StartProducer(Shard& shard, void* context) {
  if (shard.index() == 0) {
    Spawn(shard.reactor(), shard.tasks(), Producer(shard, static_cast<MailboxRun*>(context)));
  }
  return absl::OkStatus();
}

TEST(ShardGroupTest, MailboxDeliversInOrderWithBackpressure) {
  MailboxRun run;
  ShardGroupOptions options;
  options.shards = 2;
  options.handler = &NeverCalled;
  options.hook_context = &run;
  options.on_shard_start = &StartProducer;
  auto group = ShardGroup::Start(options);
  ASSERT_TRUE(group.ok()) << group.status();
  int64_t give_up_ms = MonotonicNowMs() + 60'000;
  while (run.received.load(std::memory_order_acquire) < kMessages && MonotonicNowMs() < give_up_ms) {
    usleep(1000);
  }
  (*group)->RequestStop();
  (*group)->Join();
  EXPECT_EQ(run.received.load(), kMessages);
  EXPECT_EQ(run.out_of_order.load(), 0u);
  // 200,000 messages through a 1,024-slot mailbox: the producer must have
  // met a full mailbox at least once, or backpressure went untested.
  EXPECT_GT(run.full_retries.load(), 0u);
}

void OnPing(Shard& shard, uint64_t value, void* pointer) {
  static_cast<std::atomic<int>*>(pointer)->fetch_add(shard.index() == 0 ? 1 : 100);
}

absl::Status SendToSelf(Shard& shard, void* context) {
  if (shard.index() == 0) shard.Send(0, ShardMessage{&OnPing, 0, context});
  return absl::OkStatus();
}

absl::Status FailOnShardOne(Shard& shard, void* context) {
  return shard.index() == 1 ? absl::DataLossError("shard 1 refuses") : absl::OkStatus();
}

TEST(ShardGroupTest, StartHookFailureIsReported) {
  ShardGroupOptions options;
  options.shards = 2;
  options.handler = &NeverCalled;
  options.on_shard_start = &FailOnShardOne;
  auto group = ShardGroup::Start(options);
  ASSERT_FALSE(group.ok());
  EXPECT_EQ(group.status().message(), "shard 1 refuses");
}

// after_bind: sockets bound, no shard thread yet (the privilege drop's hook).
struct AfterBindRun {
  int calls = 0;
  int threads_at_call = 0;
  std::atomic<int> shard_starts{0};
  bool fail = false;
};

int ThreadsInProcess() {
  int threads = 0;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/task")) {
    (void)entry;
    ++threads;
  }
  return threads;
}

absl::Status RecordAfterBind(void* context) {
  auto* run = static_cast<AfterBindRun*>(context);
  ++run->calls;
  run->threads_at_call = ThreadsInProcess();
  if (run->shard_starts.load() != 0) return absl::InternalError("shards already started");
  return run->fail ? absl::PermissionDeniedError("cannot drop") : absl::OkStatus();
}

absl::Status CountShardStart(Shard&, void* context) {
  static_cast<AfterBindRun*>(context)->shard_starts.fetch_add(1);
  return absl::OkStatus();
}

TEST(ShardGroupTest, AfterBindRunsOnceBeforeAnyShardThread) {
  AfterBindRun run;
  ShardGroupOptions options;
  options.shards = 2;
  options.listen = {*SocketAddress::Parse("127.0.0.1:0")};
  options.handler = &NeverCalled;
  options.on_shard_start = &CountShardStart;
  options.hook_context = &run;
  options.after_bind = &RecordAfterBind;
  options.after_bind_context = &run;
  const int threads_before = ThreadsInProcess();
  auto group = ShardGroup::Start(options);
  ASSERT_TRUE(group.ok()) << group.status();
  EXPECT_EQ(run.calls, 1);
  EXPECT_EQ(run.threads_at_call, threads_before);
  EXPECT_EQ(run.shard_starts.load(), 2);
  (*group)->RequestStop();
  (*group)->Join();
}

TEST(ShardGroupTest, AfterBindFailureAbortsStart) {
  AfterBindRun run;
  run.fail = true;
  ShardGroupOptions options;
  options.shards = 2;
  options.listen = {*SocketAddress::Parse("127.0.0.1:0")};
  options.handler = &NeverCalled;
  options.on_shard_start = &CountShardStart;
  options.hook_context = &run;
  options.after_bind = &RecordAfterBind;
  options.after_bind_context = &run;
  auto group = ShardGroup::Start(options);
  ASSERT_FALSE(group.ok());
  EXPECT_EQ(group.status().message(), "cannot drop");
  EXPECT_EQ(run.shard_starts.load(), 0);
}

TEST(ShardGroupTest, MessageToSelfRunsOnTheSameShard) {
  std::atomic<int> pings{0};
  ShardGroupOptions options;
  options.shards = 2;
  options.handler = &NeverCalled;
  options.hook_context = &pings;
  options.on_shard_start = &SendToSelf;
  auto group = ShardGroup::Start(options);
  ASSERT_TRUE(group.ok()) << group.status();
  for (int i = 0; i < 10'000 && pings.load() == 0; ++i) usleep(1000);
  (*group)->RequestStop();
  (*group)->Join();
  EXPECT_EQ(pings.load(), 1);
}

Task<void> GreetAndWait(Shard& shard, int fd, void*) {
  CancelScope scope;
  Socket socket(shard.reactor(), shard.buffers(), fd, &scope);
  ShutdownNode node{[](void* owner) { static_cast<CancelScope*>(owner)->Cancel(); }, &scope};
  shard.AddShutdownNode(&node);
  co_await socket.SendAll("hello\n", 10'000);
  while (co_await socket.Receive(kNoTimeout) > 0) {
  }
  shard.RemoveShutdownNode(&node);
  co_await socket.Close();
}

TEST(ShardGroupTest, StopEndsLiveSessionsAndClosesListeners) {
  ShardGroupOptions options;
  options.shards = 2;
  options.listen.push_back(*SocketAddress::Parse("127.0.0.1:0"));
  options.handler = &GreetAndWait;
  auto group = ShardGroup::Start(options);
  ASSERT_TRUE(group.ok()) << group.status();
  SocketAddress server = (*group)->bound()[0];
  int clients[10];
  for (int& fd : clients) {
    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ASSERT_EQ(connect(fd, server.get(), server.length), 0);
    char greeting[6];
    ASSERT_EQ(recv(fd, greeting, sizeof greeting, MSG_WAITALL), 6);
  }
  (*group)->RequestStop();
  (*group)->Join();  // Returns only once every session has closed.
  for (int fd : clients) {
    char byte;
    EXPECT_EQ(recv(fd, &byte, 1, 0), 0) << "session still open after stop";
    close(fd);
  }
  int late = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  EXPECT_NE(connect(late, server.get(), server.length), 0) << "listener still open after stop";
  close(late);
}

// Each connection reports its listener's context as one byte.
Task<void> SendContext(Shard& shard, int fd, void* context) {
  CancelScope scope;
  Socket socket(shard.reactor(), shard.buffers(), fd, &scope);
  co_await socket.SendAll(std::string(1, *static_cast<const char*>(context)), 10'000);
  co_await socket.Close();
}

TEST(ShardGroupTest, EachListenerHandsItsOwnContext) {
  static const char kRelay = 'r', kSubmission = 's', kDefault = 'd';
  ShardGroupOptions options;
  options.shards = 2;
  for (int i = 0; i < 3; ++i) options.listen.push_back(*SocketAddress::Parse("127.0.0.1:0"));
  options.listen_contexts = {const_cast<char*>(&kRelay), const_cast<char*>(&kSubmission),
                             nullptr};
  options.handler = &SendContext;
  options.handler_context = const_cast<char*>(&kDefault);
  auto group = ShardGroup::Start(options);
  ASSERT_TRUE(group.ok()) << group.status();
  std::string seen;
  for (int round = 0; round < 4; ++round) {  // several connections reach both shards
    for (const SocketAddress& server : (*group)->bound()) {
      int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      ASSERT_EQ(connect(fd, server.get(), server.length), 0);
      char byte = 0;
      EXPECT_EQ(recv(fd, &byte, 1, MSG_WAITALL), 1);
      if (round == 0) seen += byte;
      EXPECT_EQ(byte, seen[&server - &(*group)->bound()[0]]);
      close(fd);
    }
  }
  EXPECT_EQ(seen, "rsd");
  (*group)->RequestStop();
  (*group)->Join();
}

// Each connection reports whether its accepted socket has TCP_NODELAY:
// '1' on, '0' off, 'e' if getsockopt failed.
Task<void> SendNoDelay(Shard& shard, int fd, void*) {
  int value = 0;
  socklen_t length = sizeof value;
  char report = getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &value, &length) != 0 ? 'e'
                : value != 0                                                  ? '1'
                                                                              : '0';
  CancelScope scope;
  Socket socket(shard.reactor(), shard.buffers(), fd, &scope);
  co_await socket.SendAll(std::string(1, report), 10'000);
  co_await socket.Close();
}

// Without it, a pipelined BDAT client waits out Nagle plus its own delayed
// ACK (40 ms) on every small write we make after a large one.
TEST(ShardGroupTest, AcceptedTcpSocketsHaveNagleOff) {
  ShardGroupOptions options;
  options.shards = 2;
  options.listen.push_back(*SocketAddress::Parse("127.0.0.1:0"));
  options.handler = &SendNoDelay;
  auto group = ShardGroup::Start(options);
  ASSERT_TRUE(group.ok()) << group.status();
  SocketAddress server = (*group)->bound()[0];
  std::string seen;
  for (int i = 0; i < 8; ++i) {  // several connections reach both shards
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ASSERT_EQ(connect(fd, server.get(), server.length), 0);
    char byte = 0;
    EXPECT_EQ(recv(fd, &byte, 1, MSG_WAITALL), 1);
    seen += byte;
    close(fd);
  }
  EXPECT_EQ(seen, "11111111");
  (*group)->RequestStop();
  (*group)->Join();
}

TEST(ShardGroupTest, ListenContextsMustMatchListen) {
  ShardGroupOptions options;
  options.listen.push_back(*SocketAddress::Parse("127.0.0.1:0"));
  options.listen_contexts = {nullptr, nullptr};
  options.handler = &NeverCalled;
  auto group = ShardGroup::Start(options);
  ASSERT_FALSE(group.ok());
  EXPECT_EQ(group.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ShardGroupTest, AddressInUseIsReportedNotFatal) {
  int holder = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  auto address = *SocketAddress::Parse("127.0.0.1:0");
  ASSERT_EQ(bind(holder, address.get(), address.length), 0);
  ASSERT_EQ(listen(holder, 1), 0);  // No SO_REUSEPORT: nobody may share it.
  ShardGroupOptions options;
  options.listen.push_back(*LocalAddress(holder));
  options.handler = &NeverCalled;
  auto group = ShardGroup::Start(options);
  EXPECT_FALSE(group.ok());
  EXPECT_NE(group.status().message().find("bind"), std::string::npos) << group.status();
  close(holder);
}

// Blocks io_uring_setup with ENOSYS, as a container's seccomp profile does.
void BlockIoUringSetup() {
  sock_filter filter[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_setup, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  sock_fprog program{static_cast<unsigned short>(sizeof filter / sizeof filter[0]), filter};
  prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
  prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program);
}

TEST(ShardGroupTest, MissingIoUringIsExplainedByName) {
  int pipe_fds[2];
  ASSERT_EQ(pipe(pipe_fds), 0);
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    BlockIoUringSetup();
    ShardGroupOptions options;
    options.handler = &NeverCalled;
    auto group = ShardGroup::Start(options);
    std::string message = group.ok() ? "started" : std::string(group.status().message());
    ssize_t ignored = write(pipe_fds[1], message.data(), message.size());
    (void)ignored;
    _exit(0);
  }
  close(pipe_fds[1]);
  char buffer[512] = {};
  ssize_t bytes = read(pipe_fds[0], buffer, sizeof buffer - 1);
  close(pipe_fds[0]);
  int status;
  waitpid(child, &status, 0);
  ASSERT_GT(bytes, 0);
  std::string message(buffer, static_cast<size_t>(bytes));
  EXPECT_NE(message.find("io_uring"), std::string::npos) << message;
  EXPECT_NE(message.find("seccomp"), std::string::npos) << message;
}

}  // namespace
}  // namespace ringmta::io
