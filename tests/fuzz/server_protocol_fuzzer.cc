// libFuzzer target: the server state machine fed an arbitrary byte stream.
// The first bytes pick config, commit outcomes and a chunk size. Checks: the
// output is well-formed replies within RFC 5321 bounds, a sink is never
// misused, and (without STARTTLS) the output does not depend on chunking.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "mta/base/check.h"
#include "mta/smtp/server_protocol.h"

using namespace ringmta::smtp;

namespace {

class CheckingSink : public MessageSink {
 public:
  absl::Status Begin(const Envelope& envelope) override {
    CHECK(!open_);
    CHECK(!envelope.recipients.empty());
    open_ = ++calls_ % 7 != 0;  // now and then the queue is full
    bytes_ = 0;
    return open_ ? absl::OkStatus() : absl::ResourceExhaustedError("full");
  }
  absl::Status Append(std::string_view body) override {
    CHECK(open_);
    bytes_ += body.size();
    CHECK(bytes_ <= limit_);
    return absl::OkStatus();
  }
  void Abort() override {
    CHECK(open_);
    open_ = false;
  }
  void Committed() {
    CHECK(open_);
    open_ = false;
  }
  bool open() const { return open_; }
  uint64_t limit_ = 0;

 private:
  bool open_ = false;
  int calls_ = 0;
  uint64_t bytes_ = 0;
};

class Policy : public RecipientPolicy {
 public:
  absl::Status CheckRecipient(const Envelope&, const Recipient& r) override {
    return r.mailbox.size() % 5 == 0 ? absl::PermissionDeniedError("relay") : absl::OkStatus();
  }
};

void CheckReplies(std::string_view output) {
  while (!output.empty()) {
    const size_t end = output.find("\r\n");
    CHECK(end != std::string_view::npos);
    CHECK(end + 2 <= 512);
    const std::string_view line = output.substr(0, end);
    CHECK(line.size() >= 4);
    CHECK(line[0] >= '2' && line[0] <= '5');
    CHECK(line[3] == ' ' || line[3] == '-');
    CHECK(line.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos);
    output.remove_prefix(end + 2);
  }
}

struct Run {
  std::string output;
  bool saw_starttls = false;
};

Run Play(const ServerConfig& config, std::string_view input, size_t chunk, uint8_t outcomes) {
  CheckingSink sink;
  sink.limit_ = config.message_bytes_max;
  Policy policy;
  Run run;
  {
    ServerProtocol server(config, &sink, PeerInfo{"192.0.2.1", false}, &policy);
    server.Start();
    std::string pending;
    size_t at = 0;
    int commits = 0;
    while (!server.closed()) {
      const size_t used = server.Feed(pending);
      CHECK(used <= pending.size());
      pending.erase(0, used);
      run.output += server.output();
      server.output().clear();
      const Action action = server.TakeAction();
      if (action == Action::kCommit) {
        sink.Committed();
        const bool fail = (outcomes >> (commits++ % 8)) & 1;
        server.OnCommitted(fail ? absl::UnavailableError("io") : absl::OkStatus());
        continue;
      }
      if (action == Action::kStartTls) {
        run.saw_starttls = true;
        server.OnTlsEstablished();
      }
      if (!pending.empty() && used > 0) continue;
      if (at >= input.size()) break;
      pending.append(input.substr(at, chunk));
      at += chunk;
    }
    if (outcomes & 1) server.OnTimeout();
    run.output += server.output();
  }  // the destructor aborts an open message
  CHECK(!sink.open());
  CheckReplies(run.output);
  return run;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 3) return 0;
  ServerConfig config;
  config.hostname = "mx.example";
  config.message_bytes_max = 64 + data[0] * 16;
  config.recipients_max = 1 + (data[0] & 3);
  config.errors_max = 5 + (data[1] & 15);
  config.transactions_max = 1 + ((data[0] >> 4) & 3);
  config.text_line_bytes_max = 40 + (data[1] & 0x3f);
  config.advertise_starttls = data[1] & 0x40;
  config.auth_enabled = data[1] & 0x80;
  config.bare_line_policy = (data[0] & 4) ? BareLinePolicy::kNormalize : BareLinePolicy::kReject;
  const uint8_t outcomes = data[2];
  const std::string_view input(reinterpret_cast<const char*>(data + 3), size - 3);

  const Run whole = Play(config, input, input.size() + 1, outcomes);
  const Run split = Play(config, input, 1 + (outcomes & 7), outcomes);
  // STARTTLS discards what was pipelined behind it, which depends on chunking.
  if (!whole.saw_starttls && !split.saw_starttls) CHECK(whole.output == split.output);
  return 0;
}
