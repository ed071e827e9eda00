#include "mta/daemon/config.h"

#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "mta/daemon/flags.h"

namespace ringmta::daemon {
namespace {

TEST(ConfigTest, DefaultsAreValid) { EXPECT_TRUE(ValidateConfig(DaemonConfig{}).ok()); }

TEST(ConfigTest, ReadsEveryKnownKey) {
  auto config = ParseConfig(R"(
[server]
listen = ["127.0.0.1:25", "[::1]:25"]
shards = 2
spool = "/var/spool/ringmta"
hostname = "relay.example"
log_level = "debug"

[smtp]
message_bytes_max = 10485760
recipients_max = 500
errors_max = 10
idle_timeout_ms = 60000
connections_per_shard_max = 100
)",
                            "test.toml");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->listen, (std::vector<std::string>{"127.0.0.1:25", "[::1]:25"}));
  EXPECT_EQ(config->shards, 2);
  EXPECT_EQ(config->spool, "/var/spool/ringmta");
  EXPECT_EQ(config->hostname, "relay.example");
  EXPECT_EQ(config->message_bytes_max, 10485760u);
  EXPECT_EQ(config->recipients_max, 500);
  EXPECT_EQ(config->errors_max, 10);
  EXPECT_EQ(config->command_timeout_ms, 60000);  // the older name still works
  EXPECT_EQ(config->connections_per_shard_max, 100);
}

TEST(ConfigTest, QueueLifetimeIsReadAndBounded) {
  auto config = ParseConfig("[queue]\nlifetime_ms = 86400000\n", "q.toml");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->queue_lifetime_ms, 86'400'000);
  EXPECT_EQ(DaemonConfig{}.queue_lifetime_ms, int64_t{5} * 24 * 3600 * 1000);
  auto too_short = ParseConfig("[queue]\nlifetime_ms = 10\n", "q.toml");
  ASSERT_FALSE(too_short.ok());
  EXPECT_NE(too_short.status().message().find("q.toml:2: queue.lifetime_ms"), std::string::npos)
      << too_short.status();
}

TEST(ConfigTest, UnknownKeyIsNamedWithItsLine) {
  auto config = ParseConfig("[server]\nshards = 1\nshardz = 2\n", "relay.toml");
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().message(), "relay.toml:3: server.shardz: unknown key");
}

TEST(ConfigTest, UnknownSectionIsRejected) {
  auto config = ParseConfig("[srever]\nshards = 1\n", "x.toml");
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.status().message().find("srever: unknown section"), std::string::npos);
}

TEST(ConfigTest, BoundsMayOnlyNarrowLimits) {
  auto config = ParseConfig("[smtp]\nrecipients_max = 50\n", "x.toml");
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.status().message().find("x.toml:2: smtp.recipients_max: must be between 100"),
            std::string::npos)
      << config.status();
}

TEST(ConfigTest, WrongTypeIsRejected) {
  auto config = ParseConfig("[server]\nshards = \"two\"\n", "x.toml");
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.status().message().find("server.shards: must be an integer"), std::string::npos);
}

TEST(ConfigTest, SyntaxErrorNamesTheLine) {
  auto config = ParseConfig("[server]\nshards = = 1\n", "x.toml");
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().message().rfind("x.toml:2: ", 0), 0u) << config.status();
}

TEST(ConfigTest, BadListenAddressIsRejected) {
  auto config = ParseConfig("[server]\nlisten = [\"localhost\"]\n", "x.toml");
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.status().message().find("HOST:PORT"), std::string::npos) << config.status();
}

TEST(ConfigTest, ReadsRelayAuthAndSubmissionKeys) {
  auto config = ParseConfig(R"(
[relay]
networks = ["10.0.0.0/8", "2001:db8::/32"]
allow_open_relay = false

[auth]
credentials_file = "/etc/ringmta/passwd"
allow_plaintext = true
failures_max = 5

[submission]
listen = ["127.0.0.1:587"]
)",
                            "test.toml");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->relay_networks, (std::vector<std::string>{"10.0.0.0/8", "2001:db8::/32"}));
  EXPECT_FALSE(config->allow_open_relay);
  EXPECT_EQ(config->auth_credentials_file, "/etc/ringmta/passwd");
  EXPECT_TRUE(config->auth_allow_plaintext);
  EXPECT_EQ(config->auth_failures_max, 5);
  EXPECT_EQ(config->submission_listen, (std::vector<std::string>{"127.0.0.1:587"}));
}

TEST(ConfigTest, RelayDefaultsToLoopbackOnly) {
  DaemonConfig config;
  EXPECT_EQ(config.relay_networks, (std::vector<std::string>{"127.0.0.0/8", "::1/128"}));
  EXPECT_TRUE(config.submission_listen.empty());
  EXPECT_TRUE(config.auth_credentials_file.empty());
}

TEST(ConfigTest, BadNetworkIsNamedWithItsLine) {
  auto config = ParseConfig("[relay]\nnetworks = [\n  \"127.0.0.0/8\",\n  \"10.0.0.1/8\"]\n",
                            "x.toml");
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().message(),
            "x.toml:4: relay.networks: \"10.0.0.1/8\" has host bits set beyond its prefix length");
}

TEST(ConfigTest, NetworksMustBeAnArrayOfStrings) {
  auto config = ParseConfig("[relay]\nnetworks = \"10.0.0.0/8\"\n", "x.toml");
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.status().message().find("must be an array of CIDR strings"), std::string::npos);
  config = ParseConfig("[relay]\nnetworks = [8]\n", "x.toml");
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.status().message().find("must be a string"), std::string::npos);
}

TEST(ConfigTest, OpenRelayIsRefusedUnlessForced) {
  for (const char* network : {"0.0.0.0/0", "::/0"}) {
    std::string text = std::string("[relay]\nnetworks = [\"") + network + "\"]\n";
    auto refused = ParseConfig(text, "x.toml");
    ASSERT_FALSE(refused.ok()) << network;
    EXPECT_NE(refused.status().message().find("open relay"), std::string::npos);
    EXPECT_NE(refused.status().message().find("relay.allow_open_relay"), std::string::npos);
    auto forced = ParseConfig(text + "allow_open_relay = true\n", "x.toml");
    EXPECT_TRUE(forced.ok()) << forced.status();
  }
}

TEST(ConfigTest, OpenRelayIsRefusedAfterFlagsToo) {
  DaemonConfig config;
  config.relay_networks = {"0.0.0.0/0"};
  EXPECT_FALSE(ValidateConfig(config).ok());
  config.relay_networks = {"not-a-network"};
  EXPECT_NE(ValidateConfig(config).message().find("relay.networks: \"not-a-network\""),
            std::string::npos);
}

TEST(ConfigTest, BoolKeyRejectsOtherTypes) {
  auto config = ParseConfig("[auth]\nallow_plaintext = 1\n", "x.toml");
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.status().message().find("auth.allow_plaintext: must be true or false"),
            std::string::npos);
}

TEST(ConfigTest, AuthFailuresMaxIsBounded) {
  auto config = ParseConfig("[auth]\nfailures_max = 0\n", "x.toml");
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.status().message().find("auth.failures_max: must be between 1"),
            std::string::npos);
  DaemonConfig direct;
  direct.auth_failures_max = 100;
  EXPECT_FALSE(ValidateConfig(direct).ok());
}

TEST(ConfigTest, SubmissionNeedsCredentials) {
  auto config = ParseConfig("[submission]\nlisten = [\"127.0.0.1:587\"]\n", "x.toml");
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().message(), "submission.listen needs auth.credentials_file");
}

TEST(ConfigTest, BadSubmissionAddressIsRejected) {
  auto config = ParseConfig("[submission]\nlisten = [\"nowhere\"]\n", "x.toml");
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.status().message().find("x.toml:2: submission.listen:"), std::string::npos)
      << config.status();
  DaemonConfig direct;
  direct.auth_credentials_file = "/x";
  direct.submission_listen = {"nowhere"};
  EXPECT_NE(ValidateConfig(direct).message().find("submission.listen: "), std::string::npos);
}

TEST(ConfigTest, ListenersCountTogether) {
  DaemonConfig config;
  config.auth_credentials_file = "/x";
  config.listen = std::vector<std::string>(limits::kListenersMax, "127.0.0.1:25");
  config.submission_listen = {"127.0.0.1:587"};
  EXPECT_NE(ValidateConfig(config).message().find("server and submission together"),
            std::string::npos);
}

TEST(ConfigTest, ReadsTimeoutAndJunkKeys) {
  auto config = ParseConfig(R"([smtp]
command_timeout_ms = 120000
data_timeout_ms = 90000
tls_handshake_timeout_ms = 5000
junk_commands_max = 20
)",
                            "x.toml");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->command_timeout_ms, 120000);
  EXPECT_EQ(config->data_timeout_ms, 90000);
  EXPECT_EQ(config->tls_handshake_timeout_ms, 5000);
  EXPECT_EQ(config->junk_commands_max, 20);
  EXPECT_EQ(DaemonConfig{}.data_timeout_ms, limits::kSmtpServerDataBlockTimeoutMs);
}

TEST(ConfigTest, OldAndNewNameOfTheCommandTimeoutTogetherAreAnError) {
  auto config = ParseConfig("[smtp]\ncommand_timeout_ms = 2000\nidle_timeout_ms = 3000\n",
                            "x.toml");
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().message(),
            "x.toml:3: smtp.idle_timeout_ms: is the older name of smtp.command_timeout_ms; set "
            "only one");
}

TEST(ConfigTest, TimeoutsAndJunkMayOnlyNarrowLimits) {
  for (const char* text :
       {"[smtp]\ncommand_timeout_ms = 300001\n", "[smtp]\ndata_timeout_ms = 180001\n",
        "[smtp]\ntls_handshake_timeout_ms = 999\n", "[smtp]\njunk_commands_max = 101\n",
        "[smtp]\njunk_commands_max = 0\n"}) {
    auto config = ParseConfig(text, "x.toml");
    ASSERT_FALSE(config.ok()) << text;
    EXPECT_NE(config.status().message().find("x.toml:2: smtp."), std::string::npos)
        << config.status();
    EXPECT_NE(config.status().message().find("must be between"), std::string::npos)
        << config.status();
  }
}

TEST(ConfigTest, ImplicitTlsSubmissionNeedsACertificate) {
  auto config = ParseConfig(
      "[auth]\ncredentials_file = \"/x\"\n[submission]\ntls_listen = [\"127.0.0.1:465\"]\n",
      "x.toml");
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.status().message().find("submission.tls_listen needs a certificate"),
            std::string::npos)
      << config.status();
  // Flags (--tls-cert) may replace the file's paths, not stand in for them:
  // --check-config judges the file alone.
  DaemonConfig direct;
  direct.auth_credentials_file = "/x";
  direct.submission_tls_listen = {"127.0.0.1:465"};
  EXPECT_FALSE(ValidateConfig(direct).ok());
  direct.tls_cert_file = "/cert.pem";
  direct.tls_key_file = "/key.pem";
  EXPECT_TRUE(ValidateConfig(direct).ok()) << ValidateConfig(direct);
}

TEST(ConfigTest, ImplicitTlsSubmissionNeedsCredentials) {
  auto config = ParseConfig(
      "[tls]\ncert_file = \"/c\"\nkey_file = \"/k\"\n[submission]\ntls_listen = "
      "[\"127.0.0.1:465\"]\n",
      "x.toml");
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().message(), "submission.tls_listen needs auth.credentials_file");
}

TEST(ConfigTest, BadImplicitTlsAddressIsNamedWithItsLine) {
  auto config = ParseConfig("[submission]\ntls_listen = [\"465\"]\n", "x.toml");
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.status().message().find("x.toml:2: submission.tls_listen:"), std::string::npos)
      << config.status();
}

TEST(ConfigTest, ImplicitTlsListenersCountToo) {
  DaemonConfig config;
  config.auth_credentials_file = "/x";
  config.tls_cert_file = "/c";
  config.tls_key_file = "/k";
  config.listen = std::vector<std::string>(limits::kListenersMax, "127.0.0.1:25");
  config.submission_tls_listen = {"127.0.0.1:465"};
  EXPECT_NE(ValidateConfig(config).message().find("server and submission together"),
            std::string::npos);
}

TEST(ConfigDocsTest, EveryKeyIsDocumented) {
  std::ifstream file("docs/config.md");
  ASSERT_TRUE(file) << "docs/config.md not in the test's runfiles";
  std::stringstream text;
  text << file.rdbuf();
  for (const std::string& key : KnownConfigKeys()) {
    EXPECT_NE(text.str().find("`" + key + "`"), std::string::npos)
        << key << " is missing from docs/config.md";
  }
}

TEST(FlagsTest, ListenRepeatsAndOverridesTheFile) {
  auto flags = ParseFlags({"--listen", "127.0.0.1:2525", "--listen=[::1]:2525", "--shards", "3",
                           "--spool", "/tmp/s"});
  ASSERT_TRUE(flags.ok()) << flags.status();
  DaemonConfig config;
  config.listen = {"0.0.0.0:25"};
  ApplyFlags(*flags, &config);
  EXPECT_EQ(config.listen, (std::vector<std::string>{"127.0.0.1:2525", "[::1]:2525"}));
  EXPECT_EQ(config.shards, 3);
  EXPECT_EQ(config.spool, "/tmp/s");
}

TEST(FlagsTest, UnknownArgumentIsAnError) {
  auto flags = ParseFlags({"--lisen", "x"});
  ASSERT_FALSE(flags.ok());
  EXPECT_EQ(flags.status().message(), "unknown argument '--lisen'");
}

TEST(FlagsTest, MissingValueIsAnError) {
  auto flags = ParseFlags({"--shards"});
  ASSERT_FALSE(flags.ok());
  EXPECT_EQ(flags.status().message(), "--shards needs a value");
}

TEST(FlagsTest, NonNumericShardsIsAnError) {
  auto flags = ParseFlags({"--shards", "two"});
  ASSERT_FALSE(flags.ok());
  EXPECT_NE(flags.status().message().find("--shards needs a number"), std::string::npos);
}

TEST(ConfigTest, ReadsMetricsAndDeliveryLogKeys) {
  auto config = ParseConfig(R"([admin]
metrics_listen = "127.0.0.1:9100"
metrics_destinations_max = 5

[log]
delivery_log = "/var/log/ringmta/delivery.log"
)",
                            "test.toml");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->metrics_listen, "127.0.0.1:9100");
  EXPECT_EQ(config->metrics_destinations_max, 5);
  EXPECT_EQ(config->delivery_log, "/var/log/ringmta/delivery.log");
  EXPECT_TRUE(DaemonConfig{}.metrics_listen.empty());  // off by default
  EXPECT_TRUE(DaemonConfig{}.delivery_log.empty());
}

TEST(ConfigTest, NonLoopbackMetricsAreRefusedUnlessAllowed) {
  auto refused = ParseConfig("[admin]\nmetrics_listen = \"0.0.0.0:9100\"\n", "m.toml");
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("admin.metrics_listen"), std::string_view::npos);
  EXPECT_TRUE(ParseConfig("[admin]\nmetrics_listen = \"[::]:9100\"\n"
                          "metrics_allow_non_loopback = true\n",
                          "m.toml")
                  .ok());
}

TEST(ConfigTest, BadMetricsKeysAreNamedWithTheirLine) {
  auto address = ParseConfig("[admin]\n\nmetrics_listen = \"nonsense\"\n", "m.toml");
  ASSERT_FALSE(address.ok());
  EXPECT_NE(address.status().message().find("m.toml:3: admin.metrics_listen"),
            std::string_view::npos)
      << address.status();
  auto bound = ParseConfig("[admin]\nmetrics_destinations_max = 101\n", "m.toml");
  ASSERT_FALSE(bound.ok());
  EXPECT_NE(bound.status().message().find("admin.metrics_destinations_max"), std::string_view::npos);
  EXPECT_FALSE(ParseConfig("[log]\ndelivery_log = 3\n", "m.toml").ok());
}

TEST(FlagsTest, MetricsAndDeliveryLogFlagsOverrideTheFile) {
  auto flags = ParseFlags({"--metrics-listen", "127.0.0.1:0", "--delivery-log=/tmp/d.log"});
  ASSERT_TRUE(flags.ok()) << flags.status();
  DaemonConfig config;
  config.metrics_listen = "127.0.0.1:9100";
  ApplyFlags(*flags, &config);
  EXPECT_EQ(config.metrics_listen, "127.0.0.1:0");
  EXPECT_EQ(config.delivery_log, "/tmp/d.log");
  config.metrics_listen = "192.0.2.1:9100";
  EXPECT_FALSE(ValidateConfig(config).ok());  // flags are validated too
}

}  // namespace
}  // namespace ringmta::daemon

namespace ringmta::daemon {
namespace {

TEST(ConfigTest, ReadsDestinationLimitsAndPrivilegeKeys) {
  auto config = ParseConfig(R"(
[server]
user = "ringmta"
group = "mail"

[delivery]
messages_per_connection_max = 50
messages_per_second_per_destination = 5
connections_per_second_per_destination = 2
destination_forget_ms = 60000
)",
                            "test.toml");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->user, "ringmta");
  EXPECT_EQ(config->group, "mail");
  EXPECT_EQ(config->delivery_messages_per_connection_max, 50);
  EXPECT_EQ(config->delivery_messages_per_second_per_destination, 5);
  EXPECT_EQ(config->delivery_connections_per_second_per_destination, 2);
  EXPECT_EQ(config->delivery_destination_forget_ms, 60000);
}

TEST(ConfigTest, RateLimitsDefaultToUnlimitedAndZeroIsAllowed) {
  DaemonConfig defaults;
  EXPECT_EQ(defaults.delivery_messages_per_second_per_destination, 0);
  EXPECT_EQ(defaults.delivery_connections_per_second_per_destination, 0);
  auto config = ParseConfig("[delivery]\nmessages_per_second_per_destination = 0\n", "x.toml");
  EXPECT_TRUE(config.ok()) << config.status();
}

TEST(ConfigTest, DestinationLimitsOutsideTheirBoundsNameKeyAndLine) {
  struct Case {
    const char* text;
    const char* error;
  };
  for (const Case& c : {
           Case{"[delivery]\n\nmessages_per_second_per_destination = 100001\n",
                "x.toml:3: delivery.messages_per_second_per_destination: must be between 0 and "
                "100000"},
           Case{"[delivery]\nconnections_per_second_per_destination = -1\n",
                "x.toml:2: delivery.connections_per_second_per_destination: must be between 0"},
           Case{"[delivery]\nmessages_per_connection_max = 0\n",
                "x.toml:2: delivery.messages_per_connection_max: must be between 1 and 100000"},
           Case{"[delivery]\ndestination_forget_ms = 999\n",
                "x.toml:2: delivery.destination_forget_ms: must be between 1000 and 86400000"},
       }) {
    auto config = ParseConfig(c.text, "x.toml");
    ASSERT_FALSE(config.ok()) << c.text;
    EXPECT_NE(config.status().message().find(c.error), std::string::npos) << config.status();
  }
}

TEST(ConfigTest, GroupWithoutUserIsRejected) {
  auto config = ParseConfig("[server]\ngroup = \"mail\"\n", "x.toml");
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.status().message().find("server.group needs server.user"), std::string::npos);
}

TEST(ConfigTest, UserMustBeAString) {
  auto config = ParseConfig("[server]\nuser = 65534\n", "x.toml");
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.status().message().find("x.toml:2: server.user: must be a string"),
            std::string::npos);
}

}  // namespace
}  // namespace ringmta::daemon
