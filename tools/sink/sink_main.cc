// sink: the benchmark sink's entry point. Starts a ShardGroup serving the
// project's inbound SMTP session with a DiscardSink, writes the bound port,
// and answers signals: SIGUSR1 writes the counts, SIGTERM/SIGINT stop the
// shards (open sessions get 421) and write the final counts.
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "mta/io/operation.h"
#include "mta/io/shard.h"
#include "mta/server/inbound_session.h"
#include "tls/context.h"
#include "tools/sink/discard_sink.h"
#include "tools/sink/sink_options.h"

namespace ringmta::sink {
namespace {

struct Served {
  DiscardSinkFactory* factory;
  server::InboundConfig* inbound;
  int64_t greeting_delay_ms;
};

// The ConnectionHandler: counts the session, tarpits the greeting if asked,
// then runs the ordinary inbound session.
io::Task<void> Serve(io::Shard& shard, int fd, void* context) {
  auto* served = static_cast<Served*>(context);
  served->factory->CountSession(shard.index());
  // Replies are small writes that must go out at once: with Nagle a reply
  // written while an earlier one is unacknowledged waits for the client's
  // delayed ACK (40 ms on Linux), which stalls pipelined BDAT.
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  if (served->greeting_delay_ms > 0) {
    co_await io::Sleep(shard.reactor(), nullptr, served->greeting_delay_ms);
  }
  co_await server::ServeInbound(shard, fd, served->inbound);
}

// Replaces `path` whole (write then rename), so a reader never sees half.
bool WriteFileAtomically(const std::string& path, const std::string& text) {
  const std::string temporary = path + ".tmp";
  FILE* file = std::fopen(temporary.c_str(), "w");
  if (file == nullptr) return false;
  const bool written = std::fwrite(text.data(), 1, text.size(), file) == text.size();
  if (std::fclose(file) != 0 || !written) return false;
  return std::rename(temporary.c_str(), path.c_str()) == 0;
}

void WriteStats(const SinkOptions& options, const DiscardSinkFactory& factory) {
  if (options.stats_file.empty()) return;
  if (!WriteFileAtomically(options.stats_file, factory.Totals().ToJson())) {
    std::fprintf(stderr, "sink: cannot write %s\n", options.stats_file.c_str());
  }
}

int Main(int argc, char** argv) {
  bool help = false;
  auto options = ParseSinkOptions(std::vector<std::string>(argv + 1, argv + argc), &help);
  if (help) {
    std::fputs(kSinkUsage, stdout);
    return 0;
  }
  if (!options.ok()) {
    std::fprintf(stderr, "sink: %s\n", std::string(options.status().message()).c_str());
    return 2;
  }
  auto listen = io::SocketAddress::Parse(options->listen);
  if (!listen.ok()) {
    std::fprintf(stderr, "sink: --listen: %s\n", std::string(listen.status().message()).c_str());
    return 2;
  }
  DiscardSinkFactory factory(*options, options->shards);
  server::InboundConfig inbound;
  inbound.protocol.hostname = options->hostname;
  inbound.sinks = &factory;
  inbound.policy = &factory;
  if (!options->tls_cert.empty()) {
    tls::ServerOptions tls_options;
    tls_options.cert_chain_file = options->tls_cert;
    tls_options.private_key_file = options->tls_key;
    auto context = tls::ServerContext::Create(tls_options);
    if (!context.ok()) {
      std::fprintf(stderr, "sink: TLS: %s\n", std::string(context.status().message()).c_str());
      return 2;
    }
    inbound.tls_context = *context;
  }
  Served served{&factory, &inbound, options->greeting_delay_ms};

  // Blocked before the shard threads start, so they inherit the mask and
  // only sigwait below sees these. SIGPIPE: a client that vanishes is an
  // error on its session, not the end of the sink.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGUSR1);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  io::ShardGroupOptions group_options;
  group_options.shards = options->shards;
  group_options.listen.push_back(*listen);
  group_options.handler = &Serve;
  group_options.handler_context = &served;
  group_options.on_shard_start = &DiscardSinkFactory::BindShard;
  group_options.hook_context = &factory;
  auto group = io::ShardGroup::Start(group_options);
  if (!group.ok()) {
    std::fprintf(stderr, "sink: %s\n", std::string(group.status().message()).c_str());
    return 1;
  }
  const std::string bound = (*group)->bound()[0].ToString();
  if (!options->quiet) std::fprintf(stderr, "sink: listening on %s\n", bound.c_str());
  if (!options->port_file.empty()) {
    const std::string port = bound.substr(bound.rfind(':') + 1) + "\n";
    if (!WriteFileAtomically(options->port_file, port)) {
      std::fprintf(stderr, "sink: cannot write %s\n", options->port_file.c_str());
      (*group)->RequestStop();
      (*group)->Join();
      return 1;
    }
  }
  for (;;) {
    int signal_number = 0;
    if (sigwait(&signals, &signal_number) != 0) continue;
    if (signal_number == SIGUSR1) {
      WriteStats(*options, factory);
      continue;
    }
    break;
  }
  (*group)->RequestStop();
  (*group)->Join();
  WriteStats(*options, factory);
  if (!options->quiet) std::fprintf(stderr, "sink: %s", factory.Totals().ToJson().c_str());
  return 0;
}

}  // namespace
}  // namespace ringmta::sink

int main(int argc, char** argv) { return ringmta::sink::Main(argc, argv); }
