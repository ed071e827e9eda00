#include "tools/sink/sink_options.h"

#include <string_view>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

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

bool TakeValue(const std::vector<std::string>& arguments, size_t* i, std::string_view name,
               std::string* value) {
  const std::string& argument = arguments[*i];
  if (argument == name) {
    if (*i + 1 >= arguments.size()) return false;
    *value = arguments[++*i];
    return true;
  }
  if (argument.size() > name.size() && argument.compare(0, name.size(), name) == 0 &&
      argument[name.size()] == '=') {
    *value = argument.substr(name.size() + 1);
    return true;
  }
  return false;
}

absl::Status Bad(const std::string& flag, const std::string& value, const std::string& want) {
  return absl::InvalidArgumentError(absl::StrCat(flag, ": ", want, ", got '", value, "'"));
}

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
    int64_t number = 0;
    if (argument == "--help" || argument == "-h") {
      *help = true;
    } else if (argument == "--quiet") {
      options.quiet = true;
    } else if (TakeValue(arguments, &i, "--listen", &value)) {
      options.listen = value;
    } else if (TakeValue(arguments, &i, "--shards", &value)) {
      if (!absl::SimpleAtoi(value, &number) || number < 1 || number > 64) {
        return Bad("--shards", value, "a number from 1 to 64");
      }
      options.shards = static_cast<int>(number);
    } else if (TakeValue(arguments, &i, "--hostname", &value)) {
      options.hostname = value;
    } else if (TakeValue(arguments, &i, "--port-file", &value)) {
      options.port_file = value;
    } else if (TakeValue(arguments, &i, "--stats-file", &value)) {
      options.stats_file = value;
    } else if (TakeValue(arguments, &i, "--greeting-delay-ms", &value)) {
      if (!ParseDelay(value, &options.greeting_delay_ms)) {
        return Bad("--greeting-delay-ms", value, "milliseconds from 0 to 600000");
      }
    } else if (TakeValue(arguments, &i, "--reply-delay-ms", &value)) {
      if (!ParseDelay(value, &options.reply_delay_ms)) {
        return Bad("--reply-delay-ms", value, "milliseconds from 0 to 600000");
      }
    } else if (TakeValue(arguments, &i, "--rcpt-tempfail-percent", &value)) {
      if (!ParsePercent(value, &options.rcpt_tempfail_percent)) {
        return Bad("--rcpt-tempfail-percent", value, "a percentage 0-100");
      }
    } else if (TakeValue(arguments, &i, "--rcpt-permfail-percent", &value)) {
      if (!ParsePercent(value, &options.rcpt_permfail_percent)) {
        return Bad("--rcpt-permfail-percent", value, "a percentage 0-100");
      }
    } else if (TakeValue(arguments, &i, "--message-tempfail-percent", &value)) {
      if (!ParsePercent(value, &options.message_tempfail_percent)) {
        return Bad("--message-tempfail-percent", value, "a percentage 0-100");
      }
    } else if (TakeValue(arguments, &i, "--message-permfail-percent", &value)) {
      if (!ParsePercent(value, &options.message_permfail_percent)) {
        return Bad("--message-permfail-percent", value, "a percentage 0-100");
      }
    } else if (TakeValue(arguments, &i, "--seed", &value)) {
      if (!absl::SimpleAtoi(value, &options.seed)) return Bad("--seed", value, "a number");
    } else if (TakeValue(arguments, &i, "--tls-cert", &value)) {
      options.tls_cert = value;
    } else if (TakeValue(arguments, &i, "--tls-key", &value)) {
      options.tls_key = value;
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown or incomplete flag '", argument, "' (see --help)"));
    }
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
