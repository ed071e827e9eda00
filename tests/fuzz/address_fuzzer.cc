// libFuzzer target: reverse- and forward-path parsing. A parsed mailbox must
// respect the RFC 5321 §4.5.3.1 bounds and parse again to itself.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "mta/base/check.h"
#include "mta/smtp/address.h"
#include "mta/smtp/utf8.h"

using namespace ringmta::smtp;

namespace {

void CheckParsed(const Path& path, bool reverse) {
  if (path.is_null) {
    CHECK(reverse && path.local_part.empty() && path.domain.empty());
    return;
  }
  CHECK(!path.local_part.empty() && path.local_part.size() <= 64);
  CHECK(path.domain.size() <= 255);
  const std::string mailbox = path.Mailbox();
  CHECK(mailbox.size() + 2 <= 256);
  CHECK(path.has_non_ascii == HasNonAscii(mailbox));
  CHECK(IsValidUtf8(mailbox));
  CHECK(mailbox.find_first_of(std::string("\r\n\0", 3)) == std::string::npos);
  // The mailbox we keep (source route dropped) is itself a valid path.
  const std::string again = "<" + mailbox + ">";
  const absl::StatusOr<Path> reparsed = reverse ? ParseReversePath(again) : ParseForwardPath(again);
  CHECK(reparsed.ok());
  CHECK(reparsed->Mailbox() == mailbox);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (absl::StatusOr<Path> path = ParseReversePath(text); path.ok()) CheckParsed(*path, true);
  if (absl::StatusOr<Path> path = ParseForwardPath(text); path.ok()) CheckParsed(*path, false);
  // The same bytes wrapped, to reach the grammar without needing the brackets.
  const std::string wrapped = "<" + std::string(text) + ">";
  if (absl::StatusOr<Path> path = ParseForwardPath(wrapped); path.ok()) CheckParsed(*path, false);
  return 0;
}
