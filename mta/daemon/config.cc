#include "mta/daemon/config.h"

#include <fstream>
#include <sstream>

// Errors as values, like the rest of ringmta: parse() returns a result.
#define TOML_EXCEPTIONS 0
#include <toml++/toml.h>

#include "mta/base/status.h"
#include "mta/io/listener.h"

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
    {"smtp.idle_timeout_ms",
     [](const std::string& origin, const toml::node& node, const std::string& key,
        DaemonConfig* config) {
       return ReadInt(origin, node, key, 1000, limits::kSmtpServerIdleTimeoutMs,
                      &config->idle_timeout_ms);
     }},
    {"smtp.connections_per_shard_max",
     [](const std::string& origin, const toml::node& node, const std::string& key,
        DaemonConfig* config) {
       return ReadInt(origin, node, key, 1, limits::kConnectionsPerShardMax,
                      &config->connections_per_shard_max);
     }},
};

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
  for (const auto& [section_name, section] : parsed.table()) {
    std::string section_key(section_name.str());
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
  return names;
}

absl::Status ValidateConfig(const DaemonConfig& config) {
  if (config.listen.empty()) return absl::InvalidArgumentError("no listen address");
  if (config.listen.size() > static_cast<size_t>(limits::kListenersMax)) {
    return absl::InvalidArgumentError("at most " + std::to_string(limits::kListenersMax) +
                                      " listen addresses");
  }
  for (const std::string& address : config.listen) {
    absl::StatusOr<io::SocketAddress> parsed = io::SocketAddress::Parse(address);
    if (!parsed.ok()) return parsed.status();
  }
  if (config.shards < 0 || config.shards > limits::kShardsMax) {
    return absl::InvalidArgumentError("shards must be between 0 (one per CPU) and " +
                                      std::to_string(limits::kShardsMax));
  }
  if (config.spool.empty()) return absl::InvalidArgumentError("spool directory is empty");
  if (config.log_level != "debug" && config.log_level != "info" &&
      config.log_level != "warning" && config.log_level != "error") {
    return absl::InvalidArgumentError("log_level must be debug, info, warning or error");
  }
  return absl::OkStatus();
}

}  // namespace ringmta::daemon
