#include "mta/relay/outbound_session.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <variant>

#include "mta/base/clock.h"
#include "mta/base/log.h"
#include "mta/base/shard_stats.h"
#include "mta/io/operation.h"
#include "mta/relay/destination.h"
#include "mta/relay/outbound_connection.h"
#include "mta/relay/outbound_tls.h"
#include "mta/relay/relay_shard.h"
#include "mta/smtp/client_protocol.h"
#include "queue/records.h"
#include "tls/context.h"

namespace ringmta::relay {
namespace {

// Addresses of a hop: an IP literal as is, a name through DNS.
io::Task<std::vector<dns::IpAddress>> AddressesOf(RelayShard& relay, const NextHop& hop) {
  if (std::optional<dns::IpAddress> literal = dns::IpAddress::Parse(hop.host)) {
    co_return std::vector<dns::IpAddress>{*literal};
  }
  absl::StatusOr<std::vector<dns::IpAddress>> resolved =
      co_await relay.resolver().ResolveAddresses(hop.host, &relay.sessions_scope());
  if (!resolved.ok()) co_return std::vector<dns::IpAddress>{};
  co_return *std::move(resolved);
}

// Why no connection was made: the deferral every job of the session gets.
struct ConnectFailure {
  std::string status = "4.4.1";
  std::string why = "no host to try";
};

bool RequiresTls(tls::ClientPolicy policy) {
  return policy == tls::ClientPolicy::kEncrypt || policy == tls::ClientPolicy::kVerify;
}

// The plan for `hop`: its route's settings, or the MX defaults. False (and
// `failure` set) when TLS is required but no context can be made.
bool PlanHop(RelayShard& relay, const NextHop& hop, bool cleartext, HopPlan* plan,
             ConnectFailure* failure) {
  const RelayConfig& config = relay.config();
  const HopSecurity* security = hop.security.get();
  plan->policy = security != nullptr ? security->tls : config.tls_policy;
  const std::string& ca_file = security != nullptr ? security->tls_ca_file : config.tls_ca_file;
  plan->client.ehlo_name = config.ehlo_name;
  plan->client.use_bdat = config.use_bdat;
  if (security != nullptr && security->has_credentials()) {
    plan->client.credentials = smtp::ClientCredentials{security->auth_username,
                                                       security->auth_password};
    plan->client.auth_requires_tls = !security->auth_allow_plaintext;
  }
  plan->context = nullptr;
  if (plan->policy == tls::ClientPolicy::kNone || cleartext) return true;
  absl::StatusOr<std::shared_ptr<tls::ClientContext>> context =
      relay.outbound_tls().Context(plan->policy, ca_file);
  if (!context.ok()) {
    Log(LogLevel::kWarning, "relay %s: no TLS (policy %s): %s", hop.host,
        std::string(tls::ClientPolicyName(plan->policy)), std::string(context.status().message()));
    if (RequiresTls(plan->policy)) {
      *failure = {"4.7.5", "TLS required but unavailable: " +
                               std::string(context.status().message())};
      return false;
    }
    return true;  // may: cleartext is what opportunistic TLS falls back to
  }
  plan->context = *context;
  plan->client.want_starttls = true;
  plan->client.require_starttls = RequiresTls(plan->policy);
  return true;
}

// Why a connection that reached the server did not become ready, as a
// deferral (and a log line for the TLS and AUTH cases an operator must fix).
ConnectFailure RefusalOf(const OutboundConnection& connection, const HopPlan& plan) {
  const smtp::ClientProtocol& client = connection.client();
  const std::string policy(tls::ClientPolicyName(plan.policy));
  if (connection.tls_failed()) {
    Log(LogLevel::kWarning, "relay %s: TLS handshake failed (policy %s): %s; deferring",
        connection.host(), policy, connection.tls_failure());
    return {"4.7.5", connection.host() + ": TLS handshake failed: " + connection.tls_failure()};
  }
  if (client.close_reason() == smtp::CloseReason::kTlsUnavailable) {
    std::string reply = client.close_reply().Summary(200);
    Log(LogLevel::kWarning, "relay %s: TLS required (policy %s) but unavailable: %s; deferring",
        connection.host(), policy, reply);
    return {"4.7.10", connection.host() + ": TLS required but unavailable: " + reply};
  }
  if (client.close_reason() == smtp::CloseReason::kAuthFailed) {
    std::string reply = client.close_reply().Summary(200);
    Log(LogLevel::kWarning, "relay %s: AUTH as %s failed: %s; deferring", connection.host(),
        plan.client.credentials ? SanitizePeerText(plan.client.credentials->username, 64) : "",
        reply);
    // Postfix defers too: a refused login is the relay's configuration to
    // fix, and the mail must not bounce while it is being fixed.
    std::string status = client.close_reply().code == 535 ? "4.7.8" : "4.7.0";
    return {status, connection.host() + ": AUTH failed: " + reply};
  }
  return {"4.4.1", connection.host() + " refused: " + client.close_reply().Summary(200)};
}

// One connection attempt to `address` of `hop` under `plan`: the
// connection once ready, else null with `failure` set.
io::Task<std::unique_ptr<OutboundConnection>> TryAddress(RelayShard& relay, const NextHop& hop,
                                                         const dns::IpAddress& address,
                                                         const HopPlan& plan,
                                                         ConnectFailure* failure,
                                                         bool* tls_failed) {
  *tls_failed = false;
  sockaddr_storage storage{};
  socklen_t length = address.ToSockaddr(hop.port, &storage);
  int fd = socket(storage.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    *failure = {"4.4.1", "socket: " + std::string(std::strerror(errno))};
    co_return nullptr;
  }
  std::string host = hop.host + "[" + address.ToString() + "]";
  auto connection = std::make_unique<OutboundConnection>(relay, fd, host, hop, plan);
  int32_t connected = co_await io::Connect(relay.reactor(), &relay.sessions_scope(), fd,
                                           reinterpret_cast<const sockaddr*>(&storage), length,
                                           relay.config().connect_timeout_ms);
  CurrentShardStats().Count(connected < 0 ? Counter::kConnectionsOutFailed
                                          : Counter::kConnectionsOut);
  if (connected < 0) {
    *failure = {"4.4.1", "connect to " + host + ": " + std::strerror(-connected)};
    co_await connection->Close();
    co_return nullptr;
  }
  smtp::ClientAction action = co_await connection->Next();
  if (action == smtp::ClientAction::kReady) co_return connection;
  *tls_failed = connection->tls_failed();
  if (*tls_failed && plan.policy == tls::ClientPolicy::kMay) {
    // Not a refusal: the caller retries in cleartext and says why.
    *failure = {"4.7.5", connection->tls_failure()};
  } else {
    *failure = RefusalOf(*connection, plan);
  }
  co_await connection->Close();
  co_return nullptr;
}

// Connects to the first hop that takes us to kReady (greeting, EHLO,
// STARTTLS and AUTH as the hop's policy asks). Null if none did; `failure`
// then says what went wrong last.
io::Task<std::unique_ptr<OutboundConnection>> ConnectToAny(RelayShard& relay,
                                                           Destination& destination,
                                                           ConnectFailure* failure) {
  *failure = ConnectFailure();
  // A copy: a job arriving while we wait may replace the destination's hops
  // (fresh MX answers), which would free the vector under the loop.
  const std::vector<NextHop> hops = destination.hops();
  for (const NextHop& hop : hops) {
    std::vector<dns::IpAddress> addresses = co_await AddressesOf(relay, hop);
    if (addresses.empty()) *failure = {"4.4.1", "cannot resolve " + hop.host};
    for (const dns::IpAddress& address : addresses) {
      if (relay.stopping()) co_return nullptr;
      // Under may, a host whose handshake failed lately goes straight to
      // cleartext; one that fails now is retried once in cleartext.
      std::string fallback_key = hop.host + "[" + address.ToString() + "]:" +
                                 std::to_string(hop.port);
      OutboundTls& tls_state = relay.outbound_tls();
      bool cleartext = tls_state.InCleartextFallback(fallback_key, relay.reactor().now_ms());
      for (int attempt = 0; attempt < 2; ++attempt) {
        HopPlan plan;
        if (!PlanHop(relay, hop, cleartext, &plan, failure)) break;
        bool tls_failed = false;
        std::unique_ptr<OutboundConnection> connection =
            co_await TryAddress(relay, hop, address, plan, failure, &tls_failed);
        if (connection != nullptr) co_return connection;
        if (!tls_failed || plan.policy != tls::ClientPolicy::kMay || cleartext) break;
        int64_t now_ms = relay.reactor().now_ms();
        tls_state.RememberCleartextFallback(fallback_key, now_ms + relay.config().tls_fallback_ms,
                                            now_ms);
        Log(LogLevel::kWarning,
            "relay %s: TLS handshake failed (%s); retrying in cleartext (policy may) and "
            "using cleartext for this host for %d ms",
            fallback_key, failure->why, static_cast<int>(relay.config().tls_fallback_ms));
        cleartext = true;
      }
    }
  }
  co_return nullptr;
}

smtp::BodyType ToBodyType(queue::BodyType type) {
  switch (type) {
    case queue::BodyType::k8BitMime: return smtp::BodyType::k8BitMime;
    case queue::BodyType::k7Bit: return smtp::BodyType::k7Bit;
    default: return smtp::BodyType::kUnspecified;
  }
}

smtp::DsnRet ToRet(queue::DsnRet ret) {
  switch (ret) {
    case queue::DsnRet::kFull: return smtp::DsnRet::kFull;
    case queue::DsnRet::kHeaders: return smtp::DsnRet::kHeaders;
    default: return smtp::DsnRet::kUnspecified;
  }
}

// The envelope for this job's recipients, from its MessageBegin on disk.
io::Task<absl::StatusOr<smtp::OutboundMessage>> LoadEnvelope(RelayShard& relay,
                                                             const DeliveryJob& job) {
  std::string payload;
  absl::Status read = co_await relay.segments().Read(job.shard_directory, job.begin, &payload);
  if (!read.ok()) co_return read;
  absl::StatusOr<queue::Record> record = queue::DecodeRecord(payload);
  if (!record.ok()) co_return record.status();
  const auto* begin = std::get_if<queue::MessageBegin>(&*record);
  if (begin == nullptr || begin->message_id != job.message_id) {
    co_return absl::DataLossError("record at the message's begin is not its MessageBegin");
  }
  smtp::OutboundMessage message;
  message.mail_from = begin->sender;
  message.size_bytes = job.body_bytes;
  message.body = ToBodyType(begin->body_type);
  message.smtputf8 = begin->smtputf8;
  message.ret = ToRet(begin->ret);
  message.envid = begin->envid;
  for (uint32_t index : job.recipients) {
    if (index >= begin->recipients.size()) co_return absl::DataLossError("recipient index");
    const queue::Recipient& recipient = begin->recipients[index];
    message.recipients.push_back({recipient.address, recipient.notify, recipient.orcpt});
  }
  co_return message;
}

// A piece of the body: chunk `index` of the job, read back from disk.
io::Task<absl::Status> LoadChunk(RelayShard& relay, const DeliveryJob& job, size_t index,
                                 std::string* payload, std::string_view* data) {
  absl::Status read = co_await relay.segments().Read(job.shard_directory, job.chunks[index], payload);
  if (!read.ok()) co_return read;
  absl::StatusOr<queue::Record> record = queue::DecodeRecord(*payload);
  if (!record.ok()) co_return record.status();
  const auto* chunk = std::get_if<queue::BodyChunk>(&*record);
  if (chunk == nullptr || chunk->message_id != job.message_id || chunk->chunk_index != index) {
    co_return absl::DataLossError("body chunk out of place");
  }
  *data = chunk->data;
  co_return absl::OkStatus();
}

std::string DefaultStatus(int code) {
  if (code >= 200 && code < 300) return "2.0.0";
  if (code >= 500) return "5.0.0";
  return "4.0.0";
}

void SetOutcomes(DeliveryJob& job, const smtp::MessageResult& result, const std::string& host) {
  job.outcomes.clear();
  for (size_t i = 0; i < job.recipients.size(); ++i) {
    RecipientOutcome outcome;
    outcome.index = job.recipients[i];
    outcome.remote_host = host;
    const smtp::ServerReply& reply =
        i < result.recipients.size() ? result.Outcome(i) : result.final_reply;
    bool accepted = i < result.recipients.size() && result.recipients[i].accepted();
    // A recipient the server never answered (pipelined RCPTs behind a
    // lost BDAT LAST) may have been taken all the same.
    bool unanswered = i < result.recipients.size() && result.recipients[i].rcpt_reply.local;
    outcome.code = reply.code;
    outcome.status = reply.enhanced.empty() ? DefaultStatus(reply.code) : reply.enhanced;
    outcome.diagnostic = reply.empty() ? "no reply" : reply.Summary(512);
    if ((accepted || unanswered) && result.uncertain) {
      outcome.kind = OutcomeKind::kDeferred;
      outcome.uncertain = true;
      outcome.status = "4.4.2";
      outcome.diagnostic = "delivery uncertain: no reply after the end of the message";
    } else if (reply.IsPositive()) {
      outcome.kind = OutcomeKind::kDelivered;
    } else if (reply.IsPermanent()) {
      outcome.kind = OutcomeKind::kFailed;
    } else {
      outcome.kind = OutcomeKind::kDeferred;
    }
    job.outcomes.push_back(std::move(outcome));
  }
}

// Delivers one job over a ready connection. True if the connection can
// carry another message.
io::Task<bool> Deliver(RelayShard& relay, OutboundConnection& connection, DeliveryJob& job) {
  absl::StatusOr<smtp::OutboundMessage> message = co_await LoadEnvelope(relay, job);
  if (!message.ok()) {
    Log(LogLevel::kError, "queue %s: %s", queue::FormatQueueId(job.message_id),
        std::string(message.status().message()));
    job.SetAllOutcomes(OutcomeKind::kDeferred, 0, "4.3.0",
                       "cannot read the queued message: " + std::string(message.status().message()));
    co_return true;
  }
  connection.client().StartMessage(*std::move(message));
  std::string payload;
  size_t next_chunk = 0;
  // An if-chain, not a switch: GCC 12 miscompiles co_await inside switch
  // cases (seen in the inbound session).
  for (;;) {
    smtp::ClientAction action = co_await connection.Next();
    if (action == smtp::ClientAction::kNeedBody) {
      while (connection.client().phase() == smtp::ClientProtocol::Phase::kSendingBody) {
        if (next_chunk >= job.chunks.size()) {
          connection.client().SupplyBody("", true);
        } else {
          std::string_view data;
          absl::Status loaded = co_await LoadChunk(relay, job, next_chunk, &payload, &data);
          if (!loaded.ok()) {
            // Never send a damaged body: drop the connection mid-message so
            // the server discards it.
            connection.client().OnTransportFailure(smtp::TransportFailure::kConnectionLost);
            job.SetAllOutcomes(OutcomeKind::kDeferred, 0, "4.3.0",
                               "cannot read the queued body: " + std::string(loaded.message()));
            co_return false;
          }
          ++next_chunk;
          connection.client().SupplyBody(data, next_chunk == job.chunks.size());
        }
        bool flushed = co_await connection.Flush();
        if (!flushed) break;
      }
    } else if (action == smtp::ClientAction::kMessageDone) {
      std::optional<smtp::MessageResult> result = connection.client().TakeMessageResult();
      if (result) SetOutcomes(job, *result, connection.host());
      co_return connection.client().phase() != smtp::ClientProtocol::Phase::kClosed;
    } else if (action == smtp::ClientAction::kClose) {
      if (std::optional<smtp::MessageResult> result = connection.client().TakeMessageResult()) {
        SetOutcomes(job, *result, connection.host());
      } else if (job.outcomes.empty()) {
        job.SetAllOutcomes(OutcomeKind::kDeferred, connection.client().close_reply().code, "4.4.2",
                           "connection closed: " + connection.client().close_reply().Summary(200),
                           connection.host());
      }
      co_return false;
    }
  }
}

// After a message, the client may still owe replies (RSET after a failed
// transaction): pumps until it can take the next message. False if the
// connection closed instead.
io::Task<bool> WaitReady(OutboundConnection& connection) {
  while (!connection.client().ready_for_message()) {
    smtp::ClientAction action = co_await connection.Next();
    if (action == smtp::ClientAction::kClose) co_return false;
  }
  co_return true;
}

// The attempt's metrics on the owner shard, before the job goes home: its
// duration and the route's outcome counts (mta/base/shard_stats.h).
void RecordAttempt(DeliveryJob& job, int64_t started_ns) {
  int64_t elapsed_ns = MonotonicNowNs() - started_ns;
  job.attempt_ms = elapsed_ns / 1'000'000;
  CurrentShardStats().Observe(Latency::kDelivery, elapsed_ns);
  DestinationCounters& route = CurrentShardStats().destinations().For(job.route_key);
  for (const RecipientOutcome& outcome : job.outcomes) {
    if (outcome.kind == OutcomeKind::kDelivered) {
      route.delivered.Add();
    } else if (outcome.kind == OutcomeKind::kFailed) {
      route.bounced.Add();
    } else {
      route.deferred.Add();
    }
  }
}

}  // namespace

io::Task<void> RunOutboundSession(RelayShard& relay, Destination& destination) {
  DeliveryJob* job = co_await destination.NextJob(0);
  int64_t attempt_started_ns = MonotonicNowNs();
  std::unique_ptr<OutboundConnection> connection;
  int messages = 0;
  while (job != nullptr) {
    if (connection != nullptr && !co_await WaitReady(*connection)) {
      // The pooled connection went away. Reconnecting here would bypass
      // the destination's connections/s limit: the job goes back first in
      // line, and the destination starts the next session when it may.
      co_await connection->Close();
      connection.reset();
      destination.Requeue(job);
      job = nullptr;
      break;
    }
    if (connection == nullptr) {
      ConnectFailure failure;
      connection = co_await ConnectToAny(relay, destination, &failure);
      if (connection == nullptr) {
        destination.OnConnectFailed();
        job->SetAllOutcomes(OutcomeKind::kDeferred, 0, failure.status, failure.why);
        RecordAttempt(*job, attempt_started_ns);
        destination.Finish(job);
        break;
      }
      destination.OnConnected();
    }
    bool reusable = co_await Deliver(relay, *connection, *job);
    bool delivered = false;
    for (RecipientOutcome& outcome : job->outcomes) {
      delivered |= outcome.kind == OutcomeKind::kDelivered;
      outcome.tls = connection->tls_description();
    }
    RecordAttempt(*job, attempt_started_ns);
    destination.Finish(job);
    if (delivered) destination.OnDelivered();
    if (!reusable) break;
    if (++messages >= relay.config().messages_per_connection_max || relay.stopping()) break;
    job = co_await destination.NextJob(relay.config().idle_timeout_ms);
    attempt_started_ns = MonotonicNowNs();
  }
  if (connection != nullptr) {
    if (connection->client().ready_for_message()) {
      connection->client().Quit();
      // The answer to QUIT matters little; a short wait is polite enough.
      while (co_await connection->Next() != smtp::ClientAction::kClose) {
      }
    }
    co_await connection->Close();
  }
  destination.OnSessionEnded();
}

}  // namespace ringmta::relay
