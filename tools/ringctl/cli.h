// ringctl's command line: turns arguments into one admin request (JSON),
// and a response into the text an operator reads. Pure, so it is tested
// without a daemon. Not here: the socket (main.cc).
#ifndef RINGMTA_TOOLS_RINGCTL_CLI_H_
#define RINGMTA_TOOLS_RINGCTL_CLI_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "mta/admin/json.h"

namespace ringmta::ringctl {

struct Invocation {
  std::string socket_path;  // empty: the default
  bool json = false;
  bool help = false;
  admin::Json request;
  std::string command;  // as typed ("queue summary"), for rendering
};

// Where ringctl looks without --socket: $RINGMTA_SOCKET, else the default
// spool's socket (./var/spool/ringmta.sock, as `ringmta` without --spool).
std::string DefaultSocketPath();

absl::StatusOr<Invocation> ParseArguments(const std::vector<std::string>& arguments);
// "90", "90s", "15m", "2h", "1d" -> seconds.
absl::StatusOr<int64_t> ParseDurationSeconds(const std::string& text);
// The response as tables and lines (for a response with "ok": true).
std::string Render(const std::string& command, const admin::Json& response);
std::string Usage();

}  // namespace ringmta::ringctl

#endif  // RINGMTA_TOOLS_RINGCTL_CLI_H_
