// The resolver against a scripted UDP server that controls *when* answers
// come: both answers of an AAAA+A pair in one burst, addresses asked right
// after an MX answer (c-ares closes its socket and opens a new one, usually
// under the same descriptor number), and a lost first datagram (only c-ares'
// retransmission, driven by our timer, can recover it). Each case would hang
// (RunUntil gives up) if a readiness, a timeout or an answer were dropped
// between c-ares and the waiting lookup.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "dns/resolver.h"
#include "mta/base/check.h"
#include "mta/io/task.h"
#include "mta/io/test_util.h"

namespace ringmta::dns {
namespace {

// Answers over UDP on 127.0.0.1: MX for any name -> "h.test" (pref 10),
// A -> 127.0.0.1, anything else NOERROR without records. Queries are held
// until `burst` have arrived, then answered back to back; the first
// `drop_first` datagrams are ignored.
class ScriptedDnsServer {
 public:
  ScriptedDnsServer(int burst, int drop_first) : burst_(burst), drop_first_(drop_first) {
    fd_ = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    CHECK(fd_ >= 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK(bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
    socklen_t length = sizeof address;
    CHECK(getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length) == 0);
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~ScriptedDnsServer() {
    stop_ = true;
    thread_.join();
    close(fd_);
  }
  ScriptedDnsServer(const ScriptedDnsServer&) = delete;
  ScriptedDnsServer& operator=(const ScriptedDnsServer&) = delete;

  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  int received() const { return received_; }
  int answered() const { return answered_; }

 private:
  struct Query {
    std::vector<uint8_t> bytes;
    sockaddr_in from;
  };

  static std::vector<uint8_t> AnswerTo(const std::vector<uint8_t>& query) {
    size_t end = 12;  // header, then the question's name, type and class
    while (end < query.size() && query[end] != 0) end += query[end] + 1;
    end += 5;
    CHECK(end <= query.size());
    uint16_t type = static_cast<uint16_t>(query[end - 4] << 8 | query[end - 3]);
    // The header and question only: the query's EDNS record is not echoed.
    std::vector<uint8_t> reply(query.begin(), query.begin() + static_cast<ptrdiff_t>(end));
    reply[2] = 0x81;  // QR, RD
    reply[3] = 0x80;  // RA, NOERROR
    for (int i = 6; i < 12; ++i) reply[i] = 0;
    std::vector<uint8_t> record = {0xc0, 0x0c, 0, 0, 0, 1, 0, 0, 0x01, 0x2c};  // name, class, TTL 300
    if (type == kTypeA) {
      record[3] = kTypeA;
      record.insert(record.end(), {0, 4, 127, 0, 0, 1});
    } else if (type == kTypeMx) {
      record[3] = kTypeMx;
      record.insert(record.end(), {0, 10, 0, 10, 1, 'h', 4, 't', 'e', 's', 't', 0});
    } else {
      return reply;
    }
    reply[7] = 1;  // ANCOUNT
    reply.insert(reply.end(), record.begin(), record.end());
    return reply;
  }

  void Serve() {
    std::vector<Query> held;
    while (!stop_) {
      pollfd readable{fd_, POLLIN, 0};
      if (poll(&readable, 1, 10) <= 0) continue;
      Query query;
      query.bytes.resize(1500);
      socklen_t length = sizeof query.from;
      ssize_t got = recvfrom(fd_, query.bytes.data(), query.bytes.size(), 0,
                             reinterpret_cast<sockaddr*>(&query.from), &length);
      if (got < 12) continue;
      query.bytes.resize(static_cast<size_t>(got));
      if (received_++ < drop_first_) continue;
      held.push_back(std::move(query));
      if (static_cast<int>(held.size()) < burst_) continue;
      for (const Query& q : held) {
        std::vector<uint8_t> answer = AnswerTo(q.bytes);
        ++answered_;  // before sending: the resolver may finish at once
        CHECK(sendto(fd_, answer.data(), answer.size(), 0,
                     reinterpret_cast<const sockaddr*>(&q.from), sizeof q.from) ==
              static_cast<ssize_t>(answer.size()));
      }
      held.clear();
    }
  }

  const int burst_;
  const int drop_first_;
  int fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> received_{0};
  std::atomic<int> answered_{0};
  std::thread thread_;
};

using Addresses = absl::StatusOr<std::vector<IpAddress>>;

io::Task<void> StoreAddresses(io::Task<Addresses> task, std::optional<Addresses>* out) {
  out->emplace(co_await std::move(task));
}

// MX first, then the first host's addresses at once, as delivery does.
io::Task<Addresses> AddressesOfFirstMx(Resolver& resolver, std::string domain) {
  absl::StatusOr<MxResult> mx = co_await resolver.ResolveMx(std::move(domain));
  if (!mx.ok()) co_return mx.status();
  co_return co_await resolver.ResolveAddresses(mx->hosts.front().name);
}

class AnswerTimingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto reactor = io::Reactor::Create();
    ASSERT_TRUE(reactor.ok()) << reactor.status();
    reactor_ = std::move(*reactor);
  }

  // A fresh resolver (so a fresh c-ares socket) per round; timeouts long
  // enough that only a lost datagram ever waits for one.
  std::unique_ptr<Resolver> MakeResolver(const ScriptedDnsServer& server, int64_t timeout_ms) {
    ResolverConfig config;
    config.servers = {server.address()};
    config.timeout_ms = timeout_ms;
    config.tries = 3;
    auto resolver = Resolver::Create(*reactor_, config);
    CHECK(resolver.ok());
    return *std::move(resolver);
  }

  // Runs the lookup to its end (a hung one fails here: RunUntil's bound is
  // a guard, not a timing assertion), then closes the resolver.
  Addresses Run(Resolver& resolver, io::Task<Addresses> lookup) {
    std::optional<Addresses> out;
    io::Spawn(*reactor_, tasks_, StoreAddresses(std::move(lookup), &out));
    bool done = io::RunUntil(*reactor_, [&] { return out.has_value(); });
    bool closed = false;
    io::Spawn(*reactor_, tasks_, [](Resolver& r, bool* c) -> io::Task<void> {
      co_await r.Close();
      *c = true;
    }(resolver, &closed));
    CHECK(io::RunUntil(*reactor_, [&] { return closed && tasks_.empty(); }));
    EXPECT_EQ(reactor_->pending_operations(), 0);
    if (!done) return absl::DeadlineExceededError("lookup never completed");
    return *std::move(out);
  }

  static void ExpectLoopback(const Addresses& addresses) {
    ASSERT_TRUE(addresses.ok()) << addresses.status();
    ASSERT_EQ(addresses->size(), 1u);
    EXPECT_EQ(addresses->front().ToString(), "127.0.0.1");
  }

  std::unique_ptr<io::Reactor> reactor_;
  io::TaskGroup tasks_;
};

// Rounds per case: each is a few loopback round trips, and the orders in
// which the two answers meet the poll vary between rounds.
constexpr int kRounds = 50;

TEST_F(AnswerTimingTest, AaaaAndAAnsweredInOneBurst) {
  for (int round = 0; round < kRounds; ++round) {
    ScriptedDnsServer server(/*burst=*/2, /*drop_first=*/0);
    std::unique_ptr<Resolver> resolver = MakeResolver(server, 5000);
    Addresses addresses = Run(*resolver, resolver->ResolveAddresses("h.test"));
    ExpectLoopback(addresses);
    EXPECT_EQ(server.answered(), 2) << "round " << round;
  }
}

TEST_F(AnswerTimingTest, AddressesRightAfterTheMxAnswer) {
  for (int round = 0; round < kRounds; ++round) {
    ScriptedDnsServer server(/*burst=*/1, /*drop_first=*/0);
    std::unique_ptr<Resolver> resolver = MakeResolver(server, 5000);
    Addresses addresses = Run(*resolver, AddressesOfFirstMx(*resolver, "d.test"));
    ExpectLoopback(addresses);
    EXPECT_EQ(server.answered(), 3) << "round " << round;  // MX, AAAA, A
  }
}

TEST_F(AnswerTimingTest, LostFirstDatagramIsRetransmittedAndAnswered) {
  // 100 ms first try: the retransmission comes from c-ares' timeout on our
  // timer wheel, the only thing that can notice the loss.
  ScriptedDnsServer server(/*burst=*/1, /*drop_first=*/1);
  std::unique_ptr<Resolver> resolver = MakeResolver(server, 100);
  Addresses addresses = Run(*resolver, AddressesOfFirstMx(*resolver, "d.test"));
  ExpectLoopback(addresses);
  // Three questions, so a fourth datagram is a retransmission (on a slow
  // machine AAAA or A may be sent again too: 100 ms is their first try).
  EXPECT_GE(server.received(), 4);
}

}  // namespace
}  // namespace ringmta::dns
