// ringmta: entry point. Parses flags and config, then hands over to RunDaemon.
#include <cstdio>
#include <string>
#include <vector>

#include "absl/debugging/failure_signal_handler.h"
#include "absl/debugging/symbolize.h"
#include "mta/daemon/config.h"
#include "mta/daemon/daemon.h"
#include "mta/daemon/flags.h"
#include "mta/daemon/version.h"

namespace {
constexpr char kVersion[] = RINGMTA_VERSION;
}

int main(int argc, char** argv) {
  using namespace ringmta::daemon;
#if !defined(__SANITIZE_ADDRESS__)
  // A crash (SIGSEGV, SIGABRT, ...) leaves the signal and a stack trace on
  // stderr, so it never passes for a silent stall. Sanitizer builds keep
  // their own reports.
  absl::InitializeSymbolizer(argv[0]);
  absl::InstallFailureSignalHandler(absl::FailureSignalHandlerOptions());
#endif
  std::vector<std::string> arguments(argv + 1, argv + argc);
  absl::StatusOr<Flags> flags = ParseFlags(arguments);
  if (!flags.ok()) {
    std::fprintf(stderr, "ringmta: %s\n\n%s", std::string(flags.status().message()).c_str(),
                 Usage().c_str());
    return 2;
  }
  if (flags->help) {
    std::fputs(Usage().c_str(), stdout);
    return 0;
  }
  if (flags->version) {
    std::puts(kVersion);
    return 0;
  }
  if (flags->check_config_file) {
    absl::StatusOr<DaemonConfig> checked = LoadConfigFile(*flags->check_config_file);
    if (!checked.ok()) {
      std::fprintf(stderr, "ringmta: %s\n", std::string(checked.status().message()).c_str());
      return 1;
    }
    std::printf("%s: OK\n", flags->check_config_file->c_str());
    return 0;
  }
  DaemonConfig config;
  if (flags->config_file) {
    absl::StatusOr<DaemonConfig> loaded = LoadConfigFile(*flags->config_file);
    if (!loaded.ok()) {
      std::fprintf(stderr, "ringmta: %s\n", std::string(loaded.status().message()).c_str());
      return 2;
    }
    config = *loaded;
  }
  ApplyFlags(*flags, &config);
  if (absl::Status valid = ValidateConfig(config); !valid.ok()) {
    std::fprintf(stderr, "ringmta: %s\n", std::string(valid.message()).c_str());
    return 2;
  }
  return RunDaemon(config, ConfigSource{flags->config_file, *flags});
}
