// SinkOptions: the benchmark sink's command line. Not here: serving.
#ifndef RINGMTA_TOOLS_SINK_SINK_OPTIONS_H_
#define RINGMTA_TOOLS_SINK_SINK_OPTIONS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace ringmta::sink {

struct SinkOptions {
  std::string listen = "127.0.0.1:0";
  int shards = 1;
  std::string hostname = "sink.test";
  std::string port_file;   // the bound port, written once listening
  std::string stats_file;  // the counts, written on SIGUSR1 and at exit
  // Tarpitting: wait before the greeting, and before answering the end of
  // each message (the reply that carries the delivery's latency).
  int64_t greeting_delay_ms = 0;
  int64_t reply_delay_ms = 0;
  // Refusal mixes, in percent, decided per recipient (RCPT) and per message
  // (end of data), by a generator seeded with `seed`.
  double rcpt_tempfail_percent = 0;
  double rcpt_permfail_percent = 0;
  double message_tempfail_percent = 0;
  double message_permfail_percent = 0;
  uint64_t seed = 1;
  std::string tls_cert;  // both set: STARTTLS offered with this certificate
  std::string tls_key;
  bool quiet = false;
};

absl::StatusOr<SinkOptions> ParseSinkOptions(const std::vector<std::string>& arguments,
                                             bool* help);
extern const char kSinkUsage[];

}  // namespace ringmta::sink

#endif  // RINGMTA_TOOLS_SINK_SINK_OPTIONS_H_
