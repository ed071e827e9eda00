#include "mta/admin/control_request.h"

#include "gtest/gtest.h"

namespace ringmta::admin {
namespace {

TEST(ControlRequestTest, ParsesEveryCommand) {
  EXPECT_EQ(ParseControlRequest(R"({"command":"status"})")->command, Command::kStatus);
  EXPECT_EQ(ParseControlRequest(R"({"command":"queue_summary"})")->command, Command::kQueueSummary);
  EXPECT_EQ(ParseControlRequest(R"({"command":"reload"})")->command, Command::kReload);
  EXPECT_EQ(ParseControlRequest(R"({"command":"drain"})")->command, Command::kDrain);
  absl::StatusOr<ControlRequest> list = ParseControlRequest(
      R"({"command":"list","sender":"Bob","recipient":"x@","min_age_s":60,"limit":5,"destination":"smarthost:h:25"})");
  ASSERT_TRUE(list.ok()) << list.status();
  EXPECT_EQ(*list->sender, "Bob");
  EXPECT_EQ(list->min_age_s, 60);
  EXPECT_EQ(list->limit, 5);
  EXPECT_EQ(*list->destination, "smarthost:h:25");
  absl::StatusOr<ControlRequest> show = ParseControlRequest(R"({"command":"show","id":"00000000000000ff"})");
  ASSERT_TRUE(show.ok());
  EXPECT_EQ(*show->id, 0xffu);
  absl::StatusOr<ControlRequest> suspend =
      ParseControlRequest(R"({"command":"suspend","destination":"mx:a.example","duration_s":30})");
  ASSERT_TRUE(suspend.ok());
  EXPECT_EQ(suspend->duration_s, 30);
  EXPECT_TRUE(ParseControlRequest(R"({"command":"flush"})").ok());
  EXPECT_TRUE(ParseControlRequest(R"({"command":"bounce","destination":"domain:x.test"})").ok());
  EXPECT_TRUE(ParseControlRequest(R"({"command":"delete","id":"0100000000000001"})").ok());
  EXPECT_TRUE(ParseControlRequest(R"({"command":"resume","destination":"smarthost:h:25"})").ok());
}

TEST(ControlRequestTest, RefusesWhatIsWrongWithAReason) {
  struct Case {
    const char* line;
    const char* error;
  };
  for (const Case& c : {
           Case{"not json", "malformed JSON"},
           Case{"[1]", "a request is a JSON object"},
           Case{R"({"cmd":"status"})", "missing \"command\""},
           Case{R"({"command":"explode"})", "unknown command \"explode\""},
           Case{R"({"command":"status","x":1})", "unknown argument \"x\""},
           Case{R"({"command":"show"})", "needs an id"},
           Case{R"({"command":"show","id":"xyz"})", "bad message id"},
           Case{R"({"command":"show","id":"0000000000000000"})", "bad message id"},
           Case{R"({"command":"show","id":12})", "16 hex digits"},
           Case{R"({"command":"delete"})", "needs an id or a destination"},
           Case{R"({"command":"bounce","id":"00000000000000ff","destination":"mx:a"})", "not both"},
           Case{R"({"command":"suspend"})", "needs a destination"},
           Case{R"({"command":"suspend","destination":"example.com"})", "bad destination"},
           Case{R"({"command":"suspend","destination":"domain:example.com"})", "needs a route"},
           Case{R"({"command":"suspend","destination":"mx:a","duration_s":0})", "between 1 and"},
           Case{R"({"command":"list","limit":100000})", "between 1 and"},
           Case{R"({"command":"list","limit":"5"})", "must be an integer"},
           Case{R"({"command":"list","sender":""})", "must not be empty"},
           Case{R"({"command":"flush","destination":"mx:a b"})", "bad destination"},
       }) {
    absl::StatusOr<ControlRequest> request = ParseControlRequest(c.line);
    ASSERT_FALSE(request.ok()) << c.line;
    EXPECT_NE(request.status().message().find(c.error), std::string::npos)
        << c.line << " -> " << request.status().message();
  }
}

TEST(ControlRequestTest, QueueIdsAreSixteenHexDigits) {
  EXPECT_EQ(ParseQueueId("0123456789abcdef"), 0x0123456789abcdefu);
  EXPECT_EQ(ParseQueueId("0123456789ABCDEF"), 0x0123456789abcdefu);
  EXPECT_FALSE(ParseQueueId("123456789abcdef"));
  EXPECT_FALSE(ParseQueueId("0123456789abcdeg"));
}

}  // namespace
}  // namespace ringmta::admin
