#include "mta/admin/control_commands.h"

#include <time.h>

#include <algorithm>
#include <map>

#include "absl/container/flat_hash_set.h"
#include "mta/base/clock.h"
#include "mta/relay/queue_runner.h"
#include "mta/relay/relay_shard.h"
#include "mta/relay/route.h"
#include "queue/shard_queue.h"

namespace ringmta::admin {
namespace {

relay::RelayShard& RelayOn(const ControlContext& context, io::Shard& shard) {
  return *(*context.relays)[shard.index()];
}

std::string Lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

bool ContainsFolded(const std::string& haystack, const std::string& needle_lower) {
  return Lower(haystack).find(needle_lower) != std::string::npos;
}

const char* StateName(queue::RecipientState state) {
  if (state == queue::RecipientState::kDelivered) return "delivered";
  if (state == queue::RecipientState::kFailed) return "failed";
  return "pending";
}

std::string SenderText(const queue::MessageEntry& entry) {
  return entry.sender.empty() ? "<>" : entry.sender;
}

// The destinations of a message's pending recipients, as its home shard
// sees them (queue_runner: DestinationOf).
std::vector<std::string> PendingDestinations(relay::RelayShard& relay,
                                             const queue::MessageEntry& entry) {
  std::vector<std::string> keys;
  for (const queue::RecipientEntry& recipient : entry.recipients) {
    if (recipient.state != queue::RecipientState::kPending) continue;
    std::string key = relay.runner().DestinationOf(relay::DomainOf(recipient.address));
    if (std::find(keys.begin(), keys.end(), key) == keys.end()) keys.push_back(std::move(key));
  }
  return keys;
}

int64_t NextAttemptMs(const queue::MessageEntry& entry) {
  int64_t next = -1;
  for (const queue::RecipientEntry& recipient : entry.recipients) {
    if (recipient.state != queue::RecipientState::kPending) continue;
    if (next < 0 || recipient.next_attempt_ms < next) next = recipient.next_attempt_ms;
  }
  return next;
}

// Ids of this shard's messages with a pending recipient at `destination`
// (or every message when it is empty): collected first, because acting on
// one changes the index ForEach walks.
std::vector<uint64_t> MessagesFor(relay::RelayShard& relay, const std::string& destination) {
  std::vector<uint64_t> ids;
  relay.queue().index.ForEach([&](const queue::MessageEntry& entry) {
    if (entry.quarantined) return;
    if (!destination.empty()) {
      std::vector<std::string> keys = PendingDestinations(relay, entry);
      if (std::find(keys.begin(), keys.end(), destination) == keys.end()) return;
    }
    ids.push_back(entry.id);
  });
  return ids;
}

// Joins per-shard errors into one response error, or returns null.
std::optional<Json> ShardErrors(const std::vector<absl::StatusOr<Json>>& parts) {
  std::string errors;
  for (const absl::StatusOr<Json>& part : parts) {
    if (part.ok()) continue;
    if (!errors.empty()) errors += "; ";
    errors += std::string(part.status().message());
  }
  if (errors.empty()) return std::nullopt;
  return ErrorResponse(errors);
}

int64_t IntField(const Json& object, std::string_view key) {
  const Json* value = object.Find(key);
  return value == nullptr ? 0 : value->as_int();
}

Json Ok() {
  Json response = Json::Object();
  response.Set("ok", true);
  return response;
}

}  // namespace

Json ErrorResponse(const std::string& text) {
  Json response = Json::Object();
  response.Set("ok", false);
  response.Set("error", text);
  return response;
}

std::string FormatTimeMs(int64_t wall_ms) {
  time_t seconds = static_cast<time_t>(wall_ms / 1000);
  struct tm parts;
  gmtime_r(&seconds, &parts);
  char text[32];
  strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &parts);
  return text;
}

std::vector<int> ControlCommands::AllShards() const {
  std::vector<int> shards;
  for (size_t i = 0; i < context_.relays->size(); ++i) shards.push_back(static_cast<int>(i));
  return shards;
}

int ControlCommands::HomeShard(uint64_t id) const {
  auto shard = static_cast<size_t>(id >> 56);  // ShardQueue::NewMessageId
  return shard < context_.relays->size() ? static_cast<int>(shard) : -1;
}

// Every fan-out below names its work and targets before the co_await: GCC
// 12 frees a lambda temporary's captures inside a co_await expression twice.
io::Task<Json> ControlCommands::Execute(ControlRequest request) {
  // An if-chain: no co_await inside a switch (GCC 12, docs/architecture.md).
  if (request.command == Command::kStatus) co_return co_await Status();
  if (request.command == Command::kQueueSummary) co_return co_await QueueSummary();
  if (request.command == Command::kList) co_return co_await List(request);
  if (request.command == Command::kShow) co_return co_await Show(*request.id);
  if (request.command == Command::kFlush) co_return co_await Flush(request);
  if (request.command == Command::kSuspend) co_return co_await Suspend(request, true);
  if (request.command == Command::kResume) co_return co_await Suspend(request, false);
  if (request.command == Command::kDelete) co_return co_await DeleteOrBounce(request, false);
  if (request.command == Command::kBounce) co_return co_await DeleteOrBounce(request, true);
  co_return ErrorResponse("not a queue command");
}

io::Task<Json> ControlCommands::Status() {
  const ControlContext& context = context_;
  ShardWork work = [&context](io::Shard& shard) {
        relay::RelayShard& relay = RelayOn(context, shard);
        Json part = Json::Object();
        part.Set("shard", shard.index());
        part.Set("connections", shard.connections());
        part.Set("messages", static_cast<int64_t>(relay.queue().index.message_count()));
        part.Set("bytes", static_cast<int64_t>(relay.queue().index.queued_bytes()));
        part.Set("quarantined", static_cast<int64_t>(relay.queue().index.quarantined_count()));
        part.Set("in_flight", static_cast<int64_t>(relay.runner().in_flight()));
        int64_t outbound = 0;
        relay.destinations().ForEach(
            [&outbound](relay::Destination& destination) { outbound += destination.sessions(); });
        part.Set("outbound_sessions", outbound);
        part.Set("settings_generation", static_cast<int64_t>(relay.settings_generation()));
        return part;
      };
  std::vector<int> target_shards = AllShards();
  std::vector<absl::StatusOr<Json>> parts = co_await fanout_.Run(target_shards, work, context_.shard_timeout_ms);
  if (std::optional<Json> error = ShardErrors(parts)) co_return *error;
  Json response = Ok();
  response.Set("version", context_.version);
  response.Set("uptime_s", (WallNowMs() - context_.started_ms) / 1000);
  response.Set("shards", static_cast<int64_t>(parts.size()));
  int64_t connections = 0, messages = 0, bytes = 0, in_flight = 0, outbound = 0, quarantined = 0;
  int64_t generation_min = INT64_MAX;
  Json shards = Json::Array();
  for (const absl::StatusOr<Json>& part : parts) {
    connections += IntField(*part, "connections");
    messages += IntField(*part, "messages");
    bytes += IntField(*part, "bytes");
    in_flight += IntField(*part, "in_flight");
    outbound += IntField(*part, "outbound_sessions");
    quarantined += IntField(*part, "quarantined");
    generation_min = std::min(generation_min, IntField(*part, "settings_generation"));
    shards.Push(*part);
  }
  response.Set("connections", connections);
  response.Set("queue_messages", messages);
  response.Set("queue_bytes", bytes);
  response.Set("quarantined", quarantined);
  response.Set("in_flight", in_flight);
  response.Set("outbound_sessions", outbound);
  // Lowest across shards: every shard runs at least this reload.
  response.Set("config_generation", generation_min);
  response.Set("draining", false);  // a draining daemon has closed this socket
  response.Set("per_shard", std::move(shards));
  co_return response;
}

io::Task<Json> ControlCommands::QueueSummary() {
  const ControlContext& context = context_;
  ShardWork work = [&context](io::Shard& shard) {
        relay::RelayShard& relay = RelayOn(context, shard);
        struct Row {
          int64_t messages = 0, bytes = 0, oldest_ms = INT64_MAX, next_ms = INT64_MAX;
        };
        std::map<std::string, Row> rows;
        relay.queue().index.ForEach([&](const queue::MessageEntry& entry) {
          if (entry.quarantined) return;
          for (const std::string& key : PendingDestinations(relay, entry)) {
            Row& row = rows[key];
            ++row.messages;
            row.bytes += static_cast<int64_t>(entry.body_bytes);
            row.oldest_ms = std::min(row.oldest_ms, entry.received_ms);
            for (const queue::RecipientEntry& recipient : entry.recipients) {
              if (recipient.state != queue::RecipientState::kPending) continue;
              if (relay.runner().DestinationOf(relay::DomainOf(recipient.address)) != key) continue;
              row.next_ms = std::min(row.next_ms, recipient.next_attempt_ms);
            }
          }
        });
        Json home = Json::Array();
        for (const auto& [key, row] : rows) {
          Json item = Json::Object();
          item.Set("destination", key);
          item.Set("messages", row.messages);
          item.Set("bytes", row.bytes);
          item.Set("oldest_ms", row.oldest_ms);
          item.Set("next_attempt_ms", row.next_ms);
          home.Push(std::move(item));
        }
        Json owner = Json::Array();
        relay.destinations().ForEach([&owner](relay::Destination& destination) {
          Json item = Json::Object();
          item.Set("destination", destination.key());
          item.Set("state", destination.state());
          item.Set("connections", destination.sessions());
          item.Set("waiting", static_cast<int64_t>(destination.queued()));
          item.Set("last_error", destination.last_error());
          owner.Push(std::move(item));
        });
        Json part = Json::Object();
        part.Set("home", std::move(home));
        part.Set("owner", std::move(owner));
        return part;
      };
  std::vector<int> target_shards = AllShards();
  std::vector<absl::StatusOr<Json>> parts = co_await fanout_.Run(target_shards, work, context_.shard_timeout_ms);
  if (std::optional<Json> error = ShardErrors(parts)) co_return *error;
  struct Merged {
    int64_t messages = 0, bytes = 0, oldest_ms = INT64_MAX, next_ms = INT64_MAX;
    std::string state = "active";
    int64_t connections = 0, waiting = 0;
    std::string last_error;
  };
  std::map<std::string, Merged> merged;
  for (const absl::StatusOr<Json>& part : parts) {
    for (const Json& item : part->Find("home")->items()) {
      Merged& row = merged[item.Find("destination")->as_string()];
      row.messages += IntField(item, "messages");
      row.bytes += IntField(item, "bytes");
      row.oldest_ms = std::min(row.oldest_ms, IntField(item, "oldest_ms"));
      row.next_ms = std::min(row.next_ms, IntField(item, "next_attempt_ms"));
    }
    for (const Json& item : part->Find("owner")->items()) {
      Merged& row = merged[item.Find("destination")->as_string()];
      row.state = item.Find("state")->as_string();
      row.connections = IntField(item, "connections");
      row.waiting = IntField(item, "waiting");
      row.last_error = item.Find("last_error")->as_string();
    }
  }
  std::vector<std::pair<std::string, Merged>> ordered(merged.begin(), merged.end());
  std::stable_sort(ordered.begin(), ordered.end(),
                   [](const auto& a, const auto& b) { return a.second.messages > b.second.messages; });
  int64_t now_ms = WallNowMs();
  Json destinations = Json::Array();
  int64_t total_messages = 0, total_bytes = 0;
  for (const auto& [key, row] : ordered) {
    Json item = Json::Object();
    item.Set("destination", key);
    item.Set("messages", row.messages);
    item.Set("bytes", row.bytes);
    item.Set("oldest_age_s", row.oldest_ms == INT64_MAX ? Json() : Json((now_ms - row.oldest_ms) / 1000));
    // Seconds until the next attempt; 0 when due (or in flight) now.
    item.Set("next_attempt_in_s",
             row.next_ms == INT64_MAX ? Json() : Json(std::max<int64_t>(0, row.next_ms - now_ms) / 1000));
    item.Set("state", key.rfind("domain:", 0) == 0 ? std::string("unresolved") : row.state);
    item.Set("connections", row.connections);
    item.Set("waiting_at_destination", row.waiting);
    item.Set("last_error", row.last_error);
    total_messages += row.messages;
    total_bytes += row.bytes;
    destinations.Push(std::move(item));
  }
  Json response = Ok();
  response.Set("destinations", std::move(destinations));
  co_return response;
}

io::Task<Json> ControlCommands::List(ControlRequest request) {
  const ControlContext& context = context_;
  std::string sender = request.sender ? Lower(*request.sender) : "";
  std::string recipient = request.recipient ? Lower(*request.recipient) : "";
  std::string destination = request.destination.value_or("");
  int64_t min_age_ms = request.min_age_s * 1000;
  int64_t limit = request.limit;
  ShardWork work = [&context, sender, recipient, destination, min_age_ms, limit](io::Shard& shard) {
        relay::RelayShard& relay = RelayOn(context, shard);
        int64_t now_ms = WallNowMs();
        std::vector<const queue::MessageEntry*> matched;
        relay.queue().index.ForEach([&](const queue::MessageEntry& entry) {
          if (now_ms - entry.received_ms < min_age_ms) return;
          if (!sender.empty() && !ContainsFolded(SenderText(entry), sender)) return;
          if (!recipient.empty()) {
            bool any = false;
            for (const queue::RecipientEntry& r : entry.recipients) {
              any |= r.state == queue::RecipientState::kPending && ContainsFolded(r.address, recipient);
            }
            if (!any) return;
          }
          if (!destination.empty()) {
            std::vector<std::string> keys = PendingDestinations(relay, entry);
            if (std::find(keys.begin(), keys.end(), destination) == keys.end()) return;
          }
          matched.push_back(&entry);
        });
        // Oldest first; each shard sends at most `limit`, shard 0 merges.
        std::sort(matched.begin(), matched.end(), [](const auto* a, const auto* b) {
          return a->received_ms != b->received_ms ? a->received_ms < b->received_ms : a->id < b->id;
        });
        Json rows = Json::Array();
        for (size_t i = 0; i < matched.size() && static_cast<int64_t>(i) < limit; ++i) {
          const queue::MessageEntry& entry = *matched[i];
          Json row = Json::Object();
          row.Set("id", queue::FormatQueueId(entry.id));
          row.Set("sender", SenderText(entry));
          row.Set("received_ms", entry.received_ms);
          row.Set("bytes", static_cast<int64_t>(entry.body_bytes));
          int64_t pending = 0;
          Json recipients = Json::Array();
          for (const queue::RecipientEntry& r : entry.recipients) {
            if (r.state != queue::RecipientState::kPending) continue;
            ++pending;
            recipients.Push(r.address);
          }
          row.Set("recipients_total", static_cast<int64_t>(entry.recipients.size()));
          row.Set("pending", std::move(recipients));
          Json keys = Json::Array();
          for (std::string& key : PendingDestinations(relay, entry)) keys.Push(std::move(key));
          row.Set("destinations", std::move(keys));
          row.Set("next_attempt_ms", NextAttemptMs(entry));
          row.Set("in_flight", relay.runner().is_in_flight(entry.id));
          row.Set("quarantined", entry.quarantined);
          rows.Push(std::move(row));
        }
        Json part = Json::Object();
        part.Set("matched", static_cast<int64_t>(matched.size()));
        part.Set("messages", std::move(rows));
        return part;
      };
  std::vector<int> target_shards = AllShards();
  std::vector<absl::StatusOr<Json>> parts = co_await fanout_.Run(target_shards, work, context_.shard_timeout_ms);
  if (std::optional<Json> error = ShardErrors(parts)) co_return *error;
  int64_t matched = 0;
  std::vector<Json> rows;
  for (absl::StatusOr<Json>& part : parts) {
    matched += IntField(*part, "matched");
    for (const Json& row : part->Find("messages")->items()) rows.push_back(row);
  }
  std::stable_sort(rows.begin(), rows.end(), [](const Json& a, const Json& b) {
    return IntField(a, "received_ms") < IntField(b, "received_ms");
  });
  if (static_cast<int64_t>(rows.size()) > limit) rows.resize(static_cast<size_t>(limit));
  int64_t now_ms = WallNowMs();
  Json messages = Json::Array();
  for (Json& row : rows) {
    row.Set("received", FormatTimeMs(IntField(row, "received_ms")));
    row.Set("age_s", (now_ms - IntField(row, "received_ms")) / 1000);
    int64_t next_ms = IntField(row, "next_attempt_ms");
    row.Set("next_attempt_in_s", next_ms < 0 ? Json() : Json(std::max<int64_t>(0, next_ms - now_ms) / 1000));
    messages.Push(std::move(row));
  }
  Json response = Ok();
  response.Set("matched", matched);
  response.Set("returned", static_cast<int64_t>(messages.items().size()));
  response.Set("messages", std::move(messages));
  co_return response;
}

io::Task<Json> ControlCommands::Show(uint64_t id) {
  int home = HomeShard(id);
  if (home < 0) co_return ErrorResponse("no such message: " + queue::FormatQueueId(id));
  const ControlContext& context = context_;
  // A named vector: GCC 12 cannot keep a braced list alive across co_await.
  std::vector<int> targets(1, home);
  ShardWork work = [&context, id](io::Shard& shard) {
        relay::RelayShard& relay = RelayOn(context, shard);
        const queue::MessageEntry* entry = relay.queue().index.Find(id);
        if (entry == nullptr) return ErrorResponse("no such message: " + queue::FormatQueueId(id));
        const std::vector<std::string>* responses = relay.runner().LastResponses(id);
        Json response = Ok();
        response.Set("id", queue::FormatQueueId(id));
        response.Set("shard", shard.index());
        response.Set("sender", SenderText(*entry));
        response.Set("received", FormatTimeMs(entry->received_ms));
        response.Set("received_ms", entry->received_ms);
        response.Set("deadline", FormatTimeMs(entry->deadline_ms));
        response.Set("deadline_ms", entry->deadline_ms);
        response.Set("bytes", static_cast<int64_t>(entry->body_bytes));
        response.Set("quarantined", entry->quarantined);
        response.Set("in_flight", relay.runner().is_in_flight(id));
        int64_t next_ms = NextAttemptMs(*entry);
        response.Set("next_attempt", next_ms < 0 ? Json() : Json(FormatTimeMs(std::max(next_ms, WallNowMs()))));
        Json recipients = Json::Array();
        for (size_t i = 0; i < entry->recipients.size(); ++i) {
          const queue::RecipientEntry& r = entry->recipients[i];
          Json item = Json::Object();
          item.Set("address", r.address);
          item.Set("state", StateName(r.state));
          item.Set("attempts", static_cast<int64_t>(r.attempts));
          item.Set("destination", relay.runner().DestinationOf(relay::DomainOf(r.address)));
          item.Set("next_attempt",
                   r.state == queue::RecipientState::kPending
                       ? Json(FormatTimeMs(std::max(r.next_attempt_ms, WallNowMs())))
                       : Json());
          std::string last = responses != nullptr && i < responses->size() ? (*responses)[i] : "";
          item.Set("last_response", last);
          recipients.Push(std::move(item));
        }
        response.Set("recipients", std::move(recipients));
        return response;
      };
  std::vector<int> target_shards = targets;
  std::vector<absl::StatusOr<Json>> parts = co_await fanout_.Run(target_shards, work, context_.shard_timeout_ms);
  if (!parts[0].ok()) co_return ErrorResponse(std::string(parts[0].status().message()));
  co_return *parts[0];
}

io::Task<Json> ControlCommands::Flush(ControlRequest request) {
  const ControlContext& context = context_;
  if (request.id) {
    uint64_t id = *request.id;
    int home = HomeShard(id);
    if (home < 0) co_return ErrorResponse("no such message: " + queue::FormatQueueId(id));
    std::vector<int> targets(1, home);
    ShardWork work = [&context, id](io::Shard& shard) {
          if (!RelayOn(context, shard).runner().FlushMessage(id)) {
            return ErrorResponse("no such message: " + queue::FormatQueueId(id));
          }
          Json response = Ok();
          response.Set("messages", 1);
          response.Set("destinations", 0);
          return response;
        };
    std::vector<int> target_shards = targets;
    std::vector<absl::StatusOr<Json>> parts = co_await fanout_.Run(target_shards, work, context_.shard_timeout_ms);
    if (!parts[0].ok()) co_return ErrorResponse(std::string(parts[0].status().message()));
    co_return *parts[0];
  }
  std::string destination = request.destination.value_or("");
  ShardWork work = [&context, destination](io::Shard& shard) {
        relay::RelayShard& relay = RelayOn(context, shard);
        int64_t messages = 0, destinations = 0;
        for (uint64_t id : MessagesFor(relay, destination)) messages += relay.runner().FlushMessage(id);
        relay.destinations().ForEach([&destination, &destinations](relay::Destination& dest) {
          if (!destination.empty() && dest.key() != destination) return;
          dest.ClearBackoff();
          ++destinations;
        });
        Json part = Json::Object();
        part.Set("messages", messages);
        part.Set("destinations", destinations);
        return part;
      };
  std::vector<int> target_shards = AllShards();
  std::vector<absl::StatusOr<Json>> parts = co_await fanout_.Run(target_shards, work, context_.shard_timeout_ms);
  if (std::optional<Json> error = ShardErrors(parts)) co_return *error;
  int64_t messages = 0, destinations = 0;
  for (const absl::StatusOr<Json>& part : parts) {
    messages += IntField(*part, "messages");
    destinations += IntField(*part, "destinations");
  }
  Json response = Ok();
  response.Set("messages", messages);
  response.Set("destinations", destinations);
  co_return response;
}

io::Task<Json> ControlCommands::Suspend(ControlRequest request, bool suspend) {
  const ControlContext& context = context_;
  std::string destination = *request.destination;
  int owner = relay::OwnerShard(destination, static_cast<int>(context_.relays->size()));
  int64_t duration_ms = request.duration_s * 1000;
  std::vector<int> targets(1, owner);
  ShardWork work = [&context, destination, duration_ms, suspend](io::Shard& shard) {
        relay::RelayShard& relay = RelayOn(context, shard);
        Json response = Ok();
        response.Set("destination", destination);
        if (suspend) {
          int64_t now_ms = shard.reactor().now_ms();
          relay.GetDestination(destination).Suspend(duration_ms > 0 ? now_ms + duration_ms : INT64_MAX);
          response.Set("until", duration_ms > 0 ? Json(FormatTimeMs(WallNowMs() + duration_ms))
                                                : Json("resumed"));
        } else {
          relay::Destination* found = relay.FindDestination(destination);
          if (found == nullptr || !found->suspended()) {
            return ErrorResponse("destination " + destination + " is not suspended");
          }
          found->Resume();
        }
        relay::Destination* found = relay.FindDestination(destination);
        response.Set("waiting", static_cast<int64_t>(found->queued()));
        return response;
      };
  std::vector<int> target_shards = targets;
  std::vector<absl::StatusOr<Json>> parts = co_await fanout_.Run(target_shards, work, context_.shard_timeout_ms);
  if (!parts[0].ok()) co_return ErrorResponse(std::string(parts[0].status().message()));
  co_return *parts[0];
}

io::Task<Json> ControlCommands::DeleteOrBounce(ControlRequest request, bool bounce) {
  const ControlContext& context = context_;
  std::vector<int> targets;
  std::optional<uint64_t> id = request.id;
  if (id) {
    int home = HomeShard(*id);
    if (home < 0) co_return ErrorResponse("no such message: " + queue::FormatQueueId(*id));
    targets.push_back(home);
  } else {
    targets = AllShards();
  }
  std::string destination = request.destination.value_or("");
  ShardWork work = [&context, id, destination, bounce](io::Shard& shard) {
        relay::RelayShard& relay = RelayOn(context, shard);
        std::vector<uint64_t> ids = id ? std::vector<uint64_t>{*id} : MessagesFor(relay, destination);
        int64_t done = 0, in_flight = 0;
        for (uint64_t each : ids) {
          bool flying = relay.runner().is_in_flight(each);
          bool acted = bounce ? relay.runner().BounceMessage(each) : relay.runner().DeleteMessage(each);
          done += acted;
          in_flight += acted && flying;
        }
        if (id && done == 0) return ErrorResponse("no such message: " + queue::FormatQueueId(*id));
        Json part = Json::Object();
        part.Set("messages", done);
        part.Set("in_flight", in_flight);
        return part;
      };
  std::vector<int> target_shards = targets;
  std::vector<absl::StatusOr<Json>> parts = co_await fanout_.Run(target_shards, work, context_.shard_timeout_ms);
  if (std::optional<Json> error = ShardErrors(parts)) co_return *error;
  int64_t messages = 0, in_flight = 0;
  for (const absl::StatusOr<Json>& part : parts) {
    if (const Json* ok = part->Find("ok"); ok != nullptr && !ok->as_bool()) co_return *part;
    messages += IntField(*part, "messages");
    in_flight += IntField(*part, "in_flight");
  }
  Json response = Ok();
  response.Set(bounce ? "bounced" : "deleted", messages);
  // Of those, how many had a delivery attempt under way that may still
  // complete (its outcome is then ignored).
  response.Set("in_flight", in_flight);
  co_return response;
}

}  // namespace ringmta::admin
