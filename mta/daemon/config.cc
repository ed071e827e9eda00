#include "mta/daemon/config.h"

#include <fstream>
#include <sstream>

// Errors as values, like the rest of ringmta: parse() returns a result.
#define TOML_EXCEPTIONS 0
#include <toml++/toml.h>

#include "mta/admin/http_metrics_server.h"
#include "mta/daemon/route_config.h"

#include "mta/base/status.h"
#include "mta/io/listener.h"
#include "mta/relay/route.h"
#include "mta/server/relay_policy.h"
#include "tls/context.h"

namespace ringmta::daemon {
namespace {

std::string Where(const std::string& origin, const toml::source_region& source) {
  return origin + ":" + std::to_string(source.begin.line);
}

absl::Status KeyError(const std::string& origin, const toml::node& node, const std::string& key,
                      const std::string& problem) {
  return absl::InvalidArgumentError(Where(origin, node.source()) + ": " + key + ": " + problem);
}

// Reads an integer key within [min, max] (config may only narrow limits).
template <typename T>
absl::Status ReadInt(const std::string& origin, const toml::node& node, const std::string& key,
                     int64_t min, int64_t max, T* out) {
  std::optional<int64_t> value = node.value<int64_t>();
  if (!node.is_integer() || !value) return KeyError(origin, node, key, "must be an integer");
  if (*value < min || *value > max) {
    return KeyError(origin, node, key,
                    "must be between " + std::to_string(min) + " and " + std::to_string(max));
  }
  *out = static_cast<T>(*value);
  return absl::OkStatus();
}

absl::Status ReadString(const std::string& origin, const toml::node& node, const std::string& key,
                        std::string* out) {
  if (!node.is_string()) return KeyError(origin, node, key, "must be a string");
  *out = *node.value<std::string>();
  return absl::OkStatus();
}

absl::Status ReadBool(const std::string& origin, const toml::node& node, const std::string& key,
                      bool* out) {
  if (!node.is_boolean()) return KeyError(origin, node, key, "must be true or false");
  *out = *node.value<bool>();
  return absl::OkStatus();
}

// An array of strings, each checked by `check` (which names what is wrong).
absl::Status ReadStringArray(const std::string& origin, const toml::node& node,
                             const std::string& key, const char* what,
                             absl::Status (*check)(const std::string& text),
                             std::vector<std::string>* out) {
  const toml::array* list = node.as_array();
  if (list == nullptr) return KeyError(origin, node, key, std::string("must be an array of ") + what);
  out->clear();
  for (const toml::node& item : *list) {
    std::string text;
    RETURN_IF_ERROR(ReadString(origin, item, key, &text));
    if (absl::Status valid = check(text); !valid.ok()) {
      return KeyError(origin, item, key, std::string(valid.message()));
    }
    out->push_back(text);
  }
  return absl::OkStatus();
}

absl::Status CheckNetwork(const std::string& text) {
  return server::Network::Parse(text).status();
}

absl::Status CheckListenAddress(const std::string& text) {
  return io::SocketAddress::Parse(text).status();
}

// One row per key: the single list the parser, --check-config and the
// docs test (every key documented in docs/config.md) all read.
struct KeySpec {
  const char* name;  // "section.key"
  absl::Status (*read)(const std::string& origin, const toml::node& node, const std::string& key,
                       DaemonConfig* config);
};

const KeySpec kKeys[] = {
    {"server.listen",
     [](const std::string& origin, const toml::node& node, const std::string& key,
        DaemonConfig* config) {
       const toml::array* list = node.as_array();
       if (list == nullptr || list->empty()) {
         return KeyError(origin, node, key, "must be a non-empty array of \"HOST:PORT\" strings");
       }
       config->listen.clear();
       for (const toml::node& item : *list) {
         std::string address;
         RETURN_IF_ERROR(ReadString(origin, item, key, &address));
         config->listen.push_back(address);
       }
       return absl::OkStatus();
     }},
    {"server.shards",
     [](const std::string& origin, const toml::node& node, const std::string& key,
        DaemonConfig* config) {
       return ReadInt(origin, node, key, 0, limits::kShardsMax, &config->shards);
     }},
    {"server.spool",
     [](const std::string& origin, const toml::node& node, const std::string& key,
        DaemonConfig* config) { return ReadString(origin, node, key, &config->spool); }},
    {"server.hostname",
     [](const std::string& origin, const toml::node& node, const std::string& key,
        DaemonConfig* config) { return ReadString(origin, node, key, &config->hostname); }},
    {"server.log_level",
     [](const std::string& origin, const toml::node& node, const std::string& key,
        DaemonConfig* config) { return ReadString(origin, node, key, &config->log_level); }},
    {"server.user",
     [](const std::string& origin, const toml::node& node, const std::string& key,
        DaemonConfig* config) { return ReadString(origin, node, key, &config->user); }},
    {"server.group",
     [](const std::string& origin, const toml::node& node, const std::string& key,
        DaemonConfig* config) { return ReadString(origin, node, key, &config->group); }},
    {"smtp.message_bytes_max",
     [](const std::string& origin, const toml::node& node, const std::string& key,
        DaemonConfig* config) {
       return ReadInt(origin, node, key, 1024, static_cast<int64_t>(limits::kMessageBytesMax),
                      &config->message_bytes_max);
     }},
    {"smtp.recipients_max",
     [](const std::string& origin, const toml::node& node, const std::string& key,
        DaemonConfig* config) {
       return ReadInt(origin, node, key, limits::kSmtpRecipientsMin, limits::kSmtpRecipientsMax,
                      &config->recipients_max);
     }},
    {"smtp.errors_max",
     [](const std::string& origin, const toml::node& node, const std::string& key,
        DaemonConfig* config) {
       return ReadInt(origin, node, key, 1, limits::kSmtpErrorsMax, &config->errors_max);
     }},
    {"smtp.junk_commands_max",
     [](const std::string& origin, const toml::node& node, const std::string& key,
        DaemonConfig* config) {
       return ReadInt(origin, node, key, 1, limits::kSmtpJunkCommandsMax,
                      &config->junk_commands_max);
     }},
    {"smtp.command_timeout_ms",
     [](const std::string& origin, const toml::node& node, const std::string& key,
        DaemonConfig* config) {
       return ReadInt(origin, node, key, limits::kSmtpServerTimeoutMsMin,
                      limits::kSmtpServerCommandTimeoutMs, &config->command_timeout_ms);
     }},
    // The older name of smtp.command_timeout_ms, kept so existing files load.
    {"smtp.idle_timeout_ms",
     [](const std::string& origin, const toml::node& node, const std::string& key,
        DaemonConfig* config) {
       return ReadInt(origin, node, key, limits::kSmtpServerTimeoutMsMin,
                      limits::kSmtpServerCommandTimeoutMs, &config->command_timeout_ms);
     }},
    {"smtp.data_timeout_ms",
     [](const std::string& origin, const toml::node& node, const std::string& key,
        DaemonConfig* config) {
       return ReadInt(origin, node, key, limits::kSmtpServerTimeoutMsMin,
                      limits::kSmtpServerDataBlockTimeoutMs, &config->data_timeout_ms);
     }},
    {"smtp.tls_handshake_timeout_ms",
     [](const std::string& origin, const toml::node& node, const std::string& key,
        DaemonConfig* config) {
       return ReadInt(origin, node, key, limits::kSmtpServerTimeoutMsMin,
                      limits::kSmtpServerTlsHandshakeTimeoutMs, &config->tls_handshake_timeout_ms);
     }},
    {"smtp.connections_per_shard_max",
     [](const std::string& origin, const toml::node& node, const std::string& key,
        DaemonConfig* config) {
       return ReadInt(origin, node, key, 1, limits::kConnectionsPerShardMax,
                      &config->connections_per_shard_max);
     }},
    {"smtp.connections_per_client_max",
     [](const std::string& origin, const toml::node& node, const std::string& key,
        DaemonConfig* config) {
       return ReadInt(origin, node, key, 1, limits::kConnectionsPerShardMax,
                      &config->connections_per_client_max);
     }},
    {"relay.networks",
     [](const std::string& origin, const toml::node& node, const std::string& key,
        DaemonConfig* config) {
       return ReadStringArray(origin, node, key, "CIDR strings", &CheckNetwork,
                              &config->relay_networks);
     }},
    {"relay.allow_open_relay",
     [](const std::string& origin, const toml::node& node, const std::string& key,
        DaemonConfig* config) { return ReadBool(origin, node, key, &config->allow_open_relay); }},
    {"auth.credentials_file",
     [](const std::string& origin, const toml::node& node, const std::string& key,
        DaemonConfig* config) {
       return ReadString(origin, node, key, &config->auth_credentials_file);
     }},
    {"auth.allow_plaintext",
     [](const std::string& origin, const toml::node& node, const std::string& key,
        DaemonConfig* config) {
       return ReadBool(origin, node, key, &config->auth_allow_plaintext);
     }},
    {"auth.failures_max",
     [](const std::string& origin, const toml::node& node, const std::string& key,
        DaemonConfig* config) {
       // A failed AUTH is an error of its own kind: never more than errors.
       return ReadInt(origin, node, key, 1, limits::kSmtpErrorsMax, &config->auth_failures_max);
     }},
    {"tls.cert_file",
     [](const std::string& origin, const toml::node& node, const std::string& key,
        DaemonConfig* config) { return ReadString(origin, node, key, &config->tls_cert_file); }},
    {"tls.key_file",
     [](const std::string& origin, const toml::node& node, const std::string& key,
        DaemonConfig* config) { return ReadString(origin, node, key, &config->tls_key_file); }},
    {"queue.messages_max",
     [](const std::string& origin, const toml::node& node, const std::string& key,
        DaemonConfig* config) {
       return ReadInt(origin, node, key, 1, int64_t{1} << 40, &config->queue_messages_max);
     }},
    {"queue.bytes_max",
     [](const std::string& origin, const toml::node& node, const std::string& key,
        DaemonConfig* config) {
       return ReadInt(origin, node, key, 1, int64_t{1} << 50, &config->queue_bytes_max);
     }},
    {"queue.lifetime_ms",
     [](const std::string& origin, const toml::node& node, const std::string& key,
        DaemonConfig* config) {
       // Up to 60 days: longer only hides a destination that will never answer.
       return ReadInt(origin, node, key, 1000, int64_t{60} * 24 * 3600 * 1000,
                      &config->queue_lifetime_ms);
     }},
    {"delivery.smarthost",
     [](const std::string& origin, const toml::node& node, const std::string& key,
        DaemonConfig* config) { return ReadString(origin, node, key, &config->smarthost); }},
    {"delivery.dns_servers",
     [](const std::string& origin, const toml::node& node, const std::string& key,
        DaemonConfig* config) {
       const toml::array* list = node.as_array();
       if (list == nullptr) return KeyError(origin, node, key, "must be an array of \"IP:PORT\"");
       config->delivery_dns_servers.clear();
       for (const toml::node& item : *list) {
         std::string server;
         RETURN_IF_ERROR(ReadString(origin, item, key, &server));
         config->delivery_dns_servers.push_back(server);
       }
       return absl::OkStatus();
     }},
    {"delivery.mx_port",
     [](const std::string& origin, const toml::node& node, const std::string& key,
        DaemonConfig* config) { return ReadInt(origin, node, key, 1, 65535, &config->delivery_mx_port); }},
    {"delivery.retry_initial_ms",
     [](const std::string& origin, const toml::node& node, const std::string& key,
        DaemonConfig* config) {
       return ReadInt(origin, node, key, 100, 86'400'000, &config->delivery_retry_initial_ms);
     }},
    {"delivery.retry_max_ms",
     [](const std::string& origin, const toml::node& node, const std::string& key,
        DaemonConfig* config) {
       return ReadInt(origin, node, key, 100, 86'400'000, &config->delivery_retry_max_ms);
     }},
    {"delivery.idle_timeout_ms",
     [](const std::string& origin, const toml::node& node, const std::string& key,
        DaemonConfig* config) {
       return ReadInt(origin, node, key, 0, 300'000, &config->delivery_idle_timeout_ms);
     }},
    {"delivery.connections_per_destination_max",
     [](const std::string& origin, const toml::node& node, const std::string& key,
        DaemonConfig* config) {
       return ReadInt(origin, node, key, 1, 1000, &config->delivery_connections_per_destination_max);
     }},
    {"delivery.messages_per_connection_max",
     [](const std::string& origin, const toml::node& node, const std::string& key,
        DaemonConfig* config) {
       return ReadInt(origin, node, key, 1, limits::kDestinationMessagesPerConnectionMax,
                      &config->delivery_messages_per_connection_max);
     }},
    {"delivery.messages_per_second_per_destination",
     [](const std::string& origin, const toml::node& node, const std::string& key,
        DaemonConfig* config) {
       return ReadInt(origin, node, key, 0, limits::kDestinationMessagesPerSecondMax,
                      &config->delivery_messages_per_second_per_destination);
     }},
    {"delivery.connections_per_second_per_destination",
     [](const std::string& origin, const toml::node& node, const std::string& key,
        DaemonConfig* config) {
       return ReadInt(origin, node, key, 0, limits::kDestinationConnectionsPerSecondMax,
                      &config->delivery_connections_per_second_per_destination);
     }},
    {"delivery.destination_forget_ms",
     [](const std::string& origin, const toml::node& node, const std::string& key,
        DaemonConfig* config) {
       return ReadInt(origin, node, key, limits::kDestinationForgetMsMin,
                      limits::kDestinationForgetMsMax, &config->delivery_destination_forget_ms);
     }},
    {"delivery.tls",
     [](const std::string& origin, const toml::node& node, const std::string& key,
        DaemonConfig* config) {
       RETURN_IF_ERROR(ReadString(origin, node, key, &config->delivery_tls));
       if (!tls::ParseClientPolicy(config->delivery_tls).ok()) {
         return KeyError(origin, node, key, "must be \"none\", \"may\", \"encrypt\" or \"verify\"");
       }
       return absl::OkStatus();
     }},
    {"delivery.tls_ca_file",
     [](const std::string& origin, const toml::node& node, const std::string& key,
        DaemonConfig* config) {
       RETURN_IF_ERROR(ReadString(origin, node, key, &config->delivery_tls_ca_file));
       if (config->delivery_tls_ca_file.empty()) return absl::OkStatus();
       // Loaded now so a typo is a start-up error, not deferred mail.
       tls::ClientOptions options;
       options.policy = tls::ClientPolicy::kVerify;
       options.ca_file = config->delivery_tls_ca_file;
       if (absl::Status loaded = tls::ClientContext::Create(options).status(); !loaded.ok()) {
         return KeyError(origin, node, key, std::string(loaded.message()));
       }
       return absl::OkStatus();
     }},
    {"delivery.tls_fallback_ms",
     [](const std::string& origin, const toml::node& node, const std::string& key,
        DaemonConfig* config) {
       return ReadInt(origin, node, key, 0, 7 * 86'400'000, &config->delivery_tls_fallback_ms);
     }},
    {"server.drain_timeout_ms",
     [](const std::string& origin, const toml::node& node, const std::string& key,
        DaemonConfig* config) {
       return ReadInt(origin, node, key, 0, 3'600'000, &config->drain_timeout_ms);
     }},
    {"admin.socket",
     [](const std::string& origin, const toml::node& node, const std::string& key,
        DaemonConfig* config) { return ReadString(origin, node, key, &config->admin_socket); }},
    {"submission.listen",
     [](const std::string& origin, const toml::node& node, const std::string& key,
        DaemonConfig* config) {
       return ReadStringArray(origin, node, key, "\"HOST:PORT\" strings", &CheckListenAddress,
                              &config->submission_listen);
     }},
    {"submission.tls_listen",
     [](const std::string& origin, const toml::node& node, const std::string& key,
        DaemonConfig* config) {
       return ReadStringArray(origin, node, key, "\"HOST:PORT\" strings", &CheckListenAddress,
                              &config->submission_tls_listen);
     }},
    {"admin.metrics_listen",
     [](const std::string& origin, const toml::node& node, const std::string& key,
        DaemonConfig* config) {
       RETURN_IF_ERROR(ReadString(origin, node, key, &config->metrics_listen));
       if (config->metrics_listen.empty()) return absl::OkStatus();
       absl::Status valid = CheckListenAddress(config->metrics_listen);
       return valid.ok() ? valid : KeyError(origin, node, key, std::string(valid.message()));
     }},
    {"admin.metrics_allow_non_loopback",
     [](const std::string& origin, const toml::node& node, const std::string& key,
        DaemonConfig* config) {
       return ReadBool(origin, node, key, &config->metrics_allow_non_loopback);
     }},
    {"admin.metrics_destinations_max",
     [](const std::string& origin, const toml::node& node, const std::string& key,
        DaemonConfig* config) {
       return ReadInt(origin, node, key, 0, limits::kMetricsDestinationsShownMax,
                      &config->metrics_destinations_max);
     }},
    {"log.delivery_log",
     [](const std::string& origin, const toml::node& node, const std::string& key,
        DaemonConfig* config) { return ReadString(origin, node, key, &config->delivery_log); }},
};

// Older key names still read, each with its current name: setting both is
// an error, since which one won would be a guess.
const std::pair<const char*, const char*> kKeyAliases[] = {
    {"smtp.idle_timeout_ms", "smtp.command_timeout_ms"},
};

absl::Status CheckAliases(const std::string& origin, const toml::table& root) {
  for (const auto& [old_name, new_name] : kKeyAliases) {
    toml::node_view<const toml::node> old_node = root.at_path(old_name);
    if (old_node && root.at_path(new_name)) {
      return KeyError(origin, *old_node.node(), old_name,
                      std::string("is the older name of ") + new_name + "; set only one");
    }
  }
  return absl::OkStatus();
}

const KeySpec* FindKey(const std::string& name) {
  for (const KeySpec& spec : kKeys) {
    if (name == spec.name) return &spec;
  }
  return nullptr;
}

bool IsSection(const std::string& name) {
  for (const KeySpec& spec : kKeys) {
    if (std::string(spec.name).rfind(name + ".", 0) == 0) return true;
  }
  return false;
}

}  // namespace

absl::StatusOr<DaemonConfig> ParseConfig(const std::string& text, const std::string& origin) {
  toml::parse_result parsed = toml::parse(text, origin);
  if (!parsed) {
    const toml::parse_error& error = parsed.error();
    return absl::InvalidArgumentError(Where(origin, error.source()) + ": " +
                                      std::string(error.description()));
  }
  DaemonConfig config;
  RETURN_IF_ERROR(CheckAliases(origin, parsed.table()));
  for (const auto& [section_name, section] : parsed.table()) {
    std::string section_key(section_name.str());
    if (section_key == "route") {
      RETURN_IF_ERROR(ParseRoutes(origin, section, &config.routes));
      continue;
    }
    const toml::table* table = section.as_table();
    if (table == nullptr || !IsSection(section_key)) {
      return KeyError(origin, section, section_key,
                      table == nullptr ? "unknown top-level key" : "unknown section");
    }
    for (const auto& [name, node] : *table) {
      std::string key = section_key + "." + std::string(name.str());
      const KeySpec* spec = FindKey(key);
      if (spec == nullptr) return KeyError(origin, node, key, "unknown key");
      RETURN_IF_ERROR(spec->read(origin, node, key, &config));
    }
  }
  RETURN_IF_ERROR(ValidateConfig(config));
  return config;
}

absl::StatusOr<DaemonConfig> LoadConfigFile(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return absl::NotFoundError("cannot read config file " + path);
  std::ostringstream text;
  text << file.rdbuf();
  return ParseConfig(text.str(), path);
}

std::vector<std::string> KnownConfigKeys() {
  std::vector<std::string> names;
  for (const KeySpec& spec : kKeys) names.push_back(spec.name);
  for (std::string& name : KnownRouteKeys()) names.push_back(std::move(name));
  return names;
}

namespace {

// Implicit TLS submission (RFC 8314 §3.3): a listener that can never finish
// a handshake, or never accept a message, is refused at start.
absl::Status ValidateImplicitTls(const DaemonConfig& config) {
  if (config.submission_tls_listen.empty()) return absl::OkStatus();
  for (const std::string& address : config.submission_tls_listen) {
    absl::StatusOr<io::SocketAddress> parsed = io::SocketAddress::Parse(address);
    if (!parsed.ok()) return absl::InvalidArgumentError("submission.tls_listen: " +
                                                        std::string(parsed.status().message()));
  }
  if (config.tls_cert_file.empty() || config.tls_key_file.empty()) {
    return absl::InvalidArgumentError(
        "submission.tls_listen needs a certificate: set tls.cert_file and tls.key_file");
  }
  if (config.auth_credentials_file.empty()) {
    return absl::InvalidArgumentError("submission.tls_listen needs auth.credentials_file");
  }
  return absl::OkStatus();
}

// An open relay is the one misconfiguration that turns a relay into a spam
// cannon within hours, so it is refused unless asked for by name. The rule
// is deliberately simple: any relay network with prefix length 0.
absl::Status ValidateRelayAndAuth(const DaemonConfig& config) {
  absl::StatusOr<std::vector<server::Network>> networks =
      server::ParseNetworks(config.relay_networks);
  if (!networks.ok()) return absl::InvalidArgumentError("relay.networks: " +
                                                        std::string(networks.status().message()));
  for (size_t i = 0; i < networks->size(); ++i) {
    if ((*networks)[i].CoversEverything() && !config.allow_open_relay) {
      return absl::InvalidArgumentError(
          "relay.networks: \"" + config.relay_networks[i] +
          "\" makes this an open relay (anyone may relay); refusing to start. Set "
          "relay.allow_open_relay = true if that is really meant");
    }
  }
  for (const std::string& address : config.submission_listen) {
    absl::StatusOr<io::SocketAddress> parsed = io::SocketAddress::Parse(address);
    if (!parsed.ok()) return absl::InvalidArgumentError("submission.listen: " +
                                                        std::string(parsed.status().message()));
  }
  // RFC 6409 §4.3: a submission port requires AUTH, so without credentials
  // it could never accept a message.
  if (!config.submission_listen.empty() && config.auth_credentials_file.empty()) {
    return absl::InvalidArgumentError("submission.listen needs auth.credentials_file");
  }
  RETURN_IF_ERROR(ValidateImplicitTls(config));
  if (config.auth_failures_max < 1 || config.auth_failures_max > limits::kSmtpErrorsMax) {
    return absl::InvalidArgumentError("auth.failures_max must be between 1 and " +
                                      std::to_string(limits::kSmtpErrorsMax));
  }
  return absl::OkStatus();
}

// /metrics has no authentication and names destinations, so it listens on
// loopback unless the operator says otherwise by name.
absl::Status ValidateMetrics(const DaemonConfig& config) {
  if (config.metrics_listen.empty()) return absl::OkStatus();
  absl::StatusOr<io::SocketAddress> address = io::SocketAddress::Parse(config.metrics_listen);
  if (!address.ok()) {
    return absl::InvalidArgumentError("admin.metrics_listen: " +
                                      std::string(address.status().message()));
  }
  if (!admin::IsLoopback(*address) && !config.metrics_allow_non_loopback) {
    return absl::InvalidArgumentError(
        "admin.metrics_listen: " + config.metrics_listen +
        " is not a loopback address and /metrics has no authentication; set "
        "admin.metrics_allow_non_loopback = true if that is really meant");
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateConfig(const DaemonConfig& config) {
  if (config.listen.empty()) return absl::InvalidArgumentError("no listen address");
  if (!config.smarthost.empty()) {
    absl::StatusOr<relay::NextHop> hop = relay::ParseNextHop(config.smarthost);
    if (!hop.ok()) return absl::InvalidArgumentError("smarthost: " + std::string(hop.status().message()));
  }
  for (const RouteConfig& route : config.routes) {
    if (route.domain == "*" && !config.smarthost.empty()) {
      return absl::InvalidArgumentError(
          "delivery.smarthost (or --smarthost) and the [[route]] for \"*\" at line " +
          std::to_string(route.line) + " both route every domain; keep one");
    }
  }
  if (!tls::ParseClientPolicy(config.delivery_tls).ok()) {
    return absl::InvalidArgumentError("delivery.tls must be none, may, encrypt or verify");
  }
  if (config.tls_cert_file.empty() != config.tls_key_file.empty()) {
    return absl::InvalidArgumentError("tls.cert_file and tls.key_file go together");
  }
  if (config.delivery_retry_max_ms < config.delivery_retry_initial_ms) {
    return absl::InvalidArgumentError("delivery.retry_max_ms is below delivery.retry_initial_ms");
  }
  if (config.listen.size() + config.submission_listen.size() +
          config.submission_tls_listen.size() >
      static_cast<size_t>(limits::kListenersMax)) {
    return absl::InvalidArgumentError("at most " + std::to_string(limits::kListenersMax) +
                                      " listen addresses (server and submission together)");
  }
  for (const std::string& address : config.listen) {
    absl::StatusOr<io::SocketAddress> parsed = io::SocketAddress::Parse(address);
    if (!parsed.ok()) return parsed.status();
  }
  RETURN_IF_ERROR(ValidateRelayAndAuth(config));
  RETURN_IF_ERROR(ValidateMetrics(config));
  if (config.shards < 0 || config.shards > limits::kShardsMax) {
    return absl::InvalidArgumentError("shards must be between 0 (one per CPU) and " +
                                      std::to_string(limits::kShardsMax));
  }
  if (config.spool.empty()) return absl::InvalidArgumentError("spool directory is empty");
  if (!config.group.empty() && config.user.empty()) {
    return absl::InvalidArgumentError("server.group needs server.user");
  }
  if (config.log_level != "debug" && config.log_level != "info" &&
      config.log_level != "warning" && config.log_level != "error") {
    return absl::InvalidArgumentError("log_level must be debug, info, warning or error");
  }
  return absl::OkStatus();
}

}  // namespace ringmta::daemon
