#include "tools/loadgen/load_report.h"

#include "absl/strings/str_format.h"

namespace ringmta::loadgen {
namespace {

double Ms(uint64_t ns) { return static_cast<double>(ns) / 1e6; }

double Rate(uint64_t count, double elapsed_s) {
  return elapsed_s > 0 ? static_cast<double>(count) / elapsed_s : 0.0;
}

}  // namespace

std::string TextReport(const LoadOptions& options, uint64_t size_bytes, const LoadStats& stats,
                       double elapsed_s) {
  const LatencyHistogram& latency = stats.ack_latency;
  std::string text = absl::StrFormat(
      "loadgen: %s loop, %d sessions, %d thread(s), %d-byte messages, %d recipient(s), %s\n",
      options.rate_per_s > 0 ? absl::StrFormat("open (%.0f msgs/s)", options.rate_per_s)
                             : std::string("closed"),
      options.sessions, options.threads, size_bytes, options.recipients,
      options.bdat ? "BDAT when offered" : "DATA");
  absl::StrAppendFormat(&text,
                        "  messages: %d attempted, %d accepted, %d refused 4xx, %d refused 5xx, "
                        "%d I/O errors; recipients refused 4xx %d, 5xx %d; %d connections",
                        stats.attempted, stats.accepted, stats.transient, stats.permanent,
                        stats.io_errors, stats.rcpt_transient, stats.rcpt_permanent,
                        stats.connections);
  if (options.rate_per_s > 0) absl::StrAppendFormat(&text, "; %d late", stats.late);
  absl::StrAppendFormat(&text, "\n  %.3f s: %.1f msgs/s accepted, %.2f MB/s\n", elapsed_s,
                        Rate(stats.accepted, elapsed_s),
                        Rate(stats.accepted_bytes, elapsed_s) / 1e6);
  absl::StrAppendFormat(&text,
                        "  ack latency ms: p50 %.3f  p90 %.3f  p99 %.3f  p99.9 %.3f  max %.3f  "
                        "mean %.3f\n",
                        Ms(latency.Percentile(0.5)), Ms(latency.Percentile(0.9)),
                        Ms(latency.Percentile(0.99)), Ms(latency.Percentile(0.999)),
                        Ms(latency.max()), latency.mean() / 1e6);
  if (options.starttls) {
    const LatencyHistogram& handshake = stats.handshake_latency;
    absl::StrAppendFormat(&text,
                          "  TLS: %d handshakes (%d resumed), %d failed; %.1f handshakes/s; "
                          "STARTTLS to handshake done ms: p50 %.3f  p99 %.3f  max %.3f\n",
                          stats.tls_handshakes, stats.tls_resumed, stats.tls_failures,
                          Rate(stats.tls_handshakes, elapsed_s), Ms(handshake.Percentile(0.5)),
                          Ms(handshake.Percentile(0.99)), Ms(handshake.max()));
  }
  return text;
}

std::string JsonReport(const LoadOptions& options, uint64_t size_bytes, const LoadStats& stats,
                       double elapsed_s) {
  const LatencyHistogram& latency = stats.ack_latency;
  return absl::StrFormat(
      "{\"mode\":\"%s\",\"rate_per_s\":%.3f,\"sessions\":%d,\"threads\":%d,\"size_bytes\":%d,"
      "\"recipients\":%d,\"bdat\":%s,\"attempted\":%d,\"accepted\":%d,\"transient\":%d,"
      "\"permanent\":%d,\"io_errors\":%d,\"rcpt_transient\":%d,\"rcpt_permanent\":%d,"
      "\"connections\":%d,\"late\":%d,\"accepted_bytes\":%d,\"elapsed_s\":%.6f,"
      "\"msgs_per_s\":%.3f,\"mb_per_s\":%.4f,\"latency_ms\":{\"p50\":%.4f,\"p90\":%.4f,"
      "\"p99\":%.4f,\"p999\":%.4f,\"max\":%.4f,\"mean\":%.4f,\"count\":%d},"
      "\"starttls\":%s,\"tls_handshakes\":%d,\"tls_resumed\":%d,\"tls_failures\":%d,"
      "\"handshakes_per_s\":%.3f,\"handshake_ms\":{\"hs_p50\":%.4f,\"hs_p99\":%.4f}}\n",
      options.rate_per_s > 0 ? "open" : "closed", options.rate_per_s, options.sessions,
      options.threads, size_bytes, options.recipients, options.bdat ? "true" : "false",
      stats.attempted, stats.accepted, stats.transient, stats.permanent, stats.io_errors,
      stats.rcpt_transient, stats.rcpt_permanent, stats.connections, stats.late,
      stats.accepted_bytes, elapsed_s, Rate(stats.accepted, elapsed_s),
      Rate(stats.accepted_bytes, elapsed_s) / 1e6, Ms(latency.Percentile(0.5)),
      Ms(latency.Percentile(0.9)), Ms(latency.Percentile(0.99)), Ms(latency.Percentile(0.999)),
      Ms(latency.max()), latency.mean() / 1e6, latency.count(),
      options.starttls ? "true" : "false", stats.tls_handshakes, stats.tls_resumed,
      stats.tls_failures, Rate(stats.tls_handshakes, elapsed_s),
      Ms(stats.handshake_latency.Percentile(0.5)), Ms(stats.handshake_latency.Percentile(0.99)));
}

}  // namespace ringmta::loadgen
