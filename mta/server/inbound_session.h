// The inbound SMTP session: moves bytes between one accepted connection and
// the sans-I/O ServerProtocol, and carries out its actions (commit, close)
// with timeouts and shutdown handling. Not here: SMTP rules (mta/smtp) or
// storage (SessionSink).
#ifndef RINGMTA_MTA_SERVER_INBOUND_SESSION_H_
#define RINGMTA_MTA_SERVER_INBOUND_SESSION_H_

#include <cstdint>

#include "mta/base/limits.h"
#include "mta/io/shard.h"
#include "mta/io/task.h"
#include "mta/server/session_sink.h"
#include "mta/smtp/server_protocol.h"

namespace ringmta::server {

struct InboundConfig {
  smtp::ServerConfig protocol;
  // Waiting for the client's next command or data (RFC 5321 §4.5.3.2.7).
  int64_t idle_timeout_ms = limits::kSmtpServerIdleTimeoutMs;
  // Sending one batch of replies to a client that does not read.
  int64_t send_timeout_ms = 60'000;
  // The last word (421) at shutdown: short, the process is going away.
  int64_t farewell_timeout_ms = 1'000;
  SinkFactory* sinks = nullptr;
  // Who may relay (nullable: everyone). Shared by all shards: immutable.
  smtp::RecipientPolicy* policy = nullptr;
  // Checks AUTH passwords (nullable: no AUTH). Shared: thread-safe.
  smtp::Authenticator* authenticator = nullptr;
};

// A ConnectionHandler (mta/io/shard.h); `context` is an InboundConfig that
// outlives the shard group.
io::Task<void> ServeInbound(io::Shard& shard, int fd, void* context);

}  // namespace ringmta::server

#endif  // RINGMTA_MTA_SERVER_INBOUND_SESSION_H_
