// ControlRequest: one admin request, parsed and checked before anything
// runs, so a malformed, unknown or ill-argued request changes nothing
// (docs/operations.md, "Admin protocol"). Pure: no I/O, no shards.
#ifndef RINGMTA_MTA_ADMIN_CONTROL_REQUEST_H_
#define RINGMTA_MTA_ADMIN_CONTROL_REQUEST_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "mta/admin/admin_limits.h"
#include "mta/admin/json.h"

namespace ringmta::admin {

enum class Command {
  kStatus,
  kQueueSummary,
  kList,
  kShow,
  kFlush,
  kSuspend,
  kResume,
  kDelete,
  kBounce,
  kReload,
  kDrain,
};

struct ControlRequest {
  Command command = Command::kStatus;
  // Targets: a message id (16 hex digits, as in the log) or a destination
  // route key ("smarthost:HOST:PORT", "mx:...", "domain:NAME"). flush may
  // have neither (everything); delete and bounce need exactly one.
  std::optional<uint64_t> id;
  std::optional<std::string> destination;
  // list filters.
  std::optional<std::string> sender;     // substring, case-insensitive
  std::optional<std::string> recipient;  // substring, case-insensitive
  int64_t min_age_s = 0;
  int64_t limit = 100;
  // suspend: 0 = until resumed.
  int64_t duration_s = 0;
};

// Parses one request line (a JSON object with "command" and its arguments;
// unknown keys are errors).
absl::StatusOr<ControlRequest> ParseControlRequest(std::string_view line);

// "0123456789abcdef" -> id; exactly 16 hex digits (FormatQueueId's form).
std::optional<uint64_t> ParseQueueId(std::string_view text);

// A destination as the queue summary names it.
bool IsDestinationKey(std::string_view text);

}  // namespace ringmta::admin

#endif  // RINGMTA_MTA_ADMIN_CONTROL_REQUEST_H_
