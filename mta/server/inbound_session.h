// The inbound SMTP session: moves bytes between one accepted connection and
// the sans-I/O ServerProtocol, and carries out its actions (commit, close)
// with timeouts and shutdown handling. Not here: SMTP rules (mta/smtp) or
// storage (SessionSink).
#ifndef RINGMTA_MTA_SERVER_INBOUND_SESSION_H_
#define RINGMTA_MTA_SERVER_INBOUND_SESSION_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "mta/base/limits.h"
#include "mta/io/shard.h"
#include "mta/io/task.h"
#include "mta/server/client_counter.h"
#include "mta/server/relay_policy.h"
#include "mta/server/session_sink.h"
#include "tls/context.h"
#include "mta/smtp/server_protocol.h"

namespace ringmta::server {

struct InboundConfig {
  smtp::ServerConfig protocol;
  // One bound per stage (RFC 5321 §4.5.3.2), each for every wait for input
  // in that stage; then 421 4.4.2 and close. Waiting for a command line:
  int64_t command_timeout_ms = limits::kSmtpServerCommandTimeoutMs;
  // Waiting for the next block of DATA or BDAT octets:
  int64_t data_timeout_ms = limits::kSmtpServerDataBlockTimeoutMs;
  // The whole TLS handshake (STARTTLS or implicit TLS). On expiry the
  // connection is closed without a word: a 421 in clear would land in the
  // middle of the client's TLS records.
  int64_t tls_handshake_timeout_ms = limits::kSmtpServerTlsHandshakeTimeoutMs;
  // Sending one batch of replies to a client that does not read.
  int64_t send_timeout_ms = 60'000;
  // The last word (421) at shutdown: short, the process is going away.
  int64_t farewell_timeout_ms = 1'000;
  SinkFactory* sinks = nullptr;
  // Who may relay (nullable: everyone). Shared by all shards: immutable.
  smtp::RecipientPolicy* policy = nullptr;
  // Checks AUTH passwords (nullable: no AUTH). Shared: thread-safe.
  smtp::Authenticator* authenticator = nullptr;
  // Connections per client address, one counter per shard (indexed by
  // shard; each touched only by its shard). Empty: no per-client limit.
  // Clients in the relay networks are exempt: they are our own senders.
  std::vector<std::shared_ptr<ClientCounter>> client_counters;
  const RelayPolicy* exempt_networks = nullptr;
  // The server certificate for STARTTLS (null: STARTTLS not offered).
  std::shared_ptr<const tls::ServerContext> tls_context;
  // Implicit TLS (RFC 8314 §3.3, port 465): the handshake comes first and
  // nothing is said in clear. Needs tls_context.
  bool implicit_tls = false;
};

// A ConnectionHandler (mta/io/shard.h); `context` is an InboundConfig that
// outlives the shard group.
io::Task<void> ServeInbound(io::Shard& shard, int fd, void* context);

}  // namespace ringmta::server

#endif  // RINGMTA_MTA_SERVER_INBOUND_SESSION_H_
