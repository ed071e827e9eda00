#include "mta/admin/json.h"

#include <string>

#include "gtest/gtest.h"

namespace ringmta::admin {
namespace {

TEST(JsonTest, RoundTripsNestedValues) {
  absl::StatusOr<Json> json =
      ParseJson(R"( {"a": [1, -2, 3.5, true, null], "b": {"c": "x\"y\\z\n\u00e9"}} )");
  ASSERT_TRUE(json.ok()) << json.status();
  EXPECT_EQ(json->Find("a")->items()[1].as_int(), -2);
  EXPECT_TRUE(json->Find("a")->items()[0].is_integer());
  EXPECT_FALSE(json->Find("a")->items()[2].is_integer());
  EXPECT_EQ(json->Find("b")->Find("c")->as_string(), "x\"y\\z\n\xc3\xa9");
  absl::StatusOr<Json> again = ParseJson(json->Serialize());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->Serialize(), json->Serialize());
}

TEST(JsonTest, SerializesControlCharactersEscaped) {
  Json object = Json::Object();
  object.Set("k", std::string("a\x01") + "b");
  EXPECT_EQ(object.Serialize(), R"({"k":"a\u0001b"})");
}

TEST(JsonTest, RefusesMalformedInput) {
  for (const char* bad : {"", "{", "{\"a\":}", "[1,]", "{\"a\":1,}", "tru", "\"open",
                          "{\"a\":1} x", "{'a':1}", "01x", "{\"a\":1,\"a\":2}", "\"\\q\"",
                          "\"\\ud800\"", "\"a\x01\""}) {
    EXPECT_FALSE(ParseJson(bad).ok()) << bad;
  }
}

TEST(JsonTest, RefusesDeepNesting) {
  std::string deep(kJsonDepthMax + 2, '[');
  deep += std::string(kJsonDepthMax + 2, ']');
  EXPECT_FALSE(ParseJson(deep).ok());
  std::string fine(kJsonDepthMax, '[');
  fine += std::string(kJsonDepthMax, ']');
  EXPECT_TRUE(ParseJson(fine).ok());
}

}  // namespace
}  // namespace ringmta::admin
