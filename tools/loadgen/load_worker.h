// LoadWorker: one load-generator thread. It owns a Reactor and its receive
// buffers, runs `sessions` SMTP client coroutines on them and counts what
// happened in its own LoadStats (nothing is shared with other threads).
// Closed loop: a session starts its next message when the last is answered.
// Open loop: messages become due at a fixed rate and a free session takes
// each; a message that finds none free waits and is counted late.
// Not here: flags, merging or printing (loadgen_main.cc).
#ifndef RINGMTA_TOOLS_LOADGEN_LOAD_WORKER_H_
#define RINGMTA_TOOLS_LOADGEN_LOAD_WORKER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "mta/io/buffer_ring.h"
#include "mta/io/listener.h"
#include "mta/io/reactor.h"
#include "mta/io/socket.h"
#include "mta/io/task.h"
#include "mta/smtp/reply_parser.h"
#include "tls/context.h"
#include "tools/loadgen/client_transport.h"
#include "tools/loadgen/load_options.h"
#include "tools/loadgen/load_stats.h"
#include "tools/loadgen/message_builder.h"

namespace ringmta::loadgen {

// What this thread must do: its share of the messages (or a deadline) and
// of the open-loop rate.
struct WorkShare {
  int thread_index = 0;
  int sessions = 1;
  uint64_t messages = 0;
  int64_t deadline_ns = 0;  // CLOCK_MONOTONIC; 0: count `messages` instead
  double rate_per_s = 0;    // 0: closed loop
  int64_t start_ns = 0;     // the open-loop schedule starts here
};

int64_t MonotonicNs();

class LoadWorker {
 public:
  LoadWorker(const LoadOptions& options, const MessageBuilder& message,
             const io::SocketAddress& server, const WorkShare& share);
  // Runs every session to the end; returns an error only if the ring
  // cannot be set up.
  absl::Status Run();
  const LoadStats& stats() const { return stats_; }

 private:
  struct Capabilities {
    bool pipelining = false;
    bool chunking = false;
    bool size = false;
    bool starttls = false;
  };
  // Reads replies from one connection: ReplyParser over the socket's chunks.
  struct ReplyReader {
    ClientTransport& transport;
    smtp::ReplyParser parser;
    std::string_view unparsed;
    io::Task<bool> Read(smtp::ServerReply* reply);
  };

  // One message: its commands, replies and when its last byte went out.
  struct Transaction {
    bool bdat = false;
    bool body_in_last_command = false;  // BDAT with a small chunk: one write
    std::string id_line;
    std::string_view body;
    std::vector<std::string> commands;  // MAIL, RCPT..., DATA or BDAT
    std::vector<smtp::ServerReply> replies;  // one per command
    int64_t sent_ns = 0;
  };
  enum class Outcome {
    kAccepted,  // 250 to the end of data
    kRefused,   // counted as 4xx/5xx; the connection is still usable
    kLost,      // counted as refused, then the connection broke
    kBroken,    // not counted: the connection broke or made no sense
  };

  io::Task<void> Session();
  // Claims the next message: false when the run is over. Open loop: waits
  // until one is due.
  io::Task<bool> TakeMessage();
  // Connects, reads the greeting and says EHLO; with --starttls also
  // STARTTLS, the handshake and EHLO again (not with --handshake-only).
  io::Task<bool> Open(io::Socket& socket, ClientTransport& transport, ReplyReader& reader,
                      Capabilities* capabilities);
  io::Task<bool> Ehlo(ClientTransport& transport, ReplyReader& reader,
                      Capabilities* capabilities);
  io::Task<bool> StartTls(ClientTransport& transport, ReplyReader& reader);
  // --handshake-only: one connection per claimed item, no mail.
  io::Task<void> HandshakeSession();
  Transaction BuildTransaction(const Capabilities& capabilities);
  // Sends the commands (as one group when pipelining) and reads a reply to
  // each; false if the connection broke.
  io::Task<bool> Exchange(ClientTransport& transport, ReplyReader& reader, bool pipelined,
                          Transaction& txn);
  // After 354: the message and its terminating dot, then the final reply.
  io::Task<bool> SendData(ClientTransport& transport, ReplyReader& reader, Transaction& txn,
                          smtp::ServerReply* final_reply);
  // Sends one claimed message and counts accepted or refused.
  io::Task<Outcome> Transact(ClientTransport& transport, ReplyReader& reader,
                             const Capabilities& capabilities);
  void CountRefusal(const smtp::ServerReply& reply);

  const LoadOptions& options_;
  const MessageBuilder& message_;
  io::SocketAddress server_;
  WorkShare share_;
  std::unique_ptr<io::Reactor> reactor_;
  std::unique_ptr<io::BufferRing> buffers_;
  std::shared_ptr<tls::ClientContext> tls_context_;  // per thread: its cache is unlocked
  std::string tls_host_;  // SNI and session cache key: --server's host
  bool reported_tls_error_ = false;  // the first TLS failure goes to stderr
  uint64_t taken_ = 0;       // messages claimed so far
  uint64_t next_number_ = 0;  // Message-ID counter
  LoadStats stats_;
};

}  // namespace ringmta::loadgen

#endif  // RINGMTA_TOOLS_LOADGEN_LOAD_WORKER_H_
