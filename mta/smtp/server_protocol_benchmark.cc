// Whole mail transactions per second through the server state machine on
// one core: the protocol's own ceiling, with no sockets, TLS or queue (the
// sink only counts). Complements BM_ServerCommands in data_codec_benchmark.cc.
// Run: bazel build //mta/smtp:server_protocol_benchmark &&
//      bazel-bin/mta/smtp/server_protocol_benchmark
#include <string>

#include <benchmark/benchmark.h>

#include "mta/smtp/server_protocol.h"

namespace ringmta::smtp {
namespace {

class CountingSink : public MessageSink {
 public:
  absl::Status Begin(const Envelope&) override { return absl::OkStatus(); }
  absl::Status Append(std::string_view piece) override {
    bytes += piece.size();
    return absl::OkStatus();
  }
  void Abort() override {}
  uint64_t bytes = 0;
};

// A body of `bytes` in 76-octet lines, dot-stuffed on the wire now and then.
std::string WireBody(size_t bytes) {
  std::string wire = "From: a@example.com\r\nTo: b@example.net\r\nSubject: bench\r\n\r\n";
  for (int line = 0; wire.size() < bytes; ++line) {
    if (line % 40 == 0) wire += "..";
    wire += std::string(74, 'a' + line % 26) + "\r\n";
  }
  return wire + ".\r\n";
}

// One connection per iteration: EHLO, then 100 pipelined transactions
// (MAIL, RCPT, DATA, body) each committed at once, as the I/O layer would
// after the queue's fdatasync. Items are messages.
void BM_ServerTransactions(benchmark::State& state) {
  const std::string body = WireBody(static_cast<size_t>(state.range(0)));
  std::string script = "EHLO client.example\r\n";
  for (int i = 0; i < 100; ++i) {
    script += "MAIL FROM:<sender@example.com> BODY=8BITMIME\r\nRCPT TO:<rcpt@example.net>\r\nDATA\r\n";
    script += body;
  }
  CountingSink sink;
  ServerConfig config;
  config.message_bytes_max = 1 << 20;
  int64_t messages = 0;
  for (auto _ : state) {
    ServerProtocol server(config, &sink, PeerInfo("192.0.2.1"));
    server.Start();
    std::string_view rest = script;
    while (!rest.empty() && !server.closed()) {
      rest.remove_prefix(server.Feed(rest));
      server.output().clear();
      if (server.TakeAction() == Action::kCommit) {
        server.OnCommitted(absl::OkStatus());
        ++messages;
      }
    }
    benchmark::DoNotOptimize(sink.bytes);
  }
  if (messages != state.iterations() * 100) state.SkipWithError("not every message committed");
  state.SetItemsProcessed(messages);
  state.SetBytesProcessed(messages * static_cast<int64_t>(body.size()));
}
BENCHMARK(BM_ServerTransactions)->Arg(1024)->Arg(64 * 1024);

}  // namespace
}  // namespace ringmta::smtp
