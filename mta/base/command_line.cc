#include "mta/base/command_line.h"

#include "absl/strings/str_cat.h"

namespace ringmta {

bool TakeFlagValue(const std::vector<std::string>& arguments, size_t* index,
                   std::string_view name, std::string* value, absl::Status* error) {
  std::string_view argument = arguments[*index];
  if (argument == name) {
    if (*index + 1 >= arguments.size()) {
      *error = absl::InvalidArgumentError(absl::StrCat(std::string(name), " needs a value"));
      return true;
    }
    *value = arguments[++*index];
    return true;
  }
  if (argument.size() > name.size() && argument.substr(0, name.size()) == name &&
      argument[name.size()] == '=') {
    *value = std::string(argument.substr(name.size() + 1));
    return true;
  }
  return false;
}

absl::Status BadFlagValue(std::string_view flag, std::string_view value, std::string_view want) {
  return absl::InvalidArgumentError(absl::StrCat(std::string(flag), ": ", std::string(want),
                                                 ", got '", std::string(value), "'"));
}

}  // namespace ringmta
