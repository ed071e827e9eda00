#include "tools/loadgen/load_options.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "mta/base/command_line.h"
#include "tools/loadgen/message_builder.h"

namespace ringmta::loadgen {

const char kLoadUsage[] = R"(usage: loadgen --server HOST:PORT [options]
SMTP load generator on the ringmta io_uring engine. Closed loop by default:
every session sends its next message as soon as the last one is answered.
  --server HOST:PORT     where to send (IPv4 or [IPv6])
  --sessions N           concurrent connections (default 1)
  --messages N           messages in total (default 1000)
  --duration SECONDS     run for this long instead of --messages
  --per-connection N     messages per connection, then QUIT and reconnect (0: no limit)
  --rate N               open loop: start N messages/s (sessions are the pool)
  --size BYTES           message size: 1024, 1K, 10K, 100K, 1M (default 1K)
  --recipients N         recipients per message (default 1)
  --threads N            threads, each with its own ring (default 1)
  --bdat                 send BDAT LAST instead of DATA when CHUNKING is offered
  --no-pipelining        one command at a time even when PIPELINING is offered
  --timeout-ms N         per reply and per send (default 60000)
  --helo NAME --from ADDRESS --to-domain DOMAIN
  --starttls             STARTTLS first (certificates are not checked); a server
                         that does not offer it is an error, never cleartext
  --handshake-only       measure TLS handshakes: each of --messages is a connection
                         (EHLO, STARTTLS, handshake, QUIT); implies --starttls
  --tls-resume           offer the previous session (default: every handshake full)
  --json                 one JSON object on stdout instead of the text report
Latency is per accepted message, from the last byte of the message (".") or
BDAT LAST chunk handed to the kernel until the reply to it.
)";

absl::StatusOr<LoadOptions> ParseLoadOptions(const std::vector<std::string>& arguments,
                                             bool* help) {
  LoadOptions options;
  *help = false;
  for (size_t i = 0; i < arguments.size(); ++i) {
    const std::string& argument = arguments[i];
    std::string value;
    absl::Status error;
    int64_t number = 0;
    if (argument == "--help" || argument == "-h") {
      *help = true;
    } else if (argument == "--bdat") {
      options.bdat = true;
    } else if (argument == "--no-pipelining") {
      options.pipelining = false;
    } else if (argument == "--starttls") {
      options.starttls = true;
    } else if (argument == "--handshake-only") {
      options.starttls = true;
      options.handshake_only = true;
    } else if (argument == "--tls-resume") {
      options.tls_resume = true;
    } else if (argument == "--json") {
      options.json = true;
    } else if (TakeFlagValue(arguments, &i, "--server", &value, &error)) {
      options.server = value;
    } else if (TakeFlagValue(arguments, &i, "--sessions", &value, &error)) {
      if (!absl::SimpleAtoi(value, &number) || number < 1 || number > 100'000) {
        return BadFlagValue("--sessions", value, "a number from 1 to 100000");
      }
      options.sessions = static_cast<int>(number);
    } else if (TakeFlagValue(arguments, &i, "--messages", &value, &error)) {
      if (!absl::SimpleAtoi(value, &number) || number < 1) {
        return BadFlagValue("--messages", value, "a positive number");
      }
      options.messages = static_cast<uint64_t>(number);
    } else if (TakeFlagValue(arguments, &i, "--duration", &value, &error)) {
      if (!absl::SimpleAtod(value, &options.duration_s) || !(options.duration_s > 0)) {
        return BadFlagValue("--duration", value, "positive seconds");
      }
    } else if (TakeFlagValue(arguments, &i, "--per-connection", &value, &error)) {
      if (!absl::SimpleAtoi(value, &number) || number < 0) {
        return BadFlagValue("--per-connection", value, "a number, 0 for no limit");
      }
      options.per_connection = static_cast<uint64_t>(number);
    } else if (TakeFlagValue(arguments, &i, "--rate", &value, &error)) {
      if (!absl::SimpleAtod(value, &options.rate_per_s) || !(options.rate_per_s > 0)) {
        return BadFlagValue("--rate", value, "positive messages per second");
      }
    } else if (TakeFlagValue(arguments, &i, "--size", &value, &error)) {
      if (!ParseSize(value, &options.size_bytes)) {
        return BadFlagValue("--size", value, "a size such as 1024, 10K or 1M (at most 256M)");
      }
    } else if (TakeFlagValue(arguments, &i, "--recipients", &value, &error)) {
      if (!absl::SimpleAtoi(value, &number) || number < 1 || number > 1000) {
        return BadFlagValue("--recipients", value, "a number from 1 to 1000");
      }
      options.recipients = static_cast<int>(number);
    } else if (TakeFlagValue(arguments, &i, "--threads", &value, &error)) {
      if (!absl::SimpleAtoi(value, &number) || number < 1 || number > 64) {
        return BadFlagValue("--threads", value, "a number from 1 to 64");
      }
      options.threads = static_cast<int>(number);
    } else if (TakeFlagValue(arguments, &i, "--timeout-ms", &value, &error)) {
      if (!absl::SimpleAtoi(value, &number) || number < 1) {
        return BadFlagValue("--timeout-ms", value, "positive milliseconds");
      }
      options.timeout_ms = number;
    } else if (TakeFlagValue(arguments, &i, "--helo", &value, &error)) {
      options.helo = value;
    } else if (TakeFlagValue(arguments, &i, "--from", &value, &error)) {
      options.sender = value;
    } else if (TakeFlagValue(arguments, &i, "--to-domain", &value, &error)) {
      options.recipient_domain = value;
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown flag '", argument, "' (see --help)"));
    }
    if (!error.ok()) return error;  // a trailing flag without its value
  }
  if (options.tls_resume && !options.starttls) {
    return absl::InvalidArgumentError("--tls-resume: needs --starttls or --handshake-only");
  }
  if (options.threads > options.sessions) {
    return absl::InvalidArgumentError("--threads: more threads than --sessions");
  }
  return options;
}

}  // namespace ringmta::loadgen
