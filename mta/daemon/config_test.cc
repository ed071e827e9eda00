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
  EXPECT_EQ(config->idle_timeout_ms, 60000);
  EXPECT_EQ(config->connections_per_shard_max, 100);
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

}  // namespace
}  // namespace ringmta::daemon
