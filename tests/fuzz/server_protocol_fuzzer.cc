// libFuzzer target: the server state machine fed an arbitrary byte stream.
// The first four bytes pick config, commit outcomes, a chunk size and the
// mode (TLS already active as on port 465, AUTH with a fake authenticator,
// the MSA role). Checks: the output is well-formed replies within RFC 5321
// bounds, a sink is never misused, only the right password authenticates,
// and (without STARTTLS) the output does not depend on chunking.
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
    // Only the fake authenticator's one account can ever be proved, and
    // the MSA role never begins a message without it (RFC 6409 §4.3).
    CHECK(envelope.auth_user.empty() || envelope.auth_user == "alice");
    CHECK(!auth_required_ || envelope.auth_user == "alice");
    CHECK(envelope.tls == !envelope.tls_version.empty());
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
  bool auth_required_ = false;

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

// Deterministic, so chunking cannot change the outcome: one account, one
// name that fails temporarily (454), everything else refused (535).
class FakeAuthenticator : public Authenticator {
 public:
  absl::Status Check(std::string_view user, std::string_view password) override {
    if (user == "alice" && password == "secret") return absl::OkStatus();
    if (user == "tempfail") return absl::UnavailableError("backend down");
    return absl::UnauthenticatedError("bad credentials");
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

Run Play(const ServerConfig& config, std::string_view input, size_t chunk, uint8_t outcomes,
         bool implicit_tls) {
  CheckingSink sink;
  sink.limit_ = config.message_bytes_max;
  sink.auth_required_ = config.auth_required;
  Policy policy;
  FakeAuthenticator authenticator;
  Run run;
  {
    const PeerInfo peer = implicit_tls ? PeerInfo("192.0.2.1", true, {"TLSv1.3", "TLS_FAKE"})
                                       : PeerInfo("192.0.2.1");
    ServerProtocol server(config, &sink, peer, &policy, &authenticator);
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
        CHECK(!implicit_tls);  // never offered, never accepted under TLS
        run.saw_starttls = true;
        server.OnTlsEstablished(TlsInfo{"TLSv1.2", "ECDHE-FAKE"});
      }
      CHECK(server.auth_user().empty() || server.auth_user() == "alice");
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
  if (size < 4) return 0;
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
  const uint8_t mode = data[3];
  const bool implicit_tls = mode & 1;  // port 465: AUTH offered from the start
  config.auth_plaintext_allowed = mode & 2;
  config.auth_required = mode & 4;
  config.auth_failures_max = 1 + ((mode >> 3) & 3);
  config.junk_commands_max = 1 + ((mode >> 5) & 7) * 4;
  if (implicit_tls) config.advertise_starttls = false;  // as the I/O layer does
  const std::string_view input(reinterpret_cast<const char*>(data + 4), size - 4);

  const Run whole = Play(config, input, input.size() + 1, outcomes, implicit_tls);
  const Run split = Play(config, input, 1 + (outcomes & 7), outcomes, implicit_tls);
  // STARTTLS discards what was pipelined behind it, which depends on chunking.
  if (!whole.saw_starttls && !split.saw_starttls) CHECK(whole.output == split.output);
  return 0;
}
