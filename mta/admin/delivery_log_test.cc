#include "mta/admin/delivery_log.h"

#include <stdio.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "gtest/gtest.h"
#include "mta/io/reactor.h"
#include "mta/io/test_util.h"

namespace ringmta::admin {
namespace {

constexpr int64_t kNowMs = 1'700'000'000'123;  // 2023-11-14T22:13:20.123Z

std::string ReadFile(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  std::ostringstream text;
  text << file.rdbuf();
  return text.str();
}

size_t Lines(const std::string& text) { return static_cast<size_t>(std::count(text.begin(), text.end(), '\n')); }

TEST(DeliveryLogFormatTest, ReceivedLineHasEveryField) {
  ReceivedEvent event{0x0102030405060708, "a@example.com", 2, 1234, "192.0.2.1", "client.test",
                      "", "TLSv1.3 TLS_AES_128_GCM_SHA256"};
  EXPECT_EQ(FormatReceived(event, kNowMs),
            "{\"ts\":\"2023-11-14T22:13:20.123Z\",\"event\":\"received\",\"id\":\"0102030405060708\","
            "\"sender\":\"a@example.com\",\"recipients\":2,\"size\":1234,\"client\":\"192.0.2.1\","
            "\"helo\":\"client.test\",\"auth\":null,\"tls\":\"TLSv1.3 TLS_AES_128_GCM_SHA256\"}\n");
}

TEST(DeliveryLogFormatTest, OutcomeLineEscapesPeerText) {
  OutcomeEvent event;
  event.kind = OutcomeEventKind::kBounced;
  event.message_id = 1;
  event.recipient = "b@example.org";
  event.destination = "smarthost:relay.test:25";
  event.remote_host = "relay.test[192.0.2.2]";
  event.tls = "TLSv1.2 ECDHE-ECDSA-AES128-GCM-SHA256";
  event.reply_code = 550;
  event.enhanced_status = "5.1.1";
  event.response = "no such user\r\n\"x\" \xff";
  event.attempt = 2;
  event.queue_time_ms = 70;
  event.delivery_time_ms = 5;
  std::string line = FormatOutcome(event, kNowMs);
  EXPECT_NE(line.find("\"event\":\"bounced\""), std::string::npos);
  EXPECT_NE(line.find("\"code\":550,\"status\":\"5.1.1\""), std::string::npos);
  EXPECT_NE(line.find("\"tls\":\"TLSv1.2 ECDHE-ECDSA-AES128-GCM-SHA256\""), std::string::npos)
      << line;
  EXPECT_NE(line.find(R"("response":"no such user\r\n\"x\" \ufffd")"), std::string::npos) << line;
  EXPECT_NE(line.find("\"attempt\":2,\"queue_time_ms\":70,\"delivery_time_ms\":5}"),
            std::string::npos);
  EXPECT_EQ(line.find("retry_at"), std::string::npos);
  EXPECT_EQ(Lines(line), 1u);
}

TEST(DeliveryLogFormatTest, DeferredWithoutAnAttemptHasNullsAndRetryTime) {
  OutcomeEvent event;
  event.kind = OutcomeEventKind::kDeferred;
  event.recipient = "c@example.org";
  event.response = "dns: timeout";
  event.enhanced_status = "4.4.3";
  event.retry_at_ms = kNowMs;
  std::string line = FormatOutcome(event, kNowMs);
  EXPECT_NE(line.find("\"destination\":null,\"remote_host\":null,\"tls\":null,\"code\":null"), std::string::npos);
  EXPECT_NE(line.find("\"delivery_time_ms\":null"), std::string::npos);
  EXPECT_NE(line.find("\"retry_at\":\"2023-11-14T22:13:20.123Z\",\"uncertain\":false"),
            std::string::npos);
}

class ShardDeliveryLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    directory_ = ::testing::TempDir() + "/delivery_log_test_" + std::to_string(getpid()) + "_" +
                 ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::create_directories(directory_);
    path_ = directory_ + "/delivery.log";
    reactor_ = *io::Reactor::Create();
  }
  void TearDown() override { std::filesystem::remove_all(directory_); }

  ReceivedEvent Event() { return ReceivedEvent{7, "a@example.com", 1, 10, "127.0.0.1", "h", "", ""}; }

  std::string directory_;
  std::string path_;
  std::unique_ptr<io::Reactor> reactor_;
  ShardStats stats_;
};

TEST_F(ShardDeliveryLogTest, LinesOfOneTurnAreWrittenTogether) {
  DeliveryLog log(path_);
  ShardDeliveryLog shard_log(log, *reactor_, stats_, 1 << 20);
  ASSERT_TRUE(shard_log.Open().ok());
  for (int i = 0; i < 3; ++i) shard_log.OnReceived(Event());
  EXPECT_EQ(ReadFile(path_), "");  // nothing written inside the turn
  ASSERT_TRUE(io::RunUntil(*reactor_, [&] { return Lines(ReadFile(path_)) == 3; }));
  shard_log.Drain();
  EXPECT_EQ(stats_.Read(Counter::kDeliveryLogLinesDropped), 0u);
}

TEST_F(ShardDeliveryLogTest, ReopenAfterRenameWritesANewFile) {
  DeliveryLog log(path_);
  ShardDeliveryLog shard_log(log, *reactor_, stats_, 1 << 20);
  ASSERT_TRUE(shard_log.Open().ok());
  shard_log.OnReceived(Event());
  shard_log.Drain();
  ASSERT_EQ(rename(path_.c_str(), (path_ + ".1").c_str()), 0);
  log.Reopen();
  shard_log.OnReceived(Event());
  shard_log.OnReceived(Event());
  shard_log.Drain();
  EXPECT_EQ(Lines(ReadFile(path_ + ".1")), 1u);
  EXPECT_EQ(Lines(ReadFile(path_)), 2u);
}

TEST_F(ShardDeliveryLogTest, AFailedReopenKeepsWritingToTheOldFileAndCountsIt) {
  DeliveryLog log(path_);
  ShardDeliveryLog shard_log(log, *reactor_, stats_, 1 << 20);
  ASSERT_TRUE(shard_log.Open().ok());
  ASSERT_EQ(rename(path_.c_str(), (path_ + ".1").c_str()), 0);
  std::filesystem::create_directory(path_);  // the path cannot be opened as a file now
  log.Reopen();
  shard_log.OnReceived(Event());
  shard_log.Drain();
  EXPECT_EQ(stats_.Read(Counter::kDeliveryLogWriteErrors), 1u);
  EXPECT_EQ(Lines(ReadFile(path_ + ".1")), 1u);
}

TEST_F(ShardDeliveryLogTest, AFullBufferDropsLinesAndCountsThem) {
  DeliveryLog log(path_);
  std::string one = FormatReceived(Event(), kNowMs);
  // Room for two lines: the third and fourth of this turn are dropped.
  ShardDeliveryLog shard_log(log, *reactor_, stats_, 2 * one.size() + one.size() / 2);
  ASSERT_TRUE(shard_log.Open().ok());
  for (int i = 0; i < 4; ++i) shard_log.OnReceived(Event());
  EXPECT_EQ(stats_.Read(Counter::kDeliveryLogLinesDropped), 2u);
  shard_log.Drain();
  EXPECT_EQ(Lines(ReadFile(path_)), 2u);
  // Once written, the buffer has room again.
  shard_log.OnReceived(Event());
  shard_log.Drain();
  EXPECT_EQ(Lines(ReadFile(path_)), 3u);
}

TEST_F(ShardDeliveryLogTest, OpenFailureNamesThePath) {
  DeliveryLog log(directory_ + "/missing/delivery.log");
  ShardDeliveryLog shard_log(log, *reactor_, stats_, 1 << 20);
  absl::Status opened = shard_log.Open();
  EXPECT_FALSE(opened.ok());
  EXPECT_NE(opened.message().find("missing/delivery.log"), std::string_view::npos);
}

}  // namespace
}  // namespace ringmta::admin
