// [[route]] tables through the whole config parser: every key read, every
// rule between keys enforced, and errors that name file, line and key.
#include "mta/daemon/route_config.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "mta/daemon/config.h"
#include "tls/test_certs.h"

namespace ringmta::daemon {
namespace {

class RouteConfigTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = tls::testing::MakeScratchDir(); }

  std::string Secret(std::string_view text, mode_t mode = 0600) {
    std::string path = tls::testing::WriteFile(dir_, "secret" + std::to_string(files_++), text);
    chmod(path.c_str(), mode);
    return path;
  }

  std::string CaFile() {
    return tls::testing::WriteFile(dir_, "ca.pem", tls::testing::MakeCa("route test CA").cert_pem);
  }

  // The error text, or "" when the config parsed.
  static std::string ErrorOf(const std::string& text) {
    auto config = ParseConfig(text, "r.toml");
    return config.ok() ? "" : std::string(config.status().message());
  }

  std::string dir_;
  int files_ = 0;
};

TEST_F(RouteConfigTest, ReadsRoutesWithTheirSettings) {
  std::string ca = CaFile();
  std::string secret = Secret("hunter2\r\nsecond line ignored\n");
  auto config = ParseConfig(R"(
[[route]]
domain = "Example.COM"
smarthost = "mail.provider.example:587"
tls = "verify"
tls_ca_file = ")" + ca + R"("
auth_username = "relay@example.com"
auth_password_file = ")" + secret +
                                R"("

[[route]]
domain = "*"
smarthost = "10.0.0.5"
tls = "none"
)",
                            "r.toml");
  ASSERT_TRUE(config.ok()) << config.status();
  ASSERT_EQ(config->routes.size(), 2u);
  const RouteConfig& first = config->routes[0];
  EXPECT_EQ(first.domain, "example.com");
  EXPECT_EQ(first.smarthost, "mail.provider.example:587");
  EXPECT_EQ(first.tls, "verify");
  EXPECT_EQ(first.tls_ca_file, ca);
  EXPECT_EQ(first.auth_username, "relay@example.com");
  EXPECT_EQ(first.auth_password, "hunter2");
  EXPECT_EQ(first.line, 2);
  EXPECT_EQ(config->routes[1].line, 10);

  auto routes = BuildRoutes(config->routes);
  ASSERT_TRUE(routes.ok()) << routes.status();
  const relay::NextHop& hop = (*routes)[0].hop;
  EXPECT_EQ(hop.host, "mail.provider.example");
  EXPECT_EQ(hop.port, 587);
  ASSERT_NE(hop.security, nullptr);
  EXPECT_EQ(hop.security->tls, tls::ClientPolicy::kVerify);
  EXPECT_EQ(hop.security->auth_password, "hunter2");
  EXPECT_EQ((*routes)[1].hop.port, 25);
  EXPECT_EQ((*routes)[1].hop.security->tls, tls::ClientPolicy::kNone);
  EXPECT_FALSE((*routes)[1].hop.security->has_credentials());
}

TEST_F(RouteConfigTest, TlsDefaultsToMay) {
  auto config = ParseConfig("[[route]]\ndomain = \"a.example\"\nsmarthost = \"h:25\"\n", "r.toml");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->routes[0].tls, "may");
}

TEST_F(RouteConfigTest, UnknownKeyNamesKeyAndLine) {
  EXPECT_EQ(ErrorOf("[[route]]\ndomain = \"a.example\"\nsmarthost = \"h\"\ntsl = \"may\"\n"),
            "r.toml:4: route.tsl: unknown key");
}

TEST_F(RouteConfigTest, UnknownPolicyIsRejected) {
  EXPECT_EQ(ErrorOf("[[route]]\ndomain = \"a.example\"\nsmarthost = \"h\"\ntls = \"always\"\n"),
            "r.toml:4: route.tls: must be \"none\", \"may\", \"encrypt\" or \"verify\"");
}

TEST_F(RouteConfigTest, DomainAndSmarthostAreRequired) {
  EXPECT_EQ(ErrorOf("[[route]]\nsmarthost = \"h\"\n"), "r.toml:1: route.domain: missing");
  EXPECT_EQ(ErrorOf("\n[[route]]\ndomain = \"a.example\"\n"), "r.toml:2: route.smarthost: missing");
}

TEST_F(RouteConfigTest, BadValuesAreRejected) {
  EXPECT_NE(ErrorOf("[[route]]\ndomain = \"a.example\"\nsmarthost = \"h:99999\"\n")
                .find("r.toml:3: route.smarthost: next hop 'h:99999': bad port"),
            std::string::npos);
  EXPECT_EQ(ErrorOf("[[route]]\ndomain = \"user@a.example\"\nsmarthost = \"h\"\n"),
            "r.toml:2: route.domain: must be \"*\" or a domain name");
  EXPECT_EQ(ErrorOf("[[route]]\ndomain = 7\nsmarthost = \"h\"\n"),
            "r.toml:2: route.domain: must be a string");
  EXPECT_EQ(
      ErrorOf("[[route]]\ndomain = \"a\"\nsmarthost = \"h\"\nauth_allow_plaintext = \"yes\"\n"),
      "r.toml:4: route.auth_allow_plaintext: must be true or false");
}

TEST_F(RouteConfigTest, RouteMustBeAnArrayOfTables) {
  EXPECT_EQ(ErrorOf("[route]\ndomain = \"a.example\"\n"),
            "r.toml:1: route: must be [[route]] tables");
}

TEST_F(RouteConfigTest, DuplicateDomainNamesBothLines) {
  EXPECT_EQ(ErrorOf("[[route]]\ndomain = \"a.example\"\nsmarthost = \"h\"\n"
                    "[[route]]\ndomain = \"A.Example\"\nsmarthost = \"g\"\n"),
            "r.toml:4: route.domain: \"a.example\" is routed already at line 1");
}

TEST_F(RouteConfigTest, CredentialsNeedTlsUnlessPlaintextIsAllowed) {
  std::string secret = Secret("pw\n");
  std::string route =
      "[[route]]\ndomain = \"a\"\nsmarthost = \"h\"\nauth_username = \"u\"\n"
      "auth_password_file = \"" +
      secret + "\"\n";
  std::string error = ErrorOf(route + "tls = \"may\"\n");
  EXPECT_EQ(error.rfind("r.toml:1: route.tls: is \"may\" but the route sends AUTH credentials", 0),
            0u)
      << error;
  EXPECT_NE(ErrorOf(route + "tls = \"none\"\n"), "");
  EXPECT_EQ(ErrorOf(route + "tls = \"encrypt\"\n"), "");
  EXPECT_EQ(ErrorOf(route + "tls = \"none\"\nauth_allow_plaintext = true\n"), "");
}

TEST_F(RouteConfigTest, UsernameAndPasswordFileGoTogether) {
  EXPECT_EQ(ErrorOf("[[route]]\ndomain = \"a\"\nsmarthost = \"h\"\ntls = \"encrypt\"\n"
                    "auth_username = \"u\"\n"),
            "r.toml:1: route.auth_password_file: auth_username and auth_password_file go together");
  std::string secret = Secret("pw\n");
  EXPECT_EQ(ErrorOf("[[route]]\ndomain = \"a\"\nsmarthost = \"h\"\ntls = \"encrypt\"\n"
                    "auth_password_file = \"" +
                    secret + "\"\n"),
            "r.toml:1: route.auth_username: auth_username and auth_password_file go together");
}

TEST_F(RouteConfigTest, PasswordFileProblemsAreErrorsWithoutTheSecret) {
  auto error_for = [](const std::string& path) {
    return ErrorOf(
        "[[route]]\ndomain = \"a\"\nsmarthost = \"h\"\ntls = \"encrypt\"\n"
        "auth_username = \"u\"\nauth_password_file = \"" +
        path + "\"\n");
  };
  EXPECT_EQ(error_for(dir_ + "/absent"),
            "r.toml:6: route.auth_password_file: cannot read " + dir_ + "/absent");
  std::string readable = Secret("topsecret\n", 0644);
  std::string error = error_for(readable);
  EXPECT_NE(error.find("readable by every user"), std::string::npos) << error;
  EXPECT_EQ(error.find("topsecret"), std::string::npos);
  EXPECT_NE(error_for(Secret("\nlater\n")).find("is empty"), std::string::npos);
  std::string long_secret = Secret(std::string(300, 'x'));
  error = error_for(long_secret);
  EXPECT_NE(error.find("password longer than 255 bytes"), std::string::npos) << error;
  EXPECT_EQ(error.find("xxxxxxxx"), std::string::npos);
}

TEST_F(RouteConfigTest, CaFileIsLoadedAtParseTime) {
  std::string route = "[[route]]\ndomain = \"a\"\nsmarthost = \"h\"\ntls = \"verify\"\n";
  EXPECT_EQ(ErrorOf(route + "tls_ca_file = \"" + CaFile() + "\"\n"), "");
  std::string junk = tls::testing::WriteFile(dir_, "junk.pem", "not a certificate\n");
  std::string error = ErrorOf(route + "tls_ca_file = \"" + junk + "\"\n");
  EXPECT_EQ(error.rfind("r.toml:5: route.tls_ca_file: ", 0), 0u) << error;
  EXPECT_EQ(ErrorOf(route + "tls_ca_file = \"\"\n"),
            "r.toml:5: route.tls_ca_file: must not be empty");
}

TEST_F(RouteConfigTest, DeliveryTlsKeys) {
  auto config = ParseConfig("[delivery]\ntls = \"encrypt\"\ntls_fallback_ms = 60000\n", "r.toml");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->delivery_tls, "encrypt");
  EXPECT_EQ(config->delivery_tls_fallback_ms, 60000);
  EXPECT_EQ(DaemonConfig{}.delivery_tls, "may");
  EXPECT_EQ(ErrorOf("[delivery]\ntls = \"maybe\"\n"),
            "r.toml:2: delivery.tls: must be \"none\", \"may\", \"encrypt\" or \"verify\"");
  EXPECT_NE(
      ErrorOf("[delivery]\ntls_fallback_ms = -1\n").find("r.toml:2: delivery.tls_fallback_ms"),
      std::string::npos);
  EXPECT_EQ(ErrorOf("[delivery]\ntls_ca_file = \"" + dir_ + "/none.pem\"\n")
                .rfind("r.toml:2: delivery.tls_ca_file: ", 0),
            0u);
  EXPECT_EQ(ErrorOf("[delivery]\ntls_ca_file = \"" + CaFile() + "\"\n"), "");
}

TEST_F(RouteConfigTest, SmarthostAndWildcardRouteConflict) {
  std::string error =
      ErrorOf("[delivery]\nsmarthost = \"h:25\"\n[[route]]\ndomain = \"*\"\nsmarthost = \"g\"\n");
  EXPECT_NE(error.find("both route every domain"), std::string::npos) << error;
  EXPECT_NE(error.find("line 3"), std::string::npos) << error;
  // A route for one domain beside the smart host is fine.
  EXPECT_EQ(ErrorOf("[delivery]\nsmarthost = \"h:25\"\n[[route]]\ndomain = \"a\"\n"
                    "smarthost = \"g\"\n"),
            "");
}

TEST_F(RouteConfigTest, RouteKeysAreKnownKeys) {
  std::vector<std::string> keys = KnownConfigKeys();
  for (const std::string& key : KnownRouteKeys()) {
    EXPECT_NE(std::find(keys.begin(), keys.end(), key), keys.end()) << key;
  }
  EXPECT_NE(std::find(keys.begin(), keys.end(), "route.auth_password_file"), keys.end());
}

}  // namespace
}  // namespace ringmta::daemon
