// libFuzzer target: one command line through ParseCommand, and for MAIL/RCPT
// the path split, parameter grammar and parameter semantics. Checks that
// views stay inside the input and no CR/LF survives into an argument.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "mta/base/check.h"
#include "mta/smtp/command.h"
#include "mta/smtp/envelope.h"
#include "mta/smtp/mail_params.h"

using namespace ringmta::smtp;

namespace {

bool Inside(std::string_view part, std::string_view whole) {
  return part.empty() || (part.data() >= whole.data() &&
                          part.data() + part.size() <= whole.data() + whole.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view line(reinterpret_cast<const char*>(data), size);
  const absl::StatusOr<Command> command = ParseCommand(line);
  if (command.ok()) {
    CHECK(Inside(command->argument, line));
    CHECK(command->argument.find_first_of("\r\n") == std::string_view::npos);
  }
  // Also drive the argument parsers directly with any bytes.
  for (std::string_view prefix : {std::string_view("FROM:"), std::string_view("TO:")}) {
    const absl::StatusOr<PathArgument> argument = ParsePathArgument(line, prefix);
    if (!argument.ok()) continue;
    CHECK(Inside(argument->path, line));
    CHECK(argument->path.size() >= 2 && argument->path.front() == '<' &&
          argument->path.back() == '>');
    CHECK(argument->params.size() <= 16);
    Envelope envelope;
    const std::optional<Reply> mail = ApplyMailParams(argument->params, {1 << 20, true}, &envelope);
    if (!mail) CHECK(envelope.declared_size <= (1 << 20));
    Recipient recipient;
    const std::optional<Reply> rcpt = ApplyRcptParams(argument->params, &recipient);
    if (!rcpt) CHECK(recipient.orcpt.size() <= 500);
  }
  return 0;
}
