#include "tools/ringctl/cli.h"

#include <cstdio>
#include <cstdlib>

#include "mta/base/command_line.h"

namespace ringmta::ringctl {
namespace {

using admin::Json;

bool IsQueueId(const std::string& text) {
  if (text.size() != 16) return false;
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) return false;
  }
  return true;
}

absl::Status Usage(const std::string& what) { return absl::InvalidArgumentError(what); }

// ID or DESTINATION as the one target of flush, delete and bounce.
absl::Status AddTarget(const std::string& text, Json* request) {
  if (IsQueueId(text)) {
    request->Set("id", text);
  } else if (text.find(':') != std::string::npos) {
    request->Set("destination", text);
  } else {
    return Usage("'" + text + "' is neither a message id (16 hex digits) nor a destination "
                 "(smarthost:HOST:PORT, mx:HOSTS or domain:NAME)");
  }
  return absl::OkStatus();
}

std::string Bytes(int64_t bytes) {
  char text[32];
  if (bytes < 1024) std::snprintf(text, sizeof text, "%lld B", static_cast<long long>(bytes));
  else if (bytes < 1024 * 1024) std::snprintf(text, sizeof text, "%.1f KiB", bytes / 1024.0);
  else if (bytes < 1024LL * 1024 * 1024) std::snprintf(text, sizeof text, "%.1f MiB", bytes / 1048576.0);
  else std::snprintf(text, sizeof text, "%.1f GiB", bytes / 1073741824.0);
  return text;
}

std::string Seconds(const Json* value) {
  if (value == nullptr || value->is_null()) return "-";
  int64_t s = value->as_int();
  char text[32];
  if (s < 120) std::snprintf(text, sizeof text, "%llds", static_cast<long long>(s));
  else if (s < 7200) std::snprintf(text, sizeof text, "%lldm", static_cast<long long>(s / 60));
  else if (s < 172800) std::snprintf(text, sizeof text, "%lldh%02lldm", static_cast<long long>(s / 3600), static_cast<long long>(s % 3600 / 60));
  else std::snprintf(text, sizeof text, "%lldd%02lldh", static_cast<long long>(s / 86400), static_cast<long long>(s % 86400 / 3600));
  return text;
}

std::string Text(const Json& object, const char* key) {
  const Json* value = object.Find(key);
  if (value == nullptr || value->is_null()) return "-";
  if (value->is_string()) return value->as_string().empty() ? "-" : value->as_string();
  if (value->is_bool()) return value->as_bool() ? "yes" : "no";
  return value->Serialize();
}

int64_t Int(const Json& object, const char* key) {
  const Json* value = object.Find(key);
  return value == nullptr || !value->is_number() ? 0 : value->as_int();
}

// Columns padded to their widest cell; the last column is not padded.
std::string Table(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths;
  for (const auto& row : rows) {
    if (widths.size() < row.size()) widths.resize(row.size(), 0);
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  std::string out;
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size(); ++i) {
      out += row[i];
      if (i + 1 < row.size()) out += std::string(widths[i] - row[i].size() + 2, ' ');
    }
    out += "\n";
  }
  return out;
}

std::string Joined(const Json* array) {
  std::string out;
  if (array == nullptr) return out;
  for (const Json& item : array->items()) {
    if (!out.empty()) out += ",";
    out += item.is_string() ? item.as_string() : item.Serialize();
  }
  return out;
}

std::string RenderStatus(const Json& r) {
  std::string out = Text(r, "version") + ", up " + Seconds(r.Find("uptime_s")) + ", " +
                    std::to_string(Int(r, "shards")) + " shards\n";
  out += Table({
      {"connections", std::to_string(Int(r, "connections"))},
      {"queue", std::to_string(Int(r, "queue_messages")) + " messages, " + Bytes(Int(r, "queue_bytes")) +
                    " (" + std::to_string(Int(r, "quarantined")) + " quarantined)"},
      {"in flight", std::to_string(Int(r, "in_flight")) + " messages, " +
                        std::to_string(Int(r, "outbound_sessions")) + " outbound sessions"},
      {"config generation", std::to_string(Int(r, "config_generation"))},
      {"draining", Text(r, "draining")},
  });
  return out;
}

std::string RenderSummary(const Json& r) {
  std::vector<std::vector<std::string>> rows = {
      {"DESTINATION", "MSGS", "BYTES", "OLDEST", "NEXT", "STATE", "CONNS", "LAST ERROR"}};
  for (const Json& d : r.Find("destinations")->items()) {
    rows.push_back({Text(d, "destination"), std::to_string(Int(d, "messages")), Bytes(Int(d, "bytes")),
                    Seconds(d.Find("oldest_age_s")), Seconds(d.Find("next_attempt_in_s")),
                    Text(d, "state"), std::to_string(Int(d, "connections")), Text(d, "last_error")});
  }
  if (rows.size() == 1) return "queue is empty; no destinations\n";
  return Table(rows);
}

std::string RenderList(const Json& r) {
  std::vector<std::vector<std::string>> rows = {
      {"ID", "AGE", "SIZE", "NEXT", "SENDER", "PENDING RECIPIENTS"}};
  for (const Json& m : r.Find("messages")->items()) {
    std::string next = Int(m, "in_flight") || (m.Find("in_flight") && m.Find("in_flight")->as_bool())
                           ? "in flight"
                           : Seconds(m.Find("next_attempt_in_s"));
    rows.push_back({Text(m, "id"), Seconds(m.Find("age_s")), Bytes(Int(m, "bytes")), next,
                    Text(m, "sender"), Joined(m.Find("pending"))});
  }
  std::string out = rows.size() > 1 ? Table(rows) : "";
  out += std::to_string(Int(r, "returned")) + " of " + std::to_string(Int(r, "matched")) +
         " matching messages shown\n";
  return out;
}

std::string RenderShow(const Json& r) {
  std::string out = Table({
      {"id", Text(r, "id")},
      {"sender", Text(r, "sender")},
      {"received", Text(r, "received")},
      {"deadline", Text(r, "deadline")},
      {"size", Bytes(Int(r, "bytes"))},
      {"next attempt", Text(r, "next_attempt")},
      {"in flight", Text(r, "in_flight")},
      {"quarantined", Text(r, "quarantined")},
  });
  std::vector<std::vector<std::string>> rows = {
      {"RECIPIENT", "STATE", "ATTEMPTS", "NEXT ATTEMPT", "DESTINATION", "LAST RESPONSE"}};
  for (const Json& rcpt : r.Find("recipients")->items()) {
    rows.push_back({Text(rcpt, "address"), Text(rcpt, "state"), std::to_string(Int(rcpt, "attempts")),
                    Text(rcpt, "next_attempt"), Text(rcpt, "destination"), Text(rcpt, "last_response")});
  }
  return out + "\n" + Table(rows);
}

}  // namespace

std::string DefaultSocketPath() {
  const char* from_environment = std::getenv("RINGMTA_SOCKET");
  if (from_environment != nullptr && *from_environment != '\0') return from_environment;
  return "./var/spool/ringmta.sock";
}

absl::StatusOr<int64_t> ParseDurationSeconds(const std::string& text) {
  if (text.empty()) return Usage("empty duration");
  size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  std::string unit = text.substr(digits);
  if (digits == 0 || digits > 9) return Usage("bad duration '" + text + "' (e.g. 90s, 15m, 2h, 1d)");
  int64_t value = std::stoll(text.substr(0, digits));
  int64_t scale = unit.empty() || unit == "s" ? 1 : unit == "m" ? 60 : unit == "h" ? 3600 : unit == "d" ? 86400 : 0;
  if (scale == 0 || value == 0) return Usage("bad duration '" + text + "' (e.g. 90s, 15m, 2h, 1d)");
  return value * scale;
}

absl::StatusOr<Invocation> ParseArguments(const std::vector<std::string>& arguments) {
  Invocation invocation;
  std::vector<std::string> words;
  std::vector<std::pair<std::string, std::string>> options;
  for (size_t i = 0; i < arguments.size(); ++i) {
    std::string value;
    absl::Status error = absl::OkStatus();
    const std::string& argument = arguments[i];
    if (argument == "--json") {
      invocation.json = true;
    } else if (argument == "--help" || argument == "-h") {
      invocation.help = true;
    } else if (TakeFlagValue(arguments, &i, "--socket", &value, &error)) {
      invocation.socket_path = value;
    } else if (TakeFlagValue(arguments, &i, "--spool", &value, &error)) {
      invocation.socket_path = value + "/ringmta.sock";
    } else {
      bool matched = false;
      for (const char* name : {"--destination", "--sender", "--recipient", "--min-age", "--limit", "--for"}) {
        if (!matched && TakeFlagValue(arguments, &i, name, &value, &error)) {
          options.emplace_back(name, value);
          matched = true;
        }
      }
      if (!matched) {
        if (argument.rfind("--", 0) == 0) return Usage("unknown option '" + argument + "'");
        words.push_back(argument);
      }
    }
    if (!error.ok()) return error;
  }
  if (invocation.help) return invocation;
  if (words.empty()) return Usage("no command given");
  Json request = Json::Object();
  std::string command = words[0];
  std::vector<std::string> rest(words.begin() + 1, words.end());
  auto allow = [&](std::initializer_list<const char*> names) -> absl::Status {
    for (const auto& [name, value] : options) {
      bool ok = false;
      for (const char* allowed : names) ok |= name == allowed;
      if (!ok) return Usage(name + " does not apply to " + command);
    }
    return absl::OkStatus();
  };
  auto want_words = [&](size_t min, size_t max) -> absl::Status {
    if (rest.size() < min || rest.size() > max) {
      return Usage(command + ": wrong number of arguments");
    }
    return absl::OkStatus();
  };
  if (command == "queue") {
    if (rest.size() != 1 || rest[0] != "summary") return Usage("did you mean 'queue summary'?");
    command = "queue summary";
    rest.clear();
    request.Set("command", "queue_summary");
  } else if (command == "status" || command == "reload" || command == "drain") {
    request.Set("command", command);
  } else if (command == "list" || command == "show" || command == "flush" || command == "suspend" ||
             command == "resume" || command == "delete" || command == "bounce") {
    request.Set("command", command);
  } else {
    return Usage("unknown command '" + command + "'");
  }
  if (command == "queue summary" || command == "status" || command == "reload" || command == "drain") {
    if (absl::Status s = want_words(0, 0); !s.ok()) return s;
    if (absl::Status s = allow({}); !s.ok()) return s;
  } else if (command == "list") {
    if (absl::Status s = want_words(0, 0); !s.ok()) return s;
    if (absl::Status s = allow({"--destination", "--sender", "--recipient", "--min-age", "--limit"}); !s.ok()) return s;
    for (const auto& [name, value] : options) {
      if (name == "--min-age") {
        absl::StatusOr<int64_t> seconds = ParseDurationSeconds(value);
        if (!seconds.ok()) return seconds.status();
        request.Set("min_age_s", *seconds);
      } else if (name == "--limit") {
        char* end = nullptr;
        long long limit = std::strtoll(value.c_str(), &end, 10);
        if (value.empty() || *end != '\0' || limit < 1) return Usage("--limit needs a positive number");
        request.Set("limit", static_cast<int64_t>(limit));
      } else {
        request.Set(name.substr(2), value);
      }
    }
  } else if (command == "show") {
    if (absl::Status s = want_words(1, 1); !s.ok()) return s;
    if (absl::Status s = allow({}); !s.ok()) return s;
    request.Set("id", rest[0]);  // the daemon checks the form
  } else if (command == "flush" || command == "delete" || command == "bounce") {
    if (absl::Status s = want_words(command == "flush" ? 0 : 1, 1); !s.ok()) return s;
    if (absl::Status s = allow({}); !s.ok()) return s;
    if (!rest.empty()) {
      if (absl::Status s = AddTarget(rest[0], &request); !s.ok()) return s;
    }
  } else if (command == "suspend" || command == "resume") {
    if (absl::Status s = want_words(1, 1); !s.ok()) return s;
    if (absl::Status s = allow(command == "suspend" ? std::initializer_list<const char*>{"--for"}
                                                    : std::initializer_list<const char*>{});
        !s.ok()) {
      return s;
    }
    request.Set("destination", rest[0]);
    for (const auto& [name, value] : options) {
      absl::StatusOr<int64_t> seconds = ParseDurationSeconds(value);
      if (!seconds.ok()) return seconds.status();
      request.Set("duration_s", *seconds);
    }
  }
  invocation.request = std::move(request);
  invocation.command = command;
  return invocation;
}

std::string Render(const std::string& command, const Json& r) {
  if (command == "status") return RenderStatus(r);
  if (command == "queue summary") return RenderSummary(r);
  if (command == "list") return RenderList(r);
  if (command == "show") return RenderShow(r);
  if (command == "flush") {
    return "flushed " + std::to_string(Int(r, "messages")) + " messages, cleared backoff of " +
           std::to_string(Int(r, "destinations")) + " destinations\n";
  }
  if (command == "suspend") {
    return "suspended " + Text(r, "destination") + " until " + Text(r, "until") + " (" +
           std::to_string(Int(r, "waiting")) + " jobs waiting)\n";
  }
  if (command == "resume") {
    return "resumed " + Text(r, "destination") + " (" + std::to_string(Int(r, "waiting")) +
           " jobs waiting)\n";
  }
  if (command == "delete" || command == "bounce") {
    std::string verb = command == "delete" ? "deleted" : "bounced";
    std::string out = verb + " " + std::to_string(Int(r, verb.c_str())) + " messages";
    if (Int(r, "in_flight") > 0) {
      out += " (" + std::to_string(Int(r, "in_flight")) + " had a delivery under way)";
    }
    return out + "\n";
  }
  if (command == "reload") {
    std::string out = "reloaded on " + std::to_string(Int(r, "shards_applied")) + " shards\n";
    std::string keys = Joined(r.Find("restart_needed"));
    if (!keys.empty()) out += "changes that need a restart (not applied): " + keys + "\n";
    return out;
  }
  if (command == "drain") return "draining: the daemon stops accepting and exits when done\n";
  return r.Serialize() + "\n";
}

std::string Usage() {
  return R"(usage: ringctl [--socket PATH | --spool DIR] [--json] COMMAND [ARGS]

Talks to a running ringmta over its admin socket (default $RINGMTA_SOCKET,
else ./var/spool/ringmta.sock; the daemon's is SPOOL/ringmta.sock unless
admin.socket or --admin-socket says otherwise).

  status                         version, uptime, connections, queue totals
  queue summary                  queued mail by destination, with its state
  list [--destination D] [--sender S] [--recipient R] [--min-age DUR]
       [--limit N]               queued messages, oldest first (default 100)
  show ID                        one message: envelope, recipients, attempts
  flush [ID | DESTINATION]       make due now (all when no argument) and
                                 clear destination backoff
  suspend DESTINATION [--for DUR]  no connections until resumed (or DUR)
  resume DESTINATION
  delete ID | DESTINATION        remove from the queue, no bounce
  bounce ID | DESTINATION        return to the sender with a DSN
  reload                         re-read the configuration (as SIGHUP)
  drain                          stop accepting, finish, exit (as SIGTERM)

ID is a queue id (16 hex digits, as in the log); DESTINATION a route as
`queue summary` shows it (smarthost:HOST:PORT, mx:HOSTS, domain:NAME).
DUR: 90s, 15m, 2h, 1d. --json prints the daemon's JSON answer as is.
Exit status: 0 done, 1 the daemon refused (message on stderr), 2 usage,
3 cannot reach the daemon.
)";
}

}  // namespace ringmta::ringctl
