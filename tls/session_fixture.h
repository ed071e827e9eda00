// Test-only gtest fixture for TlsSession tests: certificates made once per
// suite, contexts for each policy, and a connected in-memory client/server pair.
#ifndef RINGMTA_TLS_SESSION_FIXTURE_H_
#define RINGMTA_TLS_SESSION_FIXTURE_H_

#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "tls/context.h"
#include "tls/session.h"
#include "tls/test_certs.h"
#include "tls/test_pump.h"

namespace ringmta::tls {

using testing::Endpoint;
using testing::KeyType;
using State = TlsSession::State;

constexpr char kHost[] = "mx.example.test";

struct Files {
  std::string ca, other_ca, cert, key, rsa_cert, rsa_key, new_cert, new_key;
};

class SessionTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::string dir = testing::MakeScratchDir();
    testing::Credential ca = testing::MakeCa("Test CA");
    testing::Credential other_ca = testing::MakeCa("Other CA");
    testing::Credential leaf = testing::MakeLeaf(ca, kHost);
    testing::Credential rsa = testing::MakeLeaf(ca, kHost, KeyType::kRsa2048);
    testing::Credential renewed = testing::MakeLeaf(ca, "mx2.example.test");
    files_ = new Files{
        testing::WriteFile(dir, "ca.pem", ca.cert_pem),
        testing::WriteFile(dir, "other_ca.pem", other_ca.cert_pem),
        testing::WriteFile(dir, "cert.pem", leaf.cert_pem),
        testing::WriteFile(dir, "key.pem", leaf.key_pem),
        testing::WriteFile(dir, "rsa_cert.pem", rsa.cert_pem),
        testing::WriteFile(dir, "rsa_key.pem", rsa.key_pem),
        testing::WriteFile(dir, "new_cert.pem", renewed.cert_pem),
        testing::WriteFile(dir, "new_key.pem", renewed.key_pem),
    };
  }
  static void TearDownTestSuite() { delete files_; }

  static std::shared_ptr<const ServerContext> Server(
      MaxVersion max = MaxVersion::kTls13, bool rsa = false) {
    ServerOptions options{rsa ? files_->rsa_cert : files_->cert,
                          rsa ? files_->rsa_key : files_->key, max};
    absl::StatusOr<std::shared_ptr<const ServerContext>> context = ServerContext::Create(options);
    EXPECT_TRUE(context.ok()) << context.status();
    return *context;
  }

  static std::shared_ptr<ClientContext> Client(ClientPolicy policy, const std::string& ca_file,
                                               MaxVersion max = MaxVersion::kTls13) {
    absl::StatusOr<std::shared_ptr<ClientContext>> context =
        ClientContext::Create(ClientOptions{policy, ca_file, max});
    EXPECT_TRUE(context.ok()) << context.status();
    return *context;
  }

  // A connected (or failed) pair; sessions live on the heap, so endpoints
  // keep pointing at them when the struct moves.
  struct Connection {
    std::unique_ptr<TlsSession> client_session, server_session;
    Endpoint client, server;
    TlsSession& c() { return *client_session; }
    TlsSession& s() { return *server_session; }
  };

  static Connection Connect(std::shared_ptr<const ServerContext> server,
                            std::shared_ptr<ClientContext> client, std::string_view host = kHost) {
    Connection connection;
    connection.client_session = *TlsSession::NewClient(std::move(client), host);
    connection.server_session = *TlsSession::NewServer(std::move(server));
    connection.client.session = connection.client_session.get();
    connection.server.session = connection.server_session.get();
    EXPECT_TRUE(connection.c().Handshake().ok());
    testing::Pump(connection.client, connection.server);
    return connection;
  }

  static void Send(TlsSession& from, std::string_view bytes) {
    absl::StatusOr<size_t> accepted = from.Write(bytes);
    ASSERT_TRUE(accepted.ok()) << accepted.status();
    ASSERT_EQ(*accepted, bytes.size());
  }

  static inline Files* files_ = nullptr;
};

}  // namespace ringmta::tls

#endif  // RINGMTA_TLS_SESSION_FIXTURE_H_
