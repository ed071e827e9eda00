#include "tools/sink/sink_options.h"

#include <string_view>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "mta/base/command_line.h"

namespace ringmta::sink {

const char kSinkUsage[] = R"(usage: sink [options]
An SMTP server that accepts mail and throws it away, counting it: the far
end of a benchmark. Runs the project's own server session (mta/server)
over the io_uring engine, with a sink in place of the queue.
  --listen ADDRESS:PORT         default 127.0.0.1:0 (any free port)
  --shards N                    threads (default 1)
  --hostname NAME               in the greeting (default sink.test)
  --port-file PATH              write the bound port here once listening
  --stats-file PATH             write the counts here (JSON) on SIGUSR1 and at exit
  --greeting-delay-ms N         tarpit: wait before the 220 greeting
  --reply-delay-ms N            wait before answering the end of each message
  --rcpt-tempfail-percent P     refuse this share of recipients with 451
  --rcpt-permfail-percent P     ... with 550
  --message-tempfail-percent P  refuse this share of messages at the end of data with 451
  --message-permfail-percent P  ... with 554
  --seed N                      seeds the refusal choices (default 1)
  --tls-cert PEM --tls-key PEM  offer STARTTLS with this certificate
  --quiet                       no counts on stderr at exit
Signals: SIGUSR1 writes the counts; SIGTERM and SIGINT write them and stop.
)";

namespace {

bool ParsePercent(const std::string& value, double* percent) {
  return absl::SimpleAtod(value, percent) && *percent >= 0 && *percent <= 100;
}

// The delay flags: bounded so a typo cannot park every session for a day.
bool ParseDelay(const std::string& value, int64_t* delay_ms) {
  return absl::SimpleAtoi(value, delay_ms) && *delay_ms >= 0 && *delay_ms <= 600'000;
}

}  // namespace

absl::StatusOr<SinkOptions> ParseSinkOptions(const std::vector<std::string>& arguments,
                                             bool* help) {
  SinkOptions options;
  *help = false;
  for (size_t i = 0; i < arguments.size(); ++i) {
    const std::string& argument = arguments[i];
    std::string value;
    absl::Status error;
    int64_t number = 0;
    if (argument == "--help" || argument == "-h") {
      *help = true;
    } else if (argument == "--quiet") {
      options.quiet = true;
    } else if (TakeFlagValue(arguments, &i, "--listen", &value, &error)) {
      options.listen = value;
    } else if (TakeFlagValue(arguments, &i, "--shards", &value, &error)) {
      if (!absl::SimpleAtoi(value, &number) || number < 1 || number > 64) {
        return BadFlagValue("--shards", value, "a number from 1 to 64");
      }
      options.shards = static_cast<int>(number);
    } else if (TakeFlagValue(arguments, &i, "--hostname", &value, &error)) {
      options.hostname = value;
    } else if (TakeFlagValue(arguments, &i, "--port-file", &value, &error)) {
      options.port_file = value;
    } else if (TakeFlagValue(arguments, &i, "--stats-file", &value, &error)) {
      options.stats_file = value;
    } else if (TakeFlagValue(arguments, &i, "--greeting-delay-ms", &value, &error)) {
      if (!ParseDelay(value, &options.greeting_delay_ms)) {
        return BadFlagValue("--greeting-delay-ms", value, "milliseconds from 0 to 600000");
      }
    } else if (TakeFlagValue(arguments, &i, "--reply-delay-ms", &value, &error)) {
      if (!ParseDelay(value, &options.reply_delay_ms)) {
        return BadFlagValue("--reply-delay-ms", value, "milliseconds from 0 to 600000");
      }
    } else if (TakeFlagValue(arguments, &i, "--rcpt-tempfail-percent", &value, &error)) {
      if (!ParsePercent(value, &options.rcpt_tempfail_percent)) {
        return BadFlagValue("--rcpt-tempfail-percent", value, "a percentage 0-100");
      }
    } else if (TakeFlagValue(arguments, &i, "--rcpt-permfail-percent", &value, &error)) {
      if (!ParsePercent(value, &options.rcpt_permfail_percent)) {
        return BadFlagValue("--rcpt-permfail-percent", value, "a percentage 0-100");
      }
    } else if (TakeFlagValue(arguments, &i, "--message-tempfail-percent", &value, &error)) {
      if (!ParsePercent(value, &options.message_tempfail_percent)) {
        return BadFlagValue("--message-tempfail-percent", value, "a percentage 0-100");
      }
    } else if (TakeFlagValue(arguments, &i, "--message-permfail-percent", &value, &error)) {
      if (!ParsePercent(value, &options.message_permfail_percent)) {
        return BadFlagValue("--message-permfail-percent", value, "a percentage 0-100");
      }
    } else if (TakeFlagValue(arguments, &i, "--seed", &value, &error)) {
      if (!absl::SimpleAtoi(value, &options.seed)) return BadFlagValue("--seed", value, "a number");
    } else if (TakeFlagValue(arguments, &i, "--tls-cert", &value, &error)) {
      options.tls_cert = value;
    } else if (TakeFlagValue(arguments, &i, "--tls-key", &value, &error)) {
      options.tls_key = value;
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown flag '", argument, "' (see --help)"));
    }
    if (!error.ok()) return error;  // a trailing flag without its value
  }
  if (options.tls_cert.empty() != options.tls_key.empty()) {
    return absl::InvalidArgumentError("--tls-cert and --tls-key go together");
  }
  if (options.rcpt_tempfail_percent + options.rcpt_permfail_percent > 100 ||
      options.message_tempfail_percent + options.message_permfail_percent > 100) {
    return absl::InvalidArgumentError("refusal percentages add up to more than 100");
  }
  return options;
}

}  // namespace ringmta::sink
