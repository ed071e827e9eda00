// Delivery settings, with defaults and the reason for each. The daemon
// fills them from config; tests shorten the timers.
#ifndef RINGMTA_MTA_RELAY_RELAY_CONFIG_H_
#define RINGMTA_MTA_RELAY_RELAY_CONFIG_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "mta/relay/route.h"
#include "tls/context.h"

namespace ringmta::relay {

struct RelayConfig {
  std::string ehlo_name = "localhost";
  std::vector<SmartHostRoute> routes;  // explicit routes; the rest go by MX
  std::vector<std::string> dns_servers;  // empty: /etc/resolv.conf
  // Port for MX hosts: 25, except in tests that run "MX hosts" on loopback.
  uint16_t mx_port = 25;
  // Connections to one destination at once. Postfix's default is 20: enough
  // to keep a receiving MTA busy, few enough that it does not throttle us.
  int connections_per_destination_max = 20;
  // The concurrency window starts here and grows by one per delivery up to
  // the maximum (slow start), and halves on a connection failure, as
  // Postfix's scheduler does (SCHEDULER_README: initial concurrency 5).
  int initial_concurrency = 5;
  // Messages over one connection before it is closed and a new one made:
  // bounds the damage of a connection that degrades.
  int messages_per_connection_max = 1000;
  // Messages handed to sessions per second, and new connections opened per
  // second, for one destination (exact: it lives on one shard); 0 means
  // unlimited. The default is unlimited because the receiver already has a
  // say (421/4xx shrink the window and defer), and any fixed rate would
  // throttle a smart host built to take thousands a second. Set them to a
  // provider's published limits. Bursts of one second's worth are allowed.
  int64_t messages_per_second_per_destination = 0;
  int64_t connections_per_second_per_destination = 0;
  // A destination with no jobs, no sessions and no backoff is forgotten
  // after this long, so memory follows the destinations in use, not every
  // MX site ever seen. Five minutes keeps the learned window across short
  // lulls; a forgotten destination costs only a fresh slow start.
  int64_t destination_forget_ms = 300'000;
  // Jobs queued at one destination: a dead destination cannot hoard memory.
  size_t ready_jobs_max = 20'000;
  int64_t connect_timeout_ms = 30'000;
  // Waiting for a reply (RFC 5321 §4.5.3.2 asks for 5 minutes per command).
  int64_t reply_timeout_ms = 300'000;
  // After the final dot (§4.5.3.2.6: 10 minutes). Expiry there means
  // "delivery uncertain".
  int64_t final_reply_timeout_ms = 600'000;
  // An idle pooled connection waits this long for another message.
  int64_t idle_timeout_ms = 5'000;
  bool use_bdat = true;
  // TLS to MX hosts (routes carry their own, NextHop::security). Opportunistic
  // by default: most MX hosts offer STARTTLS with certificates no one can
  // check against the MX name (RFC 7435), and cleartext still delivers.
  tls::ClientPolicy tls_policy = tls::ClientPolicy::kMay;
  std::string tls_ca_file;  // empty: the system bundle
  // Under "may", a host whose handshake failed is retried once in cleartext
  // and then reached in cleartext without trying TLS for this long. A broken
  // TLS stack is rarely repaired within minutes; an hour costs one failed
  // handshake per host per hour and notices a repair within the retry cap.
  int64_t tls_fallback_ms = 3'600'000;
  // Retries: exponential from the initial delay, capped, with +-20% jitter
  // so a burst of deferrals does not return in lockstep. Exim and Postfix
  // start at minutes and cap at about an hour; so do we.
  int64_t retry_initial_ms = 60'000;
  int64_t retry_max_ms = 3'600'000;
  // Consecutive connection failures that put a destination in backoff: new
  // jobs are deferred at once until one probe connection succeeds.
  int destination_failures_max = 5;
  int64_t destination_backoff_ms = 60'000;
};

}  // namespace ringmta::relay

#endif  // RINGMTA_MTA_RELAY_RELAY_CONFIG_H_
