// LoadStats: what one load-generator thread counted. Each thread owns its
// own; the main thread merges them after the threads have joined.
#ifndef RINGMTA_TOOLS_LOADGEN_LOAD_STATS_H_
#define RINGMTA_TOOLS_LOADGEN_LOAD_STATS_H_

#include <cstdint>

#include "tools/loadgen/latency_histogram.h"

namespace ringmta::loadgen {

struct LoadStats {
  // Per message: its final outcome. attempted = accepted + transient +
  // permanent + io_errors.
  uint64_t attempted = 0;
  uint64_t accepted = 0;   // 2xx to the final dot / BDAT LAST
  uint64_t transient = 0;  // refused with 4xx (at MAIL, RCPT, DATA or the end)
  uint64_t permanent = 0;  // refused with 5xx
  uint64_t io_errors = 0;  // connect, send, receive, timeout or unparsable reply
  // Per recipient refusals (the message may still have gone to others).
  uint64_t rcpt_transient = 0;
  uint64_t rcpt_permanent = 0;
  uint64_t connections = 0;
  uint64_t accepted_bytes = 0;
  // Open loop only: messages that found no free session when they were due.
  uint64_t late = 0;
  // --starttls: handshakes completed (resumed ones among them) and failed
  // (STARTTLS refused or not offered, or the handshake failed).
  uint64_t tls_handshakes = 0;
  uint64_t tls_resumed = 0;
  uint64_t tls_failures = 0;
  LatencyHistogram ack_latency;
  LatencyHistogram handshake_latency;  // STARTTLS sent -> handshake done  // final dot / BDAT LAST sent -> reply, accepted only

  void Merge(const LoadStats& other) {
    attempted += other.attempted;
    accepted += other.accepted;
    transient += other.transient;
    permanent += other.permanent;
    io_errors += other.io_errors;
    rcpt_transient += other.rcpt_transient;
    rcpt_permanent += other.rcpt_permanent;
    connections += other.connections;
    accepted_bytes += other.accepted_bytes;
    late += other.late;
    tls_handshakes += other.tls_handshakes;
    tls_resumed += other.tls_resumed;
    tls_failures += other.tls_failures;
    ack_latency.Merge(other.ack_latency);
    handshake_latency.Merge(other.handshake_latency);
  }
};

}  // namespace ringmta::loadgen

#endif  // RINGMTA_TOOLS_LOADGEN_LOAD_STATS_H_
