// libFuzzer target: the SMTP client state machine fed arbitrary server bytes
// in arbitrary chunks, driven as the outbound session would drive it. The
// first bytes pick config, messages and chunking. Checks: what we send is
// CRLF-only, credentials never go out in clear, nothing is sent after close,
// and every message started ends with exactly one well-formed result.
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "mta/base/check.h"
#include "mta/smtp/client_protocol.h"

using namespace ringmta::smtp;

namespace {

// Lines starting with dots, a lone ".", bare LF and bare CR: the encoders
// must turn all of it into CRLF-only, correctly stuffed output.
constexpr std::string_view kBodies[] = {
    "Subject: x\r\n\r\n.\r\n..\r\nbody\r\n", "", ".", "a\nb\rc\r\n.\n.", "no newline at end",
};

// Canned server openings, so random tails start deep in a session.
constexpr std::string_view kPrefixes[] = {
    "",
    "220 mx\r\n",
    "220 mx\r\n250-mx\r\n250-PIPELINING\r\n250-CHUNKING\r\n250-DSN\r\n250-8BITMIME\r\n"
    "250-SMTPUTF8\r\n250 SIZE 100000\r\n",
    "220 mx\r\n250-mx\r\n250-PIPELINING\r\n250 STARTTLS\r\n220 go\r\n",
    "220 mx\r\n250-mx\r\n250 AUTH PLAIN LOGIN\r\n",
    "220 mx\r\n250-mx\r\n250 PIPELINING\r\n250 ok\r\n250 ok\r\n354 go\r\n",
    "220 mx\r\n250-mx\r\n250-PIPELINING\r\n250 CHUNKING\r\n250 ok\r\n250 ok\r\n",
    "220 mx\r\n250 mx\r\n250 ok\r\n250 ok\r\n",
    "220 mx\r\n250-mx\r\n250 AUTH LOGIN\r\n334 VXNlcm5hbWU6\r\n",
    "220 mx\r\n250-mx\r\n250 STARTTLS\r\n454 4.7.0 no TLS today\r\n",
    "220 mx\r\n502 no\r\n250 mx\r\n",
    "220 mx\r\n250-mx\r\n250-PIPELINING\r\n250 CHUNKING\r\n250 ok\r\n550 no\r\n",
};

void CheckCrlfOnly(std::string_view out) {
  for (size_t i = 0; i < out.size(); ++i) {
    if (out[i] == '\r') CHECK(i + 1 < out.size() && out[i + 1] == '\n');
    if (out[i] == '\n') CHECK(i > 0 && out[i - 1] == '\r');
  }
}

void CheckResult(const MessageResult& result, size_t recipients) {
  CHECK(result.recipients.size() == recipients);
  for (size_t i = 0; i < recipients; ++i) {
    CHECK(result.recipients[i].index == static_cast<int>(i));
    const ServerReply& outcome = result.Outcome(i);
    if (result.recipients[i].accepted()) continue;  // a refusal always has a reply
    CHECK(outcome.code >= 400 && outcome.code <= 599);
  }
  bool any_accepted = false;
  for (const RecipientResult& r : result.recipients) any_accepted = any_accepted || r.accepted();
  if (any_accepted) CHECK(!result.final_reply.empty());
  if (result.uncertain) CHECK(result.final_reply.local);
}

class Driver {
 public:
  Driver(const ClientConfig& config, uint8_t shape)
      : client_(config), shape_(shape), guard_auth_(!config.implicit_tls && config.auth_requires_tls) {}

  void Run(std::string_view input, size_t chunk, TransportFailure failure) {
    for (size_t at = 0; at < input.size(); at += chunk) {
      if (client_.phase() == ClientProtocol::Phase::kClosed) {
        client_.Feed(input.substr(at, chunk));
        CHECK(client_.output().empty());
        CHECK(client_.TakeAction() == ClientAction::kNone);
        continue;
      }
      client_.Feed(input.substr(at, chunk));
      Pump();
    }
    client_.OnTransportFailure(failure);  // the end of input: the peer is gone
    Pump();
    CHECK(client_.phase() == ClientProtocol::Phase::kClosed);
    CHECK(results_ == started_);  // no message is ever left without an outcome
    CheckCrlfOnly(sent_);
  }

 private:
  void Flush() {
    if (guard_auth_ && !client_.tls()) CHECK(client_.output().find("AUTH ") == std::string::npos);
    sent_ += client_.output();
    client_.output().clear();
  }

  void Pump() {
    while (true) {
      Flush();
      const ClientAction action = client_.TakeAction();
      switch (action) {
        case ClientAction::kNone: return;
        case ClientAction::kStartTls: client_.OnTlsEstablished(); break;
        case ClientAction::kNeedBody: SupplyBody(); break;
        case ClientAction::kMessageDone: {
          const std::optional<MessageResult> result = client_.TakeMessageResult();
          CHECK(result.has_value());
          CheckResult(*result, recipients_);
          ++results_;
          break;
        }
        case ClientAction::kReady: StartOrQuit(); break;
        case ClientAction::kClose: CHECK(client_.phase() == ClientProtocol::Phase::kClosed); break;
      }
    }
  }

  void StartOrQuit() {
    CHECK(client_.ready_for_message());
    if (started_ == 3 || (shape_ >> 6) == started_) {
      client_.Quit();
      return;
    }
    OutboundMessage m;
    m.mail_from = (shape_ & 1) ? "" : "a@x.example";
    recipients_ = 1 + ((shape_ >> 1) + started_) % 4;
    for (size_t i = 0; i < recipients_; ++i) {
      Recipient r{"r" + std::to_string(i) + "@y.example", 0, ""};
      if (shape_ & 8) r.notify = static_cast<uint8_t>(kNotifySuccess | kNotifyFailure);
      if (shape_ & 16) r.orcpt = "rfc822;" + r.mailbox;
      m.recipients.push_back(r);
    }
    if (shape_ & 32) m.recipients[0].mailbox = "\xc3\xa9@y.example";  // needs SMTPUTF8
    if (shape_ & 4) m.body = BodyType::k8BitMime;
    if (shape_ & 8) m.ret = DsnRet::kHeaders;
    body_ = kBodies[(shape_ + started_) % std::size(kBodies)];
    body_at_ = 0;
    m.size_bytes = body_.size();
    ++started_;
    client_.StartMessage(std::move(m));
  }

  void SupplyBody() {
    const size_t piece = 1 + (shape_ & 7);
    while (client_.phase() == ClientProtocol::Phase::kSendingBody) {
      const std::string_view next = body_.substr(body_at_, piece);
      body_at_ += next.size();
      client_.SupplyBody(next, body_at_ >= body_.size());
      Flush();
    }
  }

  ClientProtocol client_;
  const uint8_t shape_;
  const bool guard_auth_;
  std::string sent_;
  std::string_view body_;
  size_t body_at_ = 0;
  size_t recipients_ = 0;
  size_t started_ = 0;
  size_t results_ = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 3) return 0;
  ClientConfig config;
  config.ehlo_name = "relay.example";
  config.want_starttls = data[0] & 1;
  config.require_starttls = data[0] & 2;
  config.implicit_tls = data[0] & 4;
  config.use_pipelining = !(data[0] & 8);
  config.use_bdat = !(data[0] & 16);
  if (data[0] & 32) config.credentials = ClientCredentials{"user", "secret"};
  config.auth_requires_tls = !(data[0] & 64);
  config.reply_limits.accept_bare_lf = data[0] & 128;
  const size_t chunk = 1 + (data[2] & 15);
  std::string input(kPrefixes[(data[2] >> 4) % std::size(kPrefixes)]);
  input.append(reinterpret_cast<const char*>(data + 3), size - 3);
  const TransportFailure failure = static_cast<TransportFailure>(size % 4);
  Driver(config, data[1]).Run(input, input.size() + 1, failure);
  Driver(config, data[1]).Run(input, chunk, failure);
  return 0;
}
