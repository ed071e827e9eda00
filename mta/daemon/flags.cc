#include "mta/daemon/flags.h"

#include <charconv>

#include "mta/base/command_line.h"

namespace ringmta::daemon {
namespace {

}  // namespace

absl::StatusOr<Flags> ParseFlags(const std::vector<std::string>& arguments) {
  Flags flags;
  for (size_t i = 0; i < arguments.size(); ++i) {
    const std::string& argument = arguments[i];
    std::string value;
    absl::Status error = absl::OkStatus();
    if (argument == "--help" || argument == "-h") {
      flags.help = true;
    } else if (argument == "--version") {
      flags.version = true;
    } else if (TakeFlagValue(arguments, &i, "--listen", &value, &error)) {
      if (error.ok()) flags.listen.push_back(value);
    } else if (TakeFlagValue(arguments, &i, "--shards", &value, &error)) {
      int shards = 0;
      auto [end, parse_error] = std::from_chars(value.data(), value.data() + value.size(), shards);
      if (error.ok() && (parse_error != std::errc() || end != value.data() + value.size())) {
        error = absl::InvalidArgumentError("--shards needs a number, got '" + value + "'");
      }
      flags.shards = shards;
    } else if (TakeFlagValue(arguments, &i, "--spool", &value, &error)) {
      flags.spool = value;
    } else if (TakeFlagValue(arguments, &i, "--config", &value, &error)) {
      flags.config_file = value;
    } else if (TakeFlagValue(arguments, &i, "--check-config", &value, &error)) {
      flags.check_config_file = value;
    } else if (TakeFlagValue(arguments, &i, "--hostname", &value, &error)) {
      flags.hostname = value;
    } else if (TakeFlagValue(arguments, &i, "--log-level", &value, &error)) {
      flags.log_level = value;
    } else if (TakeFlagValue(arguments, &i, "--smarthost", &value, &error)) {
      flags.smarthost = value;
    } else if (TakeFlagValue(arguments, &i, "--tls-cert", &value, &error)) {
      flags.tls_cert = value;
    } else if (TakeFlagValue(arguments, &i, "--tls-key", &value, &error)) {
      flags.tls_key = value;
    } else if (TakeFlagValue(arguments, &i, "--metrics-listen", &value, &error)) {
      flags.metrics_listen = value;
    } else if (TakeFlagValue(arguments, &i, "--delivery-log", &value, &error)) {
      flags.delivery_log = value;
    } else if (TakeFlagValue(arguments, &i, "--admin-socket", &value, &error)) {
      flags.admin_socket = value;
    } else {
      error = absl::InvalidArgumentError("unknown argument '" + argument + "'");
    }
    if (!error.ok()) return error;
  }
  return flags;
}

void ApplyFlags(const Flags& flags, DaemonConfig* config) {
  if (!flags.listen.empty()) config->listen = flags.listen;
  if (flags.shards) config->shards = *flags.shards;
  if (flags.spool) config->spool = *flags.spool;
  if (flags.hostname) config->hostname = *flags.hostname;
  if (flags.log_level) config->log_level = *flags.log_level;
  if (flags.smarthost) config->smarthost = *flags.smarthost;
  if (flags.tls_cert) config->tls_cert_file = *flags.tls_cert;
  if (flags.tls_key) config->tls_key_file = *flags.tls_key;
  if (flags.metrics_listen) config->metrics_listen = *flags.metrics_listen;
  if (flags.delivery_log) config->delivery_log = *flags.delivery_log;
  if (flags.admin_socket) config->admin_socket = *flags.admin_socket;
}

std::string Usage() {
  return R"(usage: ringmta [flags]

Accepts SMTP on every shard (one thread and io_uring per core) and relays it.

  --listen ADDR:PORT     listen address, repeatable (default 127.0.0.1:2525;
                         IPv6 as [::1]:2525)
  --shards N             shards (threads); 0 = one per CPU (default)
  --spool DIR            queue directory (default ./var/spool)
  --hostname NAME        name in the greeting and Received: headers
  --smarthost HOST:PORT  relay all mail there instead of to MX hosts
  --tls-cert FILE        PEM certificate chain: offer STARTTLS (with --tls-key);
                         also serves submission.tls_listen (implicit TLS)
  --tls-key FILE         PEM private key (RSA or ECDSA)
  --metrics-listen ADDR:PORT  serve Prometheus /metrics there (loopback)
  --delivery-log FILE    append one JSON line per delivery event (reopened
                         on SIGHUP)
  --admin-socket PATH    control socket for ringctl (default SPOOL/ringmta.sock)
  --config FILE          TOML configuration (flags override it)
  --check-config FILE    validate FILE and exit (0 = valid)
  --log-level LEVEL      debug | info | warning | error (default info)
  --version, --help

Signals: SIGHUP reloads the configuration (routes, limits, certificate) and
reopens the delivery log. SIGTERM and SIGINT drain: stop accepting, let
transactions and deliveries under way finish (server.drain_timeout_ms), then
exit; a second one stops at once.
Started as root, set server.user in the config file: ringmta binds its ports
and loads its keys, then drops to that user before accepting anything.
)";
}

}  // namespace ringmta::daemon
