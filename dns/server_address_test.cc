// Configured DNS server addresses to c-ares CSV entries.
#include "dns/server_address.h"

#include <gtest/gtest.h>

namespace ringmta::dns {
namespace {

TEST(ServerAddressTest, AcceptsAddressesWithAndWithoutPorts) {
  EXPECT_EQ(*ServerCsvEntry("127.0.0.1:5353"), "127.0.0.1:5353");
  EXPECT_EQ(*ServerCsvEntry("192.0.2.1"), "192.0.2.1:53");
  EXPECT_EQ(*ServerCsvEntry("[::1]:5353"), "[::1]:5353");
  EXPECT_EQ(*ServerCsvEntry("[2001:db8::1]"), "[2001:db8::1]:53");
  EXPECT_EQ(*ServerCsvEntry("2001:db8::1"), "[2001:db8::1]:53");
}

TEST(ServerAddressTest, RejectsNamesAndBadPorts) {
  for (const char* bad : {"", "localhost", "localhost:53", "127.0.0.1:", "127.0.0.1:0",
                          "127.0.0.1:65536", "127.0.0.1:53x", "[::1", "[::1]x", "[::1]:",
                          "[127.0.0.1:53"}) {
    EXPECT_TRUE(absl::IsInvalidArgument(ServerCsvEntry(bad).status())) << bad;
  }
}

}  // namespace
}  // namespace ringmta::dns
