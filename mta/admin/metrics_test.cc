#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <map>
#include <string>
#include <thread>

#include "gtest/gtest.h"
#include "mta/admin/http_metrics_server.h"
#include "mta/admin/metrics_exposition.h"
#include "mta/base/histogram.h"
#include "mta/base/shard_stats.h"

namespace ringmta::admin {
namespace {

// "name{labels}" or "name" -> value, for every sample line of a page.
std::map<std::string, double> Samples(const std::string& page) {
  std::map<std::string, double> samples;
  size_t start = 0;
  while (start < page.size()) {
    size_t end = page.find('\n', start);
    std::string line = page.substr(start, end - start);
    start = end + 1;
    if (line.empty() || line[0] == '#') continue;
    size_t space = line.rfind(' ');
    samples[line.substr(0, space)] = std::stod(line.substr(space + 1));
  }
  return samples;
}

TEST(HistogramTest, ValueOnABoundGoesInThatBucketAsPrometheusLeMeans) {
  static constexpr int64_t kBounds[] = {10, 20, 30};
  Histogram histogram{HistogramBounds(kBounds)};
  histogram.Observe(10);
  histogram.Observe(11);
  histogram.Observe(30);
  histogram.Observe(31);
  histogram.Observe(-5);  // a clock step: counted as 0
  EXPECT_EQ(histogram.bucket_count(0), 2u);  // -5 (as 0) and 10
  EXPECT_EQ(histogram.bucket_count(1), 1u);  // 11
  EXPECT_EQ(histogram.bucket_count(2), 1u);  // 30
  EXPECT_EQ(histogram.bucket_count(3), 1u);  // 31: +Inf
  EXPECT_EQ(histogram.sum_ns(), 10u + 11 + 30 + 31);
}

TEST(ExpositionTest, EveryFamilyHasHelpAndTypeAndShardsAreSummed) {
  ShardStats a, b;
  a.Count(Counter::kMessagesReceived, 3);
  b.Count(Counter::kMessagesReceived, 4);
  a.Count(Counter::kQueueFdatasync);
  a.Set(Gauge::kQueueMessages, 5);
  b.Set(Gauge::kQueueMessages, 6);
  MetricsExposition exposition({&a, &b}, 20);
  std::string page = exposition.Render();
  std::map<std::string, double> samples = Samples(page);
  EXPECT_EQ(samples["ringmta_messages_received_total"], 7);
  EXPECT_EQ(samples["ringmta_queue_fdatasync_total"], 1);
  EXPECT_EQ(samples["ringmta_queue_messages"], 11);
  for (const char* family :
       {"ringmta_messages_received_total", "ringmta_queue_fdatasync_total",
        "ringmta_recipients_delivered_total", "ringmta_connections_in", "ringmta_queue_bytes",
        "ringmta_accept_to_ack_seconds", "ringmta_fdatasync_seconds",
        "ringmta_queue_time_seconds", "ringmta_delivery_seconds",
        "ringmta_destination_recipients_delivered_total"}) {
    EXPECT_NE(page.find(std::string("# HELP ") + family + " "), std::string::npos) << family;
    EXPECT_NE(page.find(std::string("# TYPE ") + family + " "), std::string::npos) << family;
  }
  EXPECT_EQ(page.back(), '\n');
}

TEST(ExpositionTest, HistogramBucketsAreCumulativeAndInSeconds) {
  ShardStats a, b;
  a.Observe(Latency::kFdatasync, kMs / 2);  // 0.5 ms
  b.Observe(Latency::kFdatasync, 3 * kMs);  // 3 ms
  b.Observe(Latency::kFdatasync, 20 * kSecond);  // beyond every bound
  std::map<std::string, double> samples = Samples(MetricsExposition({&a, &b}, 0).Render());
  EXPECT_EQ(samples["ringmta_fdatasync_seconds_bucket{le=\"0.0001\"}"], 0);
  EXPECT_EQ(samples["ringmta_fdatasync_seconds_bucket{le=\"0.0005\"}"], 1);
  EXPECT_EQ(samples["ringmta_fdatasync_seconds_bucket{le=\"0.005\"}"], 2);
  EXPECT_EQ(samples["ringmta_fdatasync_seconds_bucket{le=\"10\"}"], 2);
  EXPECT_EQ(samples["ringmta_fdatasync_seconds_bucket{le=\"+Inf\"}"], 3);
  EXPECT_EQ(samples["ringmta_fdatasync_seconds_count"], 3);
  EXPECT_NEAR(samples["ringmta_fdatasync_seconds_sum"], 20.0035, 1e-9);
}

TEST(DestinationTableTest, KeepsAFixedNumberOfSlotsAndCountsTheRestAsOther) {
  ShardStats stats;
  for (size_t i = 0; i < limits::kMetricsDestinationSlots + 10; ++i) {
    stats.destinations().For("route" + std::to_string(i)).delivered.Add();
  }
  stats.destinations().For("route0").delivered.Add();  // an existing slot
  const DestinationTable& table = stats.destinations();
  EXPECT_EQ(table.published(), limits::kMetricsDestinationSlots);
  EXPECT_EQ(table.key(0), "route0");
  EXPECT_EQ(table.counters(0).delivered.Read(), 2u);
  EXPECT_EQ(table.other().delivered.Read(), 10u);
}

TEST(DestinationTableTest, CutsLongKeys) {
  ShardStats stats;
  std::string long_key(1000, 'x');
  stats.destinations().For(long_key).bounced.Add();
  stats.destinations().For(long_key).bounced.Add();
  EXPECT_EQ(stats.destinations().published(), 1u);
  EXPECT_EQ(stats.destinations().key(0).size(), DestinationTable::kKeyBytesMax);
}

TEST(ExpositionTest, ShowsTheBusiestDestinationsAndSumsTheRestAsOther) {
  ShardStats a, b;
  for (int i = 0; i < 5; ++i) a.destinations().For("big").delivered.Add();
  for (int i = 0; i < 3; ++i) b.destinations().For("middle").deferred.Add();
  b.destinations().For("big").bounced.Add();  // the same route seen on two shards
  a.destinations().For("small").delivered.Add();
  b.destinations().For("tiny").delivered.Add();
  MetricsExposition exposition({&a, &b}, 2);
  std::map<std::string, double> samples = Samples(exposition.Render());
  const std::string delivered = "ringmta_destination_recipients_delivered_total";
  EXPECT_EQ(samples[delivered + "{destination=\"big\"}"], 5);
  EXPECT_EQ(samples["ringmta_destination_recipients_bounced_total{destination=\"big\"}"], 1);
  EXPECT_EQ(samples["ringmta_destination_recipients_deferred_total{destination=\"middle\"}"], 3);
  EXPECT_EQ(samples[delivered + "{destination=\"other\"}"], 2);  // small + tiny
  EXPECT_EQ(samples.count(delivered + "{destination=\"small\"}"), 0u);

  // Shown series stay (monotonic counters): a newly busy route joins "other".
  for (int i = 0; i < 50; ++i) a.destinations().For("small").delivered.Add();
  samples = Samples(exposition.Render());
  EXPECT_EQ(samples.count(delivered + "{destination=\"small\"}"), 0u);
  EXPECT_EQ(samples[delivered + "{destination=\"other\"}"], 52);
  EXPECT_EQ(samples[delivered + "{destination=\"big\"}"], 5);
}

TEST(ExpositionTest, LabelValuesAreEscaped) {
  EXPECT_EQ(EscapeLabelValue("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
  EXPECT_EQ(EscapeLabelValue("caf\xc3\xa9\x01"), "caf???");
}

// One writer per shard, one reader: what the design promises is that a
// reader never blocks a writer and sees counters only grow. Run under ASan
// and (if available) TSan: everything shared is an atomic.
TEST(ExpositionTest, ConcurrentScrapesSeeMonotonicCountersWhileShardsWrite) {
  constexpr int kWrites = 200'000;
  ShardStats a, b;
  std::atomic<bool> done{false};
  auto writer = [&](ShardStats* stats, const char* route) {
    for (int i = 0; i < kWrites; ++i) {
      stats->Count(Counter::kMessagesReceived);
      stats->Observe(Latency::kAcceptToAck, i);
      stats->destinations().For(route + std::to_string(i % 50)).delivered.Add();
    }
  };
  std::thread first(writer, &a, "a");
  std::thread second(writer, &b, "b");
  double last_received = 0, last_count = 0;
  MetricsExposition exposition({&a, &b}, 10);
  std::thread reader([&] {
    while (!done.load()) {
      std::map<std::string, double> samples = Samples(exposition.Render());
      double received = samples["ringmta_messages_received_total"];
      double count = samples["ringmta_accept_to_ack_seconds_count"];
      EXPECT_GE(received, last_received);
      EXPECT_GE(count, last_count);
      last_received = received;
      last_count = count;
    }
  });
  first.join();
  second.join();
  done = true;
  reader.join();
  std::map<std::string, double> samples = Samples(exposition.Render());
  EXPECT_EQ(samples["ringmta_messages_received_total"], 2 * kWrites);
  EXPECT_EQ(samples["ringmta_accept_to_ack_seconds_count"], 2 * kWrites);
  double delivered = 0;
  for (const auto& [name, value] : samples) {
    if (name.rfind("ringmta_destination_recipients_delivered_total{", 0) == 0) delivered += value;
  }
  EXPECT_EQ(delivered, 2 * kWrites);
}

TEST(CurrentShardStatsTest, IsPerThreadAndFallsBackToASpare) {
  ShardStats mine;
  SetCurrentShardStats(&mine);
  CurrentShardStats().Count(Counter::kConnectionsIn);
  std::thread other([] { CurrentShardStats().Count(Counter::kConnectionsIn, 5); });
  other.join();
  SetCurrentShardStats(nullptr);
  CurrentShardStats().Count(Counter::kConnectionsIn, 7);
  EXPECT_EQ(mine.Read(Counter::kConnectionsIn), 1u);
}

// ---- HTTP ----

std::string Render() { return "page\n"; }

TEST(HttpAnswerTest, ServesMetricsOnGetAndHead) {
  HttpResponse response = AnswerHttpRequest("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", Render);
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, "page\n");
  EXPECT_EQ(AnswerHttpRequest("GET /metrics?name[]=x HTTP/1.0\r\n\r\n", Render).status, 200);
  std::string head = FormatHttpResponse(AnswerHttpRequest("HEAD /metrics HTTP/1.1\r\n\r\n", Render),
                                        /*head_only=*/true);
  EXPECT_NE(head.find("Content-Length: 5\r\n"), std::string::npos);
  EXPECT_EQ(head.find("page"), std::string::npos);
}

TEST(HttpAnswerTest, OtherPathsMethodsAndGarbageGetErrors) {
  EXPECT_EQ(AnswerHttpRequest("GET / HTTP/1.1\r\n\r\n", Render).status, 404);
  EXPECT_EQ(AnswerHttpRequest("GET /metricsx HTTP/1.1\r\n\r\n", Render).status, 404);
  EXPECT_EQ(AnswerHttpRequest("POST /metrics HTTP/1.1\r\n\r\n", Render).status, 405);
  EXPECT_NE(FormatHttpResponse(AnswerHttpRequest("PUT /metrics HTTP/1.1\r\n\r\n", Render), false)
                .find("Allow: GET, HEAD\r\n"),
            std::string::npos);
  EXPECT_EQ(AnswerHttpRequest("GET /metrics\r\n\r\n", Render).status, 400);
  EXPECT_EQ(AnswerHttpRequest("get /metrics HTTP/1.1\r\n\r\n", Render).status, 400);
  EXPECT_EQ(AnswerHttpRequest("GET /metrics FTP/1.0\r\n\r\n", Render).status, 400);
  EXPECT_EQ(AnswerHttpRequest("GET  /metrics HTTP/1.1\r\n\r\n", Render).status, 400);
  EXPECT_EQ(AnswerHttpRequest(std::string("\0\xff\r\n\r\n", 5), Render).status, 400);
  EXPECT_EQ(AnswerHttpRequest("", Render).status, 400);
}

TEST(LoopbackTest, RecognisesLoopbackAddresses) {
  EXPECT_TRUE(IsLoopback(*io::SocketAddress::Parse("127.0.0.1:9100")));
  EXPECT_TRUE(IsLoopback(*io::SocketAddress::Parse("127.3.2.1:9100")));
  EXPECT_TRUE(IsLoopback(*io::SocketAddress::Parse("[::1]:9100")));
  EXPECT_FALSE(IsLoopback(*io::SocketAddress::Parse("0.0.0.0:9100")));
  EXPECT_FALSE(IsLoopback(*io::SocketAddress::Parse("10.0.0.1:9100")));
  EXPECT_FALSE(IsLoopback(*io::SocketAddress::Parse("[::]:9100")));
}

// Sends `request` to the server and returns all it answers.
std::string Exchange(const io::SocketAddress& address, const std::string& request) {
  int fd = socket(address.family(), SOCK_STREAM | SOCK_CLOEXEC, 0);
  EXPECT_EQ(connect(fd, address.get(), address.length), 0);
  size_t sent = 0;
  while (sent < request.size()) {
    ssize_t n = send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += static_cast<size_t>(n);
  }
  std::string answer;
  char buffer[4096];
  for (;;) {
    ssize_t n = recv(fd, buffer, sizeof buffer, 0);
    if (n <= 0) break;
    answer.append(buffer, static_cast<size_t>(n));
  }
  close(fd);
  return answer;
}

TEST(HttpMetricsServerTest, AnswersOverTcpAndSurvivesAnOversizedRequest) {
  absl::StatusOr<std::unique_ptr<HttpMetricsServer>> server =
      HttpMetricsServer::Start(*io::SocketAddress::Parse("127.0.0.1:0"), Render);
  ASSERT_TRUE(server.ok()) << server.status();
  const io::SocketAddress& address = (*server)->bound();
  std::string big = "GET /metrics HTTP/1.1\r\nX: " + std::string(limits::kMetricsRequestBytesMax, 'a');
  EXPECT_EQ(Exchange(address, big + "\r\n\r\n").rfind("HTTP/1.1 431 ", 0), 0u);
  std::string answer = Exchange(address, "GET /metrics HTTP/1.1\r\n\r\n");
  EXPECT_EQ(answer.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << answer;
  EXPECT_NE(answer.find("\r\n\r\npage\n"), std::string::npos);
  EXPECT_EQ((*server)->requests_served(), 2u);
}

TEST(HttpMetricsServerTest, AnAddressInUseIsAnError) {
  absl::StatusOr<std::unique_ptr<HttpMetricsServer>> first =
      HttpMetricsServer::Start(*io::SocketAddress::Parse("127.0.0.1:0"), Render);
  ASSERT_TRUE(first.ok());
  EXPECT_FALSE(HttpMetricsServer::Start((*first)->bound(), Render).ok());
}

}  // namespace
}  // namespace ringmta::admin
