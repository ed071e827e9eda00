// Reload's pure parts: reading the config again (flags over the file),
// the snapshots it builds, and the keys only a restart applies.
#include "mta/daemon/reload.h"

#include <unistd.h>

#include <cstdio>
#include <fstream>

#include "gtest/gtest.h"

namespace ringmta::daemon {
namespace {

std::string WriteFile(const std::string& text) {
  char path[] = "/tmp/reload_test_XXXXXX";
  int fd = mkstemp(path);
  EXPECT_GE(fd, 0);
  close(fd);
  std::ofstream(path) << text;
  return path;
}

TEST(ReloadTest, ReadsTheFileThenTheFlags) {
  std::string path = WriteFile("[delivery]\nsmarthost = \"a.example:2525\"\n[smtp]\nrecipients_max = 200\n");
  ConfigSource source{path, {}};
  source.flags.smarthost = "b.example:25";
  absl::StatusOr<DaemonConfig> config = ReadConfig(source);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->smarthost, "b.example:25");  // the flag wins, as at start
  EXPECT_EQ(config->recipients_max, 200);
  std::remove(path.c_str());
}

TEST(ReloadTest, ABrokenFileIsAnErrorNamingKeyAndLine) {
  std::string path = WriteFile("[smtp]\nrecipients_max = 200\nbogus = 1\n");
  absl::StatusOr<DaemonConfig> config = ReadConfig(ConfigSource{path, {}});
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.status().message().find(":3: smtp.bogus: unknown key"), std::string::npos)
      << config.status();
  std::remove(path.c_str());
  EXPECT_FALSE(ReadConfig(ConfigSource{path, {}}).ok());  // gone
}

TEST(ReloadTest, SnapshotsCarryNewLimitsAndKeepTheBases) {
  DaemonConfig config;
  config.smarthost = "relay.example:2525";
  config.message_bytes_max = 5000;
  config.recipients_max = 150;
  config.command_timeout_ms = 7000;
  config.data_timeout_ms = 8000;
  config.junk_commands_max = 9;
  server::InboundConfig inbound;
  inbound.protocol.hostname = "mx.example";
  server::InboundConfig submission = inbound;
  submission.protocol.auth_required = true;
  absl::StatusOr<Snapshots> snapshots = BuildSnapshots(config, "mx.example", inbound, submission);
  ASSERT_TRUE(snapshots.ok()) << snapshots.status();
  EXPECT_EQ(snapshots->inbound->protocol.message_bytes_max, 5000u);
  EXPECT_EQ(snapshots->inbound->protocol.recipients_max, 150);
  EXPECT_EQ(snapshots->inbound->command_timeout_ms, 7000);
  EXPECT_EQ(snapshots->inbound->data_timeout_ms, 8000);
  EXPECT_EQ(snapshots->inbound->protocol.junk_commands_max, 9);
  EXPECT_FALSE(snapshots->submission->implicit_tls);
  EXPECT_TRUE(snapshots->submission_tls->implicit_tls);
  EXPECT_TRUE(snapshots->submission_tls->protocol.auth_required);
  EXPECT_EQ(snapshots->inbound->protocol.hostname, "mx.example");
  EXPECT_FALSE(snapshots->inbound->protocol.auth_required);
  EXPECT_TRUE(snapshots->submission->protocol.auth_required);
  EXPECT_EQ(snapshots->submission->protocol.message_bytes_max, 5000u);
  EXPECT_EQ(snapshots->inbound->tls_context, nullptr);
  const relay::NextHop* hop = snapshots->relay->router.SmartHostFor("any.example");
  ASSERT_NE(hop, nullptr);
  EXPECT_EQ(hop->host, "relay.example");
  EXPECT_EQ(hop->port, 2525);
  EXPECT_EQ(snapshots->relay->config.ehlo_name, "mx.example");
}

TEST(ReloadTest, AMissingCertificateFailsTheWholeSnapshot) {
  DaemonConfig config;
  config.tls_cert_file = "/nonexistent/cert.pem";
  config.tls_key_file = "/nonexistent/key.pem";
  EXPECT_FALSE(BuildSnapshots(config, "h", server::InboundConfig{}, server::InboundConfig{}).ok());
}

TEST(ReloadTest, RestartOnlyKeysAreNamed) {
  DaemonConfig running;
  DaemonConfig next = running;
  next.smarthost = "elsewhere.example:25";
  next.recipients_max = 100;
  EXPECT_TRUE(KeysNeedingRestart(running, next).empty());
  next.listen = {"127.0.0.1:2526"};
  next.shards = 3;
  next.delivery_dns_servers = {"127.0.0.1:53"};
  EXPECT_EQ(KeysNeedingRestart(running, next),
            (std::vector<std::string>{"server.listen", "server.shards", "delivery.dns_servers"}));
}

}  // namespace
}  // namespace ringmta::daemon
