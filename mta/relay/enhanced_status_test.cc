#include "mta/relay/enhanced_status.h"

#include <gtest/gtest.h>

namespace ringmta::relay {
namespace {

TEST(EnhancedStatusTest, ParsesValidCodes) {
  auto parts = ParseEnhancedStatus("5.1.10");
  ASSERT_TRUE(parts.has_value());
  EXPECT_EQ(parts->code_class, 5);
  EXPECT_EQ(parts->subject, 1);
  EXPECT_EQ(parts->detail, 10);
  EXPECT_TRUE(ParseEnhancedStatus("2.0.0").has_value());
  EXPECT_TRUE(ParseEnhancedStatus("4.999.999").has_value());
}

TEST(EnhancedStatusTest, RejectsWhatRfc3463Does) {
  for (const char* bad : {"", "5", "5.1", "3.0.0", "5.1.1000", "5.1.1 extra", "5..1", "a.b.c",
                          "5.-1.1", "5.1."}) {
    EXPECT_FALSE(ParseEnhancedStatus(bad).has_value()) << bad;
  }
}

}  // namespace
}  // namespace ringmta::relay
