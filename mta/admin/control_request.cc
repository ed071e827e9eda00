#include "mta/admin/control_request.h"

#include <initializer_list>

namespace ringmta::admin {
namespace {

struct CommandName {
  const char* name;
  Command command;
  // Which argument keys the command takes besides "command".
  std::initializer_list<const char*> keys;
};

const CommandName kCommands[] = {
    {"status", Command::kStatus, {}},
    {"queue_summary", Command::kQueueSummary, {}},
    {"list", Command::kList, {"destination", "sender", "recipient", "min_age_s", "limit"}},
    {"show", Command::kShow, {"id"}},
    {"flush", Command::kFlush, {"id", "destination"}},
    {"suspend", Command::kSuspend, {"destination", "duration_s"}},
    {"resume", Command::kResume, {"destination"}},
    {"delete", Command::kDelete, {"id", "destination"}},
    {"bounce", Command::kBounce, {"id", "destination"}},
    {"reload", Command::kReload, {}},
    {"drain", Command::kDrain, {}},
};

absl::Status Bad(const std::string& what) { return absl::InvalidArgumentError(what); }

absl::StatusOr<std::string> StringArgument(const Json& value, const std::string& key) {
  if (!value.is_string()) return Bad(key + " must be a string");
  if (value.as_string().empty()) return Bad(key + " must not be empty");
  if (value.as_string().size() > kFilterBytesMax) return Bad(key + " is too long");
  return value.as_string();
}

absl::StatusOr<int64_t> IntArgument(const Json& value, const std::string& key, int64_t min,
                                    int64_t max) {
  if (!value.is_integer()) return Bad(key + " must be an integer");
  if (value.as_int() < min || value.as_int() > max) {
    return Bad(key + " must be between " + std::to_string(min) + " and " + std::to_string(max));
  }
  return value.as_int();
}

absl::Status ReadArgument(const std::string& key, const Json& value, ControlRequest* request) {
  if (key == "id") {
    if (!value.is_string()) return Bad("id must be a string of 16 hex digits");
    std::optional<uint64_t> id = ParseQueueId(value.as_string());
    if (!id) return Bad("bad message id \"" + value.as_string().substr(0, 64) + "\": want 16 hex digits");
    request->id = *id;
  } else if (key == "destination") {
    absl::StatusOr<std::string> text = StringArgument(value, key);
    if (!text.ok()) return text.status();
    if (!IsDestinationKey(*text)) {
      return Bad("bad destination \"" + text->substr(0, 64) +
                 "\": want smarthost:HOST:PORT, mx:HOSTS or domain:NAME");
    }
    request->destination = *text;
  } else if (key == "sender" || key == "recipient") {
    absl::StatusOr<std::string> text = StringArgument(value, key);
    if (!text.ok()) return text.status();
    (key == "sender" ? request->sender : request->recipient) = *text;
  } else if (key == "min_age_s") {
    absl::StatusOr<int64_t> age = IntArgument(value, key, 0, 365LL * 24 * 3600);
    if (!age.ok()) return age.status();
    request->min_age_s = *age;
  } else if (key == "limit") {
    absl::StatusOr<int64_t> limit = IntArgument(value, key, 1, kListLimitMax);
    if (!limit.ok()) return limit.status();
    request->limit = *limit;
  } else if (key == "duration_s") {
    absl::StatusOr<int64_t> duration = IntArgument(value, key, 1, kDurationMaxS);
    if (!duration.ok()) return duration.status();
    request->duration_s = *duration;
  }
  return absl::OkStatus();
}

}  // namespace

std::optional<uint64_t> ParseQueueId(std::string_view text) {
  if (text.size() != 16) return std::nullopt;
  uint64_t id = 0;
  for (char c : text) {
    int digit = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                       : -1;
    if (digit < 0) return std::nullopt;
    id = id << 4 | static_cast<uint64_t>(digit);
  }
  if (id == 0) return std::nullopt;  // never a message id
  return id;
}

bool IsDestinationKey(std::string_view text) {
  for (std::string_view prefix : {"smarthost:", "mx:", "domain:"}) {
    if (text.size() > prefix.size() && text.substr(0, prefix.size()) == prefix) {
      for (unsigned char c : text) {
        if (c <= ' ' || c >= 0x7f) return false;
      }
      return true;
    }
  }
  return false;
}

absl::StatusOr<ControlRequest> ParseControlRequest(std::string_view line) {
  absl::StatusOr<Json> json = ParseJson(line);
  if (!json.ok()) return json.status();
  if (!json->is_object()) return Bad("a request is a JSON object");
  const Json* name = json->Find("command");
  if (name == nullptr || !name->is_string()) return Bad("missing \"command\" (a string)");
  const CommandName* found = nullptr;
  for (const CommandName& command : kCommands) {
    if (name->as_string() == command.name) found = &command;
  }
  if (found == nullptr) return Bad("unknown command \"" + name->as_string().substr(0, 64) + "\"");
  ControlRequest request;
  request.command = found->command;
  for (const auto& [key, value] : json->members()) {
    if (key == "command") continue;
    bool known = false;
    for (const char* allowed : found->keys) known |= key == allowed;
    if (!known) return Bad(std::string(found->name) + ": unknown argument \"" + key.substr(0, 64) + "\"");
    absl::Status read = ReadArgument(key, value, &request);
    if (!read.ok()) return Bad(std::string(found->name) + ": " + std::string(read.message()));
  }
  bool has_target = request.id.has_value() || request.destination.has_value();
  if (request.id && request.destination) {
    return Bad(std::string(found->name) + ": give an id or a destination, not both");
  }
  if ((request.command == Command::kShow && !request.id) ||
      ((request.command == Command::kDelete || request.command == Command::kBounce) && !has_target)) {
    return Bad(std::string(found->name) + ": needs " +
               (request.command == Command::kShow ? "an id" : "an id or a destination"));
  }
  if ((request.command == Command::kSuspend || request.command == Command::kResume) &&
      !request.destination) {
    return Bad(std::string(found->name) + ": needs a destination");
  }
  // A domain whose MX site is not known yet has no destination to hold.
  if ((request.command == Command::kSuspend || request.command == Command::kResume) &&
      request.destination->rfind("domain:", 0) == 0) {
    return Bad(std::string(found->name) + ": needs a route (smarthost:... or mx:...), not " +
               *request.destination);
  }
  return request;
}

}  // namespace ringmta::admin
