#include "tools/loadgen/load_worker.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <time.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "mta/io/operation.h"

namespace ringmta::loadgen {
namespace {

// Receive buffers per thread: replies are small, so even 200 sessions use a
// few of them at a time; 16 queued per socket pauses it (mta/io/socket.h).
constexpr uint32_t kReceiveBuffers = 1024;
constexpr uint32_t kReceiveBufferBytes = 4096;
// Below this the Message-ID line and the rest of the message go out in one
// send (one copy); above, two sends cost less than copying the body.
constexpr size_t kCoalesceBytesMax = 64 * 1024;
// Open loop: a message taken this long after it was due counts as late.
constexpr int64_t kLateNs = 10'000'000;
// A refused connection is retried after this pause, so a server that is
// down turns messages into counted errors instead of a busy loop.
constexpr int64_t kReconnectPauseMs = 10;

std::string UpperFirstWord(const std::string& line) {
  std::string word = line.substr(0, line.find(' '));
  for (char& c : word) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return word;
}

}  // namespace

int64_t MonotonicNs() {
  timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<int64_t>(now.tv_sec) * 1'000'000'000 + now.tv_nsec;
}

LoadWorker::LoadWorker(const LoadOptions& options, const MessageBuilder& message,
                       const io::SocketAddress& server, const WorkShare& share)
    : options_(options), message_(message), server_(server), share_(share) {}

absl::Status LoadWorker::Run() {
  auto reactor = io::Reactor::Create();
  if (!reactor.ok()) return reactor.status();
  reactor_ = std::move(*reactor);
  auto buffers =
      io::BufferRing::Create(reactor_->ring(), 1, kReceiveBuffers, kReceiveBufferBytes);
  if (!buffers.ok()) return buffers.status();
  buffers_ = std::move(*buffers);
  if (options_.starttls) {
    tls::ClientOptions tls_options;
    tls_options.policy = tls::ClientPolicy::kEncrypt;  // no certificate checks
    auto context = tls::ClientContext::Create(tls_options);
    if (!context.ok()) return context.status();
    tls_context_ = *std::move(context);
    tls_host_ = options_.server.substr(0, options_.server.rfind(':'));
    if (tls_host_.size() >= 2 && tls_host_.front() == '[') {
      tls_host_ = tls_host_.substr(1, tls_host_.size() - 2);
    }
  }
  {
    io::TaskGroup sessions;
    for (int i = 0; i < share_.sessions; ++i) {
      Spawn(*reactor_, sessions, options_.handshake_only ? HandshakeSession() : Session());
    }
    while (!sessions.empty()) reactor_->RunOnce(-1);
  }
  buffers_.reset();
  reactor_->Shutdown();
  return absl::OkStatus();
}

io::Task<bool> LoadWorker::TakeMessage() {
  for (;;) {
    const int64_t now = MonotonicNs();
    if (share_.deadline_ns != 0) {
      if (now >= share_.deadline_ns) co_return false;
    } else if (taken_ >= share_.messages) {
      co_return false;
    }
    if (share_.rate_per_s <= 0) {
      ++taken_;
      co_return true;
    }
    // Open loop: message k is due at start + k / rate.
    const double interval_ns = 1e9 / share_.rate_per_s;
    const int64_t due_ns = share_.start_ns + static_cast<int64_t>(taken_ * interval_ns);
    if (now >= due_ns) {
      if (now - due_ns > kLateNs) ++stats_.late;
      ++taken_;
      co_return true;
    }
    const int64_t wait_ms = std::max<int64_t>(1, (due_ns - now) / 1'000'000);
    co_await io::Sleep(*reactor_, nullptr, wait_ms);
  }
}

io::Task<bool> LoadWorker::ReplyReader::Read(smtp::ServerReply* reply) {
  for (;;) {
    if (!unparsed.empty()) {
      const smtp::ReplyParser::Step step = parser.Feed(unparsed);
      unparsed.remove_prefix(std::min(step.consumed, unparsed.size()));
      if (step.kind == smtp::ReplyParser::Step::Kind::kReply) {
        *reply = parser.TakeReply();
        co_return true;
      }
      if (step.kind == smtp::ReplyParser::Step::Kind::kError) co_return false;
      if (step.consumed == 0) co_return false;  // no progress: never spin
      continue;
    }
    const int32_t received = co_await transport.Receive();
    if (received <= 0) co_return false;
    unparsed = transport.chunk();
  }
}

io::Task<bool> LoadWorker::Ehlo(ClientTransport& transport, ReplyReader& reader,
                                Capabilities* capabilities) {
  const std::string ehlo = absl::StrCat("EHLO ", options_.helo, "\r\n");
  if (!co_await transport.SendAll(ehlo)) co_return false;
  smtp::ServerReply reply;
  if (!co_await reader.Read(&reply) || reply.code != 250) co_return false;
  *capabilities = Capabilities();
  for (size_t i = 1; i < reply.lines.size(); ++i) {
    const std::string keyword = UpperFirstWord(reply.lines[i]);
    if (keyword == "PIPELINING") capabilities->pipelining = true;
    if (keyword == "CHUNKING") capabilities->chunking = true;
    if (keyword == "SIZE") capabilities->size = true;
    if (keyword == "STARTTLS") capabilities->starttls = true;
  }
  co_return true;
}

io::Task<bool> LoadWorker::StartTls(ClientTransport& transport, ReplyReader& reader) {
  const int64_t started_ns = MonotonicNs();
  if (!co_await transport.SendAll("STARTTLS\r\n")) co_return false;
  smtp::ServerReply reply;
  if (!co_await reader.Read(&reply) || reply.code != 220) {
    ++stats_.tls_failures;
    co_return false;
  }
  // Whatever came with the 220 is dropped (RFC 3207 §4).
  reader.parser.Reset();
  reader.unparsed = {};
  if (!co_await transport.StartTls(tls_context_, tls_host_, options_.tls_resume)) {
    ++stats_.tls_failures;
    if (!reported_tls_error_) {
      reported_tls_error_ = true;
      std::fprintf(stderr, "loadgen: TLS handshake failed: %s\n", transport.error().c_str());
    }
    co_return false;
  }
  ++stats_.tls_handshakes;
  if (transport.session_reused()) ++stats_.tls_resumed;
  stats_.handshake_latency.Record(static_cast<uint64_t>(MonotonicNs() - started_ns));
  co_return true;
}

io::Task<bool> LoadWorker::Open(io::Socket& socket, ClientTransport& transport,
                                ReplyReader& reader, Capabilities* capabilities) {
  const int connected = co_await io::Connect(*reactor_, nullptr, socket.fd(), server_.get(),
                                             server_.length, options_.timeout_ms);
  if (connected != 0) co_return false;
  smtp::ServerReply reply;
  if (!co_await reader.Read(&reply) || reply.code != 220) co_return false;
  if (!co_await Ehlo(transport, reader, capabilities)) co_return false;
  if (!options_.starttls) co_return true;
  if (!capabilities->starttls) {
    // Never fall back to cleartext: a TLS benchmark that did not use TLS
    // would be a lie.
    ++stats_.tls_failures;
    if (!reported_tls_error_) {
      reported_tls_error_ = true;
      std::fprintf(stderr, "loadgen: the server does not offer STARTTLS\n");
    }
    co_return false;
  }
  if (!co_await StartTls(transport, reader)) co_return false;
  if (options_.handshake_only) co_return true;
  co_return co_await Ehlo(transport, reader, capabilities);  // RFC 3207 §4.2
}

void LoadWorker::CountRefusal(const smtp::ServerReply& reply) {
  if (reply.IsTransient()) {
    ++stats_.transient;
  } else {
    ++stats_.permanent;
  }
}

LoadWorker::Transaction LoadWorker::BuildTransaction(const Capabilities& capabilities) {
  Transaction txn;
  txn.bdat = options_.bdat && capabilities.chunking;
  const uint64_t size = message_.size_bytes();
  txn.id_line = message_.MessageIdLine(next_number_++, share_.thread_index);
  txn.body = txn.bdat ? message_.rest() : message_.rest_with_terminator();
  txn.commands.push_back(absl::StrCat("MAIL FROM:<", options_.sender, ">",
                                      capabilities.size ? absl::StrCat(" SIZE=", size) : "",
                                      "\r\n"));
  for (int i = 0; i < options_.recipients; ++i) {
    txn.commands.push_back(
        absl::StrCat("RCPT TO:<rcpt", i, "@", options_.recipient_domain, ">\r\n"));
  }
  // BDAT's chunk follows its command at once (RFC 3030 §2); a small one
  // joins it in the same write.
  std::string last = txn.bdat ? absl::StrCat("BDAT ", size, " LAST\r\n", txn.id_line) : "DATA\r\n";
  txn.body_in_last_command = txn.bdat && txn.body.size() <= kCoalesceBytesMax;
  if (txn.body_in_last_command) last.append(txn.body);
  txn.commands.push_back(std::move(last));
  txn.replies.resize(txn.commands.size());
  return txn;
}

io::Task<bool> LoadWorker::Exchange(ClientTransport& transport, ReplyReader& reader, bool pipelined,
                                    Transaction& txn) {
  const bool body_after_last = txn.bdat && !txn.body_in_last_command;
  if (pipelined) {
    // RFC 2920 §3.1: the whole group in one write, then every reply.
    std::string group;
    for (const std::string& command : txn.commands) group += command;
    if (!co_await transport.SendAll(group)) co_return false;
    if (body_after_last && !co_await transport.SendAll(txn.body)) {
      co_return false;
    }
    txn.sent_ns = MonotonicNs();
    for (smtp::ServerReply& reply : txn.replies) {
      if (!co_await reader.Read(&reply)) co_return false;
    }
    co_return true;
  }
  for (size_t i = 0; i < txn.commands.size(); ++i) {
    if (!co_await transport.SendAll(txn.commands[i])) co_return false;
    const bool is_last = i + 1 == txn.commands.size();
    if (is_last && body_after_last && !co_await transport.SendAll(txn.body)) {
      co_return false;
    }
    if (is_last) txn.sent_ns = MonotonicNs();
    if (!co_await reader.Read(&txn.replies[i])) co_return false;
  }
  co_return true;
}

io::Task<bool> LoadWorker::SendData(ClientTransport& transport, ReplyReader& reader, Transaction& txn,
                                    smtp::ServerReply* final_reply) {
  if (txn.body.size() + txn.id_line.size() <= kCoalesceBytesMax) {
    std::string whole = txn.id_line;
    whole.append(txn.body);
    if (!co_await transport.SendAll(whole)) co_return false;
  } else {
    if (!co_await transport.SendAll(txn.id_line)) co_return false;
    if (!co_await transport.SendAll(txn.body)) co_return false;
  }
  txn.sent_ns = MonotonicNs();
  co_return co_await reader.Read(final_reply);
}

io::Task<LoadWorker::Outcome> LoadWorker::Transact(ClientTransport& transport, ReplyReader& reader,
                                                   const Capabilities& capabilities) {
  Transaction txn = BuildTransaction(capabilities);
  const bool pipelined = options_.pipelining && capabilities.pipelining;
  if (!co_await Exchange(transport, reader, pipelined, txn)) co_return Outcome::kBroken;
  smtp::ServerReply final_reply = std::move(txn.replies.back());
  if (!txn.bdat && final_reply.code == 354) {
    if (!co_await SendData(transport, reader, txn, &final_reply)) co_return Outcome::kBroken;
  }
  const int64_t answered_ns = MonotonicNs();

  const smtp::ServerReply& mail = txn.replies.front();
  int accepted_recipients = 0;
  const smtp::ServerReply* first_refused_recipient = nullptr;
  for (size_t i = 1; i + 1 < txn.replies.size(); ++i) {
    if (txn.replies[i].IsPositive()) {
      ++accepted_recipients;
      continue;
    }
    if (first_refused_recipient == nullptr) first_refused_recipient = &txn.replies[i];
    ++(txn.replies[i].IsTransient() ? stats_.rcpt_transient : stats_.rcpt_permanent);
  }
  if (final_reply.IsPositive() && mail.IsPositive() && accepted_recipients > 0) {
    ++stats_.accepted;
    stats_.accepted_bytes += message_.size_bytes();
    stats_.ack_latency.Record(static_cast<uint64_t>(answered_ns - txn.sent_ns));
    co_return Outcome::kAccepted;
  }
  // Refused: blame the earliest refusal (MAIL, then the recipients, then
  // DATA or the end of data).
  if (!mail.IsPositive()) {
    CountRefusal(mail);
  } else if (accepted_recipients == 0 && first_refused_recipient != nullptr) {
    CountRefusal(*first_refused_recipient);
  } else if (final_reply.IsTransient() || final_reply.IsPermanent()) {
    CountRefusal(final_reply);
  } else {
    co_return Outcome::kBroken;  // a 2xx/3xx where a refusal or 250 belongs
  }
  // A transaction may still be open (MAIL accepted): reset it.
  if (mail.IsPositive()) {
    if (!co_await transport.SendAll("RSET\r\n")) co_return Outcome::kLost;
    smtp::ServerReply rset;
    if (!co_await reader.Read(&rset) || !rset.IsPositive()) co_return Outcome::kLost;
  }
  co_return Outcome::kRefused;
}

io::Task<void> LoadWorker::Session() {
  bool have_message = co_await TakeMessage();
  while (have_message) {
    const int fd = socket(server_.family(), SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      ++stats_.attempted;
      ++stats_.io_errors;
      have_message = co_await TakeMessage();
      continue;
    }
    // Commands and bodies are written whole; Nagle would only hold back the
    // second of two back-to-back writes until an ACK.
    const int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    io::Socket socket(*reactor_, *buffers_, fd, nullptr);
    ClientTransport transport(socket, options_.timeout_ms);
    ReplyReader reader{transport, smtp::ReplyParser(), {}};
    Capabilities capabilities;
    bool usable = co_await Open(socket, transport, reader, &capabilities);
    if (!usable) {
      // The claimed message could not even start.
      ++stats_.attempted;
      ++stats_.io_errors;
      co_await socket.Close();
      co_await io::Sleep(*reactor_, nullptr, kReconnectPauseMs);
      have_message = co_await TakeMessage();
      continue;
    }
    ++stats_.connections;
    uint64_t sent_here = 0;
    while (have_message && usable) {
      ++stats_.attempted;
      const Outcome outcome = co_await Transact(transport, reader, capabilities);
      // A message cut off by a broken connection is an I/O error; one
      // refused before the connection broke is already counted.
      if (outcome == Outcome::kBroken) ++stats_.io_errors;
      usable = outcome == Outcome::kAccepted || outcome == Outcome::kRefused;
      ++sent_here;
      have_message = co_await TakeMessage();
      if (options_.per_connection != 0 && sent_here >= options_.per_connection) break;
    }
    if (usable) {
      if (co_await transport.SendAll("QUIT\r\n")) {
        smtp::ServerReply bye;
        co_await reader.Read(&bye);
      }
      co_await transport.ShutdownTls();
    }
    co_await socket.Close();
  }
}

io::Task<void> LoadWorker::HandshakeSession() {
  while (co_await TakeMessage()) {
    ++stats_.attempted;
    const int fd = socket(server_.family(), SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      ++stats_.io_errors;
      continue;
    }
    const int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    io::Socket socket(*reactor_, *buffers_, fd, nullptr);
    ClientTransport transport(socket, options_.timeout_ms);
    ReplyReader reader{transport, smtp::ReplyParser(), {}};
    Capabilities capabilities;
    bool done = co_await Open(socket, transport, reader, &capabilities);
    if (done) {
      ++stats_.connections;
      // QUIT over TLS, so the server's side of the session ends cleanly.
      smtp::ServerReply bye;
      done = co_await transport.SendAll("QUIT\r\n");
      if (done) done = co_await reader.Read(&bye);
      co_await transport.ShutdownTls();
    }
    if (!done) ++stats_.io_errors;
    co_await socket.Close();
    if (!done) co_await io::Sleep(*reactor_, nullptr, kReconnectPauseMs);
  }
}

}  // namespace ringmta::loadgen
