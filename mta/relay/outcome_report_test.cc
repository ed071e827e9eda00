#include "mta/relay/outcome_report.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "mta/base/delivery_events.h"
#include "mta/base/shard_stats.h"

namespace ringmta::relay {
namespace {

struct Recorded {
  OutcomeEventKind kind;
  std::string destination;
  int64_t delivery_time_ms;
  int64_t queue_time_ms;
  uint32_t attempt;
};

class RecordingSink : public DeliveryEventSink {
 public:
  void OnReceived(const ReceivedEvent&) override {}
  void OnOutcome(const OutcomeEvent& event) override {
    events.push_back({event.kind, std::string(event.destination), event.delivery_time_ms,
                      event.queue_time_ms, event.attempt});
  }
  std::vector<Recorded> events;
};

class OutcomeReportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SetCurrentShardStats(&stats_);
    SetCurrentDeliveryEvents(&sink_);
    message_.id = 42;
    message_.received_ms = 1'000;
    recipient_.address = "b@example.org";
    job_.route_key = "smarthost:relay.test:25";
    job_.attempt_ms = 7;
  }
  void TearDown() override {
    SetCurrentShardStats(nullptr);
    SetCurrentDeliveryEvents(nullptr);
  }

  ShardStats stats_;
  RecordingSink sink_;
  queue::MessageEntry message_;
  queue::RecipientEntry recipient_;
  DeliveryJob job_;
};

TEST_F(OutcomeReportTest, DeliveredCountsAndRecordsQueueTime) {
  RecipientOutcome outcome{0, OutcomeKind::kDelivered, 250, "2.0.0", "ok", "relay.test", false};
  ReportOutcome(message_, recipient_, outcome, &job_, 1, 0, 3'500);
  EXPECT_EQ(stats_.Read(Counter::kRecipientsDelivered), 1u);
  EXPECT_EQ(stats_.Read(Latency::kQueueTime).sum_ns(), 2'500u * 1'000'000);
  ASSERT_EQ(sink_.events.size(), 1u);
  EXPECT_EQ(sink_.events[0].kind, OutcomeEventKind::kDelivered);
  EXPECT_EQ(sink_.events[0].destination, "smarthost:relay.test:25");
  EXPECT_EQ(sink_.events[0].delivery_time_ms, 7);
  EXPECT_EQ(sink_.events[0].queue_time_ms, 2'500);
}

TEST_F(OutcomeReportTest, DeferredIsNotAFinalOutcome) {
  RecipientOutcome outcome{0, OutcomeKind::kDeferred, 451, "4.2.0", "busy", "relay.test", false};
  ReportOutcome(message_, recipient_, outcome, &job_, 2, 9'000, 3'500);
  EXPECT_EQ(stats_.Read(Counter::kRecipientsDeferred), 1u);
  EXPECT_EQ(stats_.Read(Latency::kQueueTime).sum_ns(), 0u);
  ASSERT_EQ(sink_.events.size(), 1u);
  EXPECT_EQ(sink_.events[0].attempt, 2u);
}

TEST_F(OutcomeReportTest, ExpiryCountsAsExpiredNotBounced) {
  RecipientOutcome outcome{0, OutcomeKind::kFailed, 0, "4.4.7", "message expired", "", false,
                           /*expired=*/true};
  ReportOutcome(message_, recipient_, outcome, nullptr, 3, 0, 3'500);
  EXPECT_EQ(stats_.Read(Counter::kRecipientsExpired), 1u);
  EXPECT_EQ(stats_.Read(Counter::kRecipientsBounced), 0u);
  ASSERT_EQ(sink_.events.size(), 1u);
  EXPECT_EQ(sink_.events[0].kind, OutcomeEventKind::kExpired);
  EXPECT_EQ(sink_.events[0].destination, "");  // never routed
  EXPECT_EQ(sink_.events[0].delivery_time_ms, -1);
}

TEST_F(OutcomeReportTest, PermanentFailureIsBounced) {
  RecipientOutcome outcome{0, OutcomeKind::kFailed, 550, "5.1.1", "no such user", "relay.test",
                           false};
  ReportOutcome(message_, recipient_, outcome, &job_, 1, 0, 3'500);
  EXPECT_EQ(stats_.Read(Counter::kRecipientsBounced), 1u);
  EXPECT_EQ(stats_.Read(Counter::kRecipientsExpired), 0u);
  EXPECT_EQ(sink_.events[0].kind, OutcomeEventKind::kBounced);
}

TEST_F(OutcomeReportTest, WithoutADeliveryLogOnlyCounts) {
  SetCurrentDeliveryEvents(nullptr);
  RecipientOutcome outcome{0, OutcomeKind::kDelivered, 250, "2.0.0", "ok", "relay.test", false};
  ReportOutcome(message_, recipient_, outcome, &job_, 1, 0, 3'500);
  EXPECT_EQ(stats_.Read(Counter::kRecipientsDelivered), 1u);
  EXPECT_TRUE(sink_.events.empty());
}

}  // namespace
}  // namespace ringmta::relay
