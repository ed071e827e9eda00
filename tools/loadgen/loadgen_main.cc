// loadgen: the SMTP load generator's entry point. Splits the sessions, the
// messages and the rate over the threads, runs them, merges their counts
// and prints the report. See kLoadUsage (load_options.cc) for the flags.
#include <signal.h>

#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "mta/io/listener.h"
#include "tools/loadgen/load_options.h"
#include "tools/loadgen/load_report.h"
#include "tools/loadgen/load_worker.h"
#include "tools/loadgen/message_builder.h"

namespace ringmta::loadgen {
namespace {

int Main(int argc, char** argv) {
  // A server that closes on us must be an error count, not a SIGPIPE.
  signal(SIGPIPE, SIG_IGN);
  bool help = false;
  auto options = ParseLoadOptions(std::vector<std::string>(argv + 1, argv + argc), &help);
  if (help) {
    std::fputs(kLoadUsage, stdout);
    return 0;
  }
  if (!options.ok()) {
    std::fprintf(stderr, "loadgen: %s\n", std::string(options.status().message()).c_str());
    return 2;
  }
  auto server = io::SocketAddress::Parse(options->server);
  if (!server.ok()) {
    std::fprintf(stderr, "loadgen: --server: %s\n",
                 std::string(server.status().message()).c_str());
    return 2;
  }
  const std::string first_recipient = "rcpt0@" + options->recipient_domain;
  const MessageBuilder message(options->size_bytes, options->sender, first_recipient);

  const int threads = options->threads;
  const int64_t start_ns = MonotonicNs();
  std::vector<std::unique_ptr<LoadWorker>> workers;
  for (int t = 0; t < threads; ++t) {
    WorkShare share;
    share.thread_index = t;
    share.sessions = options->sessions / threads + (t < options->sessions % threads ? 1 : 0);
    const uint64_t remainder = options->messages % static_cast<uint64_t>(threads);
    share.messages = options->messages / threads + (static_cast<uint64_t>(t) < remainder ? 1 : 0);
    share.deadline_ns =
        options->duration_s > 0 ? start_ns + static_cast<int64_t>(options->duration_s * 1e9) : 0;
    share.rate_per_s = options->rate_per_s / threads;
    share.start_ns = start_ns;
    workers.push_back(std::make_unique<LoadWorker>(*options, message, *server, share));
  }
  std::vector<absl::Status> results(threads);
  std::vector<std::thread> running;
  for (int t = 0; t < threads; ++t) {
    running.emplace_back([&, t] { results[t] = workers[t]->Run(); });
  }
  for (std::thread& thread : running) thread.join();
  const double elapsed_s = static_cast<double>(MonotonicNs() - start_ns) / 1e9;
  LoadStats total;
  for (int t = 0; t < threads; ++t) {
    if (!results[t].ok()) {
      std::fprintf(stderr, "loadgen: thread %d: %s\n", t,
                   std::string(results[t].message()).c_str());
      return 2;
    }
    total.Merge(workers[t]->stats());
  }
  const std::string report = options->json
                                 ? JsonReport(*options, message.size_bytes(), total, elapsed_s)
                                 : TextReport(*options, message.size_bytes(), total, elapsed_s);
  std::fputs(report.c_str(), stdout);
  return 0;
}

}  // namespace
}  // namespace ringmta::loadgen

int main(int argc, char** argv) { return ringmta::loadgen::Main(argc, argv); }
