// DATA scanning throughput (issue 3 asks for above 1 GB/s) and commands per
// second through the server state machine, per core.
// Run: bazel run -c opt //mta/smtp:data_codec_benchmark
#include <string>

#include <benchmark/benchmark.h>

#include "mta/smtp/data_codec.h"
#include "mta/smtp/server_protocol.h"

namespace ringmta::smtp {
namespace {

// A realistic body: 76-character lines, with a stuffed dot now and then.
std::string MakeWireBody(size_t bytes) {
  std::string wire;
  for (int line = 0; wire.size() < bytes; ++line) {
    if (line % 50 == 0) wire += "..";
    wire += std::string(74, 'a' + line % 26) + "\r\n";
  }
  return wire + ".\r\n";
}

void BM_DataDecode(benchmark::State& state) {
  const std::string wire = MakeWireBody(static_cast<size_t>(state.range(0)));
  for (auto _ : state) {
    DataDecoder decoder(DataDecoder::Framing::kDotStuffed, BareLinePolicy::kReject);
    size_t sunk = 0;
    std::string_view rest = wire;
    while (!rest.empty() && !decoder.done()) {
      // 4 KiB pieces, the size of one provided receive buffer.
      const size_t used = decoder.Decode(rest.substr(0, 4096),
                                         [&](std::string_view piece) { sunk += piece.size(); });
      rest.remove_prefix(used);
    }
    benchmark::DoNotOptimize(sunk);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * wire.size()));
}
BENCHMARK(BM_DataDecode)->Arg(1 << 20);

void BM_DataEncode(benchmark::State& state) {
  const std::string body = MakeWireBody(static_cast<size_t>(state.range(0)));
  std::string out;
  for (auto _ : state) {
    out.clear();
    DataEncoder encoder;
    encoder.Encode(body, &out);
    encoder.Finish(&out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * body.size()));
}
BENCHMARK(BM_DataEncode)->Arg(1 << 20);

class NullSink : public MessageSink {
 public:
  absl::Status Begin(const Envelope&) override { return absl::OkStatus(); }
  absl::Status Append(std::string_view) override { return absl::OkStatus(); }
  void Abort() override {}
};

void BM_ServerCommands(benchmark::State& state) {
  // One connection per iteration: EHLO and 100 pipelined MAIL/RCPT/RSET
  // transactions (the per-connection transaction bound is 1000).
  std::string script = "EHLO client.example\r\n";
  for (int i = 0; i < 100; ++i) {
    script += "MAIL FROM:<sender@example.com> SIZE=1000\r\nRCPT TO:<rcpt@example.net>\r\nRSET\r\n";
  }
  NullSink sink;
  const ServerConfig config;
  for (auto _ : state) {
    ServerProtocol server(config, &sink, PeerInfo{"192.0.2.1", false});
    server.Start();
    benchmark::DoNotOptimize(server.Feed(script));
    benchmark::DoNotOptimize(server.output().data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * 301));  // commands
}
BENCHMARK(BM_ServerCommands);

}  // namespace
}  // namespace ringmta::smtp
