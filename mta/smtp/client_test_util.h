// Test support for the client state machine: a scripted fake server. A script
// is a list of steps (what the server sends, what the client must answer);
// RunScript plays it whole and byte by byte, acting as the I/O layer would
// (handshakes, streaming bodies, starting the next message). Test-only.
#ifndef RINGMTA_MTA_SMTP_CLIENT_TEST_UTIL_H_
#define RINGMTA_MTA_SMTP_CLIENT_TEST_UTIL_H_

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "mta/smtp/client_protocol.h"

namespace ringmta::smtp::client_test {

inline constexpr std::string_view kGreeting = "220 mx.example ESMTP\r\n";
inline constexpr std::string_view kEhlo = "EHLO relay.example\r\n";

inline ClientConfig TestConfig() {
  ClientConfig config;
  config.ehlo_name = "relay.example";
  return config;
}

inline OutboundMessage Message(std::vector<std::string> recipients,
                               std::string from = "a@x.example") {
  OutboundMessage message;
  message.mail_from = std::move(from);
  for (std::string& r : recipients) message.recipients.push_back(Recipient{std::move(r), 0, ""});
  return message;
}

// "250 450 550 | 250": each recipient's RCPT reply code, then the final
// reply's ("-" if none); "L" marks a local reply, " uncertain" the flag.
inline std::string Describe(const MessageResult& result) {
  auto code = [](const ServerReply& r) {
    if (r.empty()) return std::string("-");
    return std::to_string(r.code) + (r.local ? "L" : "");
  };
  std::string text;
  for (const RecipientResult& r : result.recipients) text += code(r.rcpt_reply) + " ";
  text += "| " + code(result.final_reply);
  if (result.uncertain) text += " uncertain";
  return text;
}

struct ClientSetup {
  ClientConfig config = TestConfig();
  std::vector<OutboundMessage> messages;  // started one after another on kReady
  std::vector<std::string> bodies;        // one per message
  size_t piece_bytes = 1 << 20;           // SupplyBody piece size
  bool quit_when_idle = true;             // Quit() on kReady with no message left
};

struct Step {
  std::string server;  // bytes the server sends
  std::string client;  // everything the client must send in response
};

struct Outcome {
  std::vector<std::string> results;  // Describe() of each MessageResult
  bool closed = false;
  CloseReason close_reason = CloseReason::kNone;
  int close_code = 0;
  int handshakes = 0;
  ClientProtocol::Phase phase = ClientProtocol::Phase::kAwaitingGreeting;
};

// Acts on the client's actions the way the outbound session would.
class FakeServer {
 public:
  explicit FakeServer(const ClientSetup& setup) : setup_(setup), client_(setup.config) {}

  // Sends `bytes` in chunks of `chunk`; returns what the client sent back.
  // After kStartTls the rest of the chunk stream is plaintext sent before
  // the handshake, which a real TLS layer never hands over: dropped.
  std::string Turn(std::string_view bytes, size_t chunk) {
    std::string sent;
    tls_cut_ = false;
    Pump(&sent);
    for (size_t at = 0; at < bytes.size() && !tls_cut_; at += chunk) {
      client_.Feed(bytes.substr(at, chunk));
      Pump(&sent);
    }
    return sent;
  }

  ClientProtocol& client() { return client_; }
  Outcome& outcome() {
    outcome_.phase = client_.phase();
    return outcome_;
  }

 private:
  void Pump(std::string* sent) {
    while (true) {
      sent->append(client_.output());
      client_.output().clear();
      switch (client_.TakeAction()) {
        case ClientAction::kNone: return;
        case ClientAction::kStartTls:
          ++outcome_.handshakes;
          tls_cut_ = true;
          client_.OnTlsEstablished();
          break;
        case ClientAction::kNeedBody: SupplyBody(sent); break;
        case ClientAction::kMessageDone:
          outcome_.results.push_back(Describe(*client_.TakeMessageResult()));
          break;
        case ClientAction::kReady: StartNext(); break;
        case ClientAction::kClose:
          outcome_.closed = true;
          outcome_.close_reason = client_.close_reason();
          outcome_.close_code = client_.close_reply().code;
          break;
      }
    }
  }

  void SupplyBody(std::string* sent) {
    const std::string& body = setup_.bodies.at(message_ - 1);
    while (client_.phase() == ClientProtocol::Phase::kSendingBody) {
      const std::string_view piece = std::string_view(body).substr(body_at_, setup_.piece_bytes);
      body_at_ += piece.size();
      client_.SupplyBody(piece, body_at_ >= body.size());
      sent->append(client_.output());
      client_.output().clear();
    }
  }

  void StartNext() {
    if (message_ < setup_.messages.size()) {
      body_at_ = 0;
      client_.StartMessage(setup_.messages[message_++]);
    } else if (setup_.quit_when_idle) {
      client_.Quit();
    }
  }

  const ClientSetup& setup_;
  ClientProtocol client_;
  Outcome outcome_;
  size_t message_ = 0;
  size_t body_at_ = 0;
  bool tls_cut_ = false;
};

// Plays `steps` whole and in chunks of 1, 2 and 7 bytes: every chunking must
// produce the same client bytes per step and the same outcome.
inline Outcome RunScript(const ClientSetup& setup, const std::vector<Step>& steps) {
  Outcome whole;
  for (size_t chunk : {size_t{1} << 20, size_t{1}, size_t{2}, size_t{7}}) {
    FakeServer server(setup);
    for (size_t i = 0; i < steps.size(); ++i) {
      EXPECT_EQ(server.Turn(steps[i].server, chunk), steps[i].client)
          << "step " << i << ", chunk " << chunk;
    }
    const Outcome& outcome = server.outcome();
    if (chunk == size_t{1} << 20) {
      whole = outcome;
      continue;
    }
    EXPECT_EQ(outcome.results, whole.results) << "chunk " << chunk;
    EXPECT_EQ(outcome.closed, whole.closed) << "chunk " << chunk;
    EXPECT_EQ(outcome.close_reason, whole.close_reason) << "chunk " << chunk;
    EXPECT_EQ(outcome.phase, whole.phase) << "chunk " << chunk;
  }
  return whole;
}

}  // namespace ringmta::smtp::client_test

#endif  // RINGMTA_MTA_SMTP_CLIENT_TEST_UTIL_H_
