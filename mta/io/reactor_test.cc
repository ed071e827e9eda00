// Ring operations, linked timeouts, timers, cancellation and file I/O on a
// real io_uring.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <string>

#include <gtest/gtest.h>

#include "mta/io/cancel_scope.h"
#include "mta/io/frame_pool.h"
#include "mta/io/operation.h"
#include "mta/io/reactor.h"
#include "mta/io/task.h"
#include "mta/io/test_util.h"

namespace ringmta::io {
namespace {

class ReactorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto reactor = Reactor::Create();
    ASSERT_TRUE(reactor.ok()) << reactor.status();
    reactor_ = std::move(*reactor);
  }
  void TearDown() override {
    ASSERT_TRUE(RunUntil(*reactor_, [&] { return tasks_.empty(); }));
    EXPECT_EQ(reactor_->pending_operations(), 0);
  }
  std::unique_ptr<Reactor> reactor_;
  TaskGroup tasks_;
};

Task<void> NopLoop(Reactor& reactor, int count, int* completed) {
  for (int i = 0; i < count; ++i) {
    int32_t result = co_await Nop(reactor);
    if (result == 0) ++*completed;
  }
}

TEST_F(ReactorTest, NopOperationsComplete) {
  int completed = 0;
  Spawn(*reactor_, tasks_, NopLoop(*reactor_, 100, &completed));
  ASSERT_TRUE(RunUntil(*reactor_, [&] { return tasks_.empty(); }));
  EXPECT_EQ(completed, 100);
}

Task<int> Add(int a, int b) { co_return a + b; }
Task<void> AddTwice(int* out) { *out = co_await Add(co_await Add(1, 2), 3); }

TEST_F(ReactorTest, TasksReturnValuesThroughNestedAwaits) {
  int out = 0;
  Spawn(*reactor_, tasks_, AddTwice(&out));
  ASSERT_TRUE(RunUntil(*reactor_, [&] { return tasks_.empty(); }));
  EXPECT_EQ(out, 6);
}

TEST_F(ReactorTest, SpawnedTaskDoesNotRunInsideSpawn) {
  int completed = 0;
  Spawn(*reactor_, tasks_, NopLoop(*reactor_, 1, &completed));
  EXPECT_EQ(tasks_.live(), 1);
  EXPECT_EQ(completed, 0);
}

TEST_F(ReactorTest, SteadyStateOperationsAllocateNothing) {
  int completed = 0;
  Spawn(*reactor_, tasks_, NopLoop(*reactor_, 10, &completed));
  ASSERT_TRUE(RunUntil(*reactor_, [&] { return tasks_.empty(); }));
  FramePoolStats before = ThisThreadFramePoolStats();
  Spawn(*reactor_, tasks_, NopLoop(*reactor_, 1000, &completed));
  ASSERT_TRUE(RunUntil(*reactor_, [&] { return tasks_.empty(); }));
  FramePoolStats after = ThisThreadFramePoolStats();
  // 1000 operations, two frames (the task and its detached runner).
  EXPECT_EQ(after.allocations - before.allocations, 2u);
#if !defined(__SANITIZE_ADDRESS__)
  EXPECT_EQ(after.system_allocations, before.system_allocations);
#endif
}

Task<void> SleepFor(Reactor& reactor, CancelScope* scope, int64_t ms, int32_t* result,
                    int64_t* woke_ms) {
  *result = co_await Sleep(reactor, scope, ms);
  *woke_ms = reactor.now_ms();
}

TEST_F(ReactorTest, SleepFiresNoEarlierThanItsDelay) {
  int32_t result = 1;
  int64_t woke_ms = 0;
  int64_t start_ms = reactor_->now_ms();
  Spawn(*reactor_, tasks_, SleepFor(*reactor_, nullptr, 30, &result, &woke_ms));
  ASSERT_TRUE(RunUntil(*reactor_, [&] { return tasks_.empty(); }));
  EXPECT_EQ(result, 0);
  EXPECT_GE(woke_ms - start_ms, 30);
}

TEST_F(ReactorTest, CancelledSleepResumesWithECANCELED) {
  CancelScope scope;
  int32_t result = 1;
  int64_t woke_ms = 0;
  Spawn(*reactor_, tasks_, SleepFor(*reactor_, &scope, 3'600'000, &result, &woke_ms));
  reactor_->RunOnce(0);
  EXPECT_TRUE(scope.has_pending());
  scope.Cancel();
  ASSERT_TRUE(RunUntil(*reactor_, [&] { return tasks_.empty(); }));
  EXPECT_EQ(result, -ECANCELED);
  EXPECT_EQ(reactor_->timers().size(), 0u);
}

Task<void> ReadPipe(Reactor& reactor, CancelScope* scope, int fd, int64_t timeout_ms,
                    int32_t* result) {
  char byte;
  *result = co_await MakeOperation(reactor, scope, timeout_ms, [&](io_uring_sqe* sqe) {
    io_uring_prep_read(sqe, fd, &byte, 1, 0);
  });
}

class PipeTest : public ReactorTest {
 protected:
  void SetUp() override {
    ReactorTest::SetUp();
    ASSERT_EQ(pipe(fds_), 0);
  }
  void TearDown() override {
    ReactorTest::TearDown();
    close(fds_[0]);
    close(fds_[1]);
  }
  int fds_[2];
};

TEST_F(PipeTest, LinkedTimeoutExpiresAsETIMEDOUT) {
  int32_t result = 1;
  Spawn(*reactor_, tasks_, ReadPipe(*reactor_, nullptr, fds_[0], 20, &result));
  ASSERT_TRUE(RunUntil(*reactor_, [&] { return tasks_.empty(); }));
  EXPECT_EQ(result, -ETIMEDOUT);
}

TEST_F(PipeTest, OperationThatCompletesInTimeReportsItsResult) {
  int32_t result = 0;
  Spawn(*reactor_, tasks_, ReadPipe(*reactor_, nullptr, fds_[0], 10'000, &result));
  reactor_->RunOnce(0);
  ASSERT_EQ(write(fds_[1], "x", 1), 1);
  ASSERT_TRUE(RunUntil(*reactor_, [&] { return tasks_.empty(); }));
  EXPECT_EQ(result, 1);
}

TEST_F(PipeTest, CancellingAPendingReadFreesItAndResumesWithECANCELED) {
  CancelScope scope;
  int32_t result = 1;
  Spawn(*reactor_, tasks_, ReadPipe(*reactor_, &scope, fds_[0], kNoTimeout, &result));
  reactor_->RunOnce(0);
  EXPECT_EQ(reactor_->pending_operations(), 1);
  scope.Cancel();
  ASSERT_TRUE(RunUntil(*reactor_, [&] { return tasks_.empty(); }));
  EXPECT_EQ(result, -ECANCELED);
  EXPECT_EQ(reactor_->pending_operations(), 0);
  EXPECT_FALSE(scope.has_pending());
}

TEST_F(PipeTest, OperationsUnderACancelledScopeFailAtOnce) {
  CancelScope scope;
  scope.Cancel();
  int32_t result = 1;
  Spawn(*reactor_, tasks_, ReadPipe(*reactor_, &scope, fds_[0], kNoTimeout, &result));
  ASSERT_TRUE(RunUntil(*reactor_, [&] { return tasks_.empty(); }));
  EXPECT_EQ(result, -ECANCELED);
}

TEST_F(ReactorTest, WakeFromAnotherThreadInterruptsAWait) {
  std::thread waker([&] {
    usleep(20'000);
    reactor_->Wake();
  });
  int64_t start_ms = MonotonicNowMs();
  reactor_->RunOnce(-1);  // Would block forever without the wake.
  waker.join();
  EXPECT_LT(MonotonicNowMs() - start_ms, 20'000);
}

Task<void> WriteSyncRead(Reactor& reactor, std::string path, std::string* read_back,
                         int32_t* sync_result) {
  int32_t fd = co_await OpenAt(reactor, AT_FDCWD, path.c_str(), O_CREAT | O_RDWR | O_CLOEXEC,
                               0600);
  if (fd < 0) co_return;
  int32_t allocated = co_await Fallocate(reactor, fd, 0, 0, 1 << 20);
  EXPECT_EQ(allocated, 0);
  std::string data = "segment bytes";
  int32_t written = co_await WriteAt(reactor, fd, data, 4096);
  EXPECT_EQ(written, static_cast<int32_t>(data.size()));
  *sync_result = co_await Fdatasync(reactor, fd);
  char buffer[64] = {};
  int32_t bytes = co_await ReadAt(reactor, fd, buffer, sizeof buffer, 4096);
  if (bytes > 0) read_back->assign(buffer, static_cast<size_t>(bytes));
  co_await Close(reactor, fd);
}

TEST_F(ReactorTest, FileWriteFdatasyncAndReadBack) {
  std::string dir = getenv("TEST_TMPDIR") ? getenv("TEST_TMPDIR") : "/tmp";
  std::string path = dir + "/reactor_test_file";
  std::string read_back;
  int32_t sync_result = 1;
  Spawn(*reactor_, tasks_, WriteSyncRead(*reactor_, path, &read_back, &sync_result));
  ASSERT_TRUE(RunUntil(*reactor_, [&] { return tasks_.empty(); }));
  EXPECT_EQ(sync_result, 0);
  // Preallocated space reads as zeros after the written bytes.
  EXPECT_EQ(read_back.substr(0, 13), "segment bytes");
  EXPECT_EQ(read_back.size(), 64u);
  struct stat info;
  ASSERT_EQ(stat(path.c_str(), &info), 0);
  EXPECT_EQ(info.st_size, 1 << 20);
  unlink(path.c_str());
}

}  // namespace
}  // namespace ringmta::io
