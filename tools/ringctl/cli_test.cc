#include "tools/ringctl/cli.h"

#include "gtest/gtest.h"

namespace ringmta::ringctl {
namespace {

std::string Request(std::vector<std::string> arguments) {
  absl::StatusOr<Invocation> invocation = ParseArguments(arguments);
  EXPECT_TRUE(invocation.ok()) << invocation.status();
  return invocation.ok() ? invocation->request.Serialize() : "";
}

TEST(RingctlCliTest, BuildsRequests) {
  EXPECT_EQ(Request({"status"}), R"({"command":"status"})");
  EXPECT_EQ(Request({"--json", "queue", "summary"}), R"({"command":"queue_summary"})");
  EXPECT_EQ(Request({"list", "--sender", "bob", "--min-age", "2h", "--limit=5"}),
            R"({"command":"list","sender":"bob","min_age_s":7200,"limit":5})");
  EXPECT_EQ(Request({"show", "0123456789abcdef"}), R"({"command":"show","id":"0123456789abcdef"})");
  EXPECT_EQ(Request({"flush"}), R"({"command":"flush"})");
  EXPECT_EQ(Request({"flush", "smarthost:h:25"}), R"({"command":"flush","destination":"smarthost:h:25"})");
  EXPECT_EQ(Request({"delete", "0123456789abcdef"}), R"({"command":"delete","id":"0123456789abcdef"})");
  EXPECT_EQ(Request({"suspend", "mx:a", "--for", "15m"}),
            R"({"command":"suspend","destination":"mx:a","duration_s":900})");
  EXPECT_EQ(Request({"--socket", "/x.sock", "resume", "mx:a"}), R"({"command":"resume","destination":"mx:a"})");
  absl::StatusOr<Invocation> spool = ParseArguments({"--spool", "/var/q", "status"});
  ASSERT_TRUE(spool.ok());
  EXPECT_EQ(spool->socket_path, "/var/q/ringmta.sock");
}

TEST(RingctlCliTest, RefusesBadUsage) {
  for (std::vector<std::string> bad : std::vector<std::vector<std::string>>{
           {},
           {"explode"},
           {"queue"},
           {"status", "extra"},
           {"show"},
           {"delete"},
           {"delete", "example.com"},
           {"suspend", "mx:a", "--for", "soon"},
           {"suspend", "mx:a", "--for", "0s"},
           {"list", "--limit", "0"},
           {"status", "--for", "1s"},
           {"list", "--bogus"},
       }) {
    EXPECT_FALSE(ParseArguments(bad).ok()) << (bad.empty() ? "(none)" : bad[0]);
  }
}

TEST(RingctlCliTest, DurationsHaveUnits) {
  EXPECT_EQ(*ParseDurationSeconds("90"), 90);
  EXPECT_EQ(*ParseDurationSeconds("90s"), 90);
  EXPECT_EQ(*ParseDurationSeconds("15m"), 900);
  EXPECT_EQ(*ParseDurationSeconds("1d"), 86400);
  EXPECT_FALSE(ParseDurationSeconds("1w").ok());
  EXPECT_FALSE(ParseDurationSeconds("m").ok());
}

}  // namespace
}  // namespace ringmta::ringctl
