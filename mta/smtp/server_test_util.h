// Test support for the server state machine tests: a fake MessageSink, a
// driver that plays a script the way the I/O layer would (re-feeding,
// committing), and helpers to compare reply codes. Test-only.
#ifndef RINGMTA_MTA_SMTP_SERVER_TEST_UTIL_H_
#define RINGMTA_MTA_SMTP_SERVER_TEST_UTIL_H_

#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "mta/smtp/server_protocol.h"

namespace ringmta::smtp::test_util {

class FakeSink : public MessageSink {
 public:
  absl::Status Begin(const Envelope& envelope) override {
    EXPECT_FALSE(open) << "Begin while a message is open";
    ++begins;
    this->envelope = envelope;
    body.clear();
    if (!begin_status.ok()) return begin_status;
    open = true;
    return absl::OkStatus();
  }
  absl::Status Append(std::string_view bytes) override {
    EXPECT_TRUE(open) << "Append outside a message";
    body.append(bytes.data(), bytes.size());
    return append_status;
  }
  void Abort() override {
    EXPECT_TRUE(open) << "Abort outside a message";
    open = false;
    ++aborts;
  }

  absl::Status begin_status;
  absl::Status append_status;
  int begins = 0;
  int aborts = 0;
  bool open = false;
  Envelope envelope;
  std::string body;
};

struct Result {
  std::string output;
  std::vector<std::string> bodies;  // committed messages
  std::vector<Envelope> envelopes;
  bool closed = false;
  int aborts = 0;
};

inline ServerConfig TestConfig() {
  ServerConfig config;
  config.hostname = "mx.example";
  config.message_bytes_max = 1000;
  return config;
}

// Plays `input` to a server in chunks of `chunk` bytes, as the I/O layer
// would: re-feeding unconsumed bytes, committing on kCommit.
inline Result Play(std::string_view input, size_t chunk, const ServerConfig& config = TestConfig(),
           absl::Status commit_status = absl::OkStatus(), FakeSink* sink = nullptr) {
  FakeSink local_sink;
  if (sink == nullptr) sink = &local_sink;
  ServerProtocol server(config, sink, PeerInfo{"192.0.2.1", false});
  server.Start();
  Result result;
  std::string pending;
  size_t at = 0;
  while (true) {
    const size_t used = server.Feed(pending);
    pending.erase(0, used);
    result.output += server.output();
    server.output().clear();
    const Action action = server.TakeAction();
    if (action == Action::kClose) break;
    if (action == Action::kCommit) {
      EXPECT_TRUE(sink->open);
      sink->open = false;
      result.bodies.push_back(sink->body);
      result.envelopes.push_back(sink->envelope);
      server.OnCommitted(commit_status);
      continue;
    }
    EXPECT_NE(action, Action::kStartTls);  // STARTTLS is tested step by step
    if (!pending.empty() && used > 0) continue;
    if (at >= input.size()) break;
    pending.append(input.substr(at, chunk));
    at += chunk;
  }
  result.output += server.output();
  result.closed = server.closed();
  result.aborts = sink->aborts;
  return result;
}

// The reply codes in order, one per reply ("250-" continuation lines skipped).
inline std::string Codes(std::string_view output) {
  std::string codes;
  while (!output.empty()) {
    const size_t end = output.find("\r\n");
    const std::string_view line = output.substr(0, end);
    if (line.size() < 4 || line[3] != '-') {
      if (!codes.empty()) codes += ' ';
      codes += std::string(line.substr(0, 3));
    }
    if (end == std::string_view::npos) break;
    output.remove_prefix(end + 2);
  }
  return codes;
}

// Runs the script whole and in every listed chunk size; all must agree.
inline Result RunAllChunkings(std::string_view input, const ServerConfig& config = TestConfig()) {
  const Result whole = Play(input, input.size() + 1, config);
  for (size_t chunk : {1, 2, 3, 5, 7, 13, 64}) {
    const Result split = Play(input, chunk, config);
    EXPECT_EQ(split.output, whole.output) << "chunk " << chunk;
    EXPECT_EQ(split.bodies, whole.bodies) << "chunk " << chunk;
    EXPECT_EQ(split.closed, whole.closed) << "chunk " << chunk;
  }
  return whole;
}

inline constexpr std::string_view kEnvelope =
    "EHLO client.example\r\nMAIL FROM:<a@x.example>\r\nRCPT TO:<b@y.example>\r\n";

inline std::string WithEnvelope(std::string_view rest) { return std::string(kEnvelope) + std::string(rest); }

}  // namespace ringmta::smtp::test_util

#endif  // RINGMTA_MTA_SMTP_SERVER_TEST_UTIL_H_
