// Command-line flags with values, as every ringmta program spells them:
// "--name VALUE" or "--name=VALUE". Not here: what a flag means (each
// program's own parser).
#ifndef RINGMTA_MTA_BASE_COMMAND_LINE_H_
#define RINGMTA_MTA_BASE_COMMAND_LINE_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"

namespace ringmta {

// True when arguments[*index] is the flag `name`. Then `value` holds its
// value (and *index has moved past it), or, for a trailing "--name" with
// nothing after it, `error` says the value is missing.
bool TakeFlagValue(const std::vector<std::string>& arguments, size_t* index,
                   std::string_view name, std::string* value, absl::Status* error);

// "--flag: WANT, got 'VALUE'": the error for a value that does not parse.
absl::Status BadFlagValue(std::string_view flag, std::string_view value, std::string_view want);

}  // namespace ringmta

#endif  // RINGMTA_MTA_BASE_COMMAND_LINE_H_
