// In-memory TLS costs: server-side handshakes/s (ECDSA P-256, RSA 2048) and
// bulk throughput through an established session. No sockets, so these are
// the CPU ceilings a shard cannot exceed, not end-to-end figures.
#include <benchmark/benchmark.h>

#include <chrono>
#include <string>

#include "mta/base/check.h"
#include "tls/context.h"
#include "tls/session.h"
#include "tls/test_certs.h"
#include "tls/test_pump.h"

namespace ringmta::tls {
namespace {

constexpr char kHost[] = "mx.example.test";

struct Setup {
  std::shared_ptr<const ServerContext> server;
  std::shared_ptr<ClientContext> client;
};

Setup MakeSetup(testing::KeyType type, MaxVersion max) {
  std::string dir = testing::MakeScratchDir();
  testing::Credential ca = testing::MakeCa("Bench CA");
  testing::Credential leaf = testing::MakeLeaf(ca, kHost, type);
  ServerOptions server{testing::WriteFile(dir, "cert.pem", leaf.cert_pem),
                       testing::WriteFile(dir, "key.pem", leaf.key_pem), max};
  ClientOptions client{ClientPolicy::kVerify, testing::WriteFile(dir, "ca.pem", ca.cert_pem)};
  return Setup{*ServerContext::Create(server), *ClientContext::Create(client)};
}

double Seconds(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

// Full handshakes (the client's cached ticket is dropped after each one).
// Only the server's Feed calls are timed: a shard's CPU per inbound STARTTLS.
void ServerHandshake(benchmark::State& state, testing::KeyType type, MaxVersion max) {
  Setup setup = MakeSetup(type, max);
  for (auto _ : state) {
    std::unique_ptr<TlsSession> server = *TlsSession::NewServer(setup.server);
    std::unique_ptr<TlsSession> client = *TlsSession::NewClient(setup.client, kHost);
    std::chrono::steady_clock::duration server_time{};
    CHECK(client->Handshake().ok());
    std::string bytes;
    while (!(server->handshake_done() && client->handshake_done())) {
      bytes.clear();
      client->TakeOutput(&bytes);
      auto start = std::chrono::steady_clock::now();
      CHECK(server->Feed(bytes).ok());
      server_time += std::chrono::steady_clock::now() - start;
      bytes.clear();
      server->TakeOutput(&bytes);
      CHECK(client->Feed(bytes).ok());
    }
    CHECK(!server->session_reused());
    state.SetIterationTime(Seconds(server_time));
    // Keep every handshake a full one.
    setup.client->session_cache().Erase(kHost);
  }
  state.counters["handshakes/s"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}

// Client Write of 16 KiB records and server Feed of the ciphertext, both on
// this core: the cost of one relayed byte through inbound and outbound TLS.
void Bulk(benchmark::State& state, MaxVersion max) {
  Setup setup = MakeSetup(testing::KeyType::kEcdsaP256, max);
  std::unique_ptr<TlsSession> server = *TlsSession::NewServer(setup.server);
  std::unique_ptr<TlsSession> client = *TlsSession::NewClient(setup.client, kHost);
  testing::Endpoint c{client.get(), {}, {}}, s{server.get(), {}, {}};
  CHECK(client->Handshake().ok());
  testing::Pump(c, s);
  CHECK(client->state() == TlsSession::State::kOpen);
  const std::string chunk(state.range(0), 'x');
  std::string wire;
  for (auto _ : state) {
    CHECK(client->Write(chunk).value() == chunk.size());
    wire.clear();
    client->TakeOutput(&wire);
    size_t offset = 0;
    while (offset < wire.size()) {
      offset += server->Feed(std::string_view(wire).substr(offset)).value();
      benchmark::DoNotOptimize(server->plaintext().data());
      server->ConsumePlaintext(server->plaintext().size());
    }
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(chunk.size()));
}

BENCHMARK_CAPTURE(ServerHandshake, ecdsa_p256_tls13, testing::KeyType::kEcdsaP256,
                  MaxVersion::kTls13)->UseManualTime();
BENCHMARK_CAPTURE(ServerHandshake, rsa2048_tls13, testing::KeyType::kRsa2048,
                  MaxVersion::kTls13)->UseManualTime();
BENCHMARK_CAPTURE(ServerHandshake, ecdsa_p256_tls12, testing::KeyType::kEcdsaP256,
                  MaxVersion::kTls12)->UseManualTime();
BENCHMARK_CAPTURE(Bulk, tls13, MaxVersion::kTls13)->Arg(16384)->Arg(65536);
BENCHMARK_CAPTURE(Bulk, tls12, MaxVersion::kTls12)->Arg(65536);

}  // namespace
}  // namespace ringmta::tls
