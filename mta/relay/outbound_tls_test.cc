#include "mta/relay/outbound_tls.h"

#include <gtest/gtest.h>

#include "tls/tls_limits.h"

namespace ringmta::relay {
namespace {

TEST(OutboundTlsTest, OneContextPerPolicyAndBundle) {
  OutboundTls state;
  auto may = state.Context(tls::ClientPolicy::kMay, "");
  ASSERT_TRUE(may.ok()) << may.status();
  auto again = state.Context(tls::ClientPolicy::kMay, "");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(may->get(), again->get());  // shared: its session cache serves every connection
  auto encrypt = state.Context(tls::ClientPolicy::kEncrypt, "");
  ASSERT_TRUE(encrypt.ok());
  EXPECT_NE(may->get(), encrypt->get());
  EXPECT_EQ((*encrypt)->policy(), tls::ClientPolicy::kEncrypt);
}

TEST(OutboundTlsTest, UnreadableBundleIsAnErrorEachTime) {
  OutboundTls state;
  EXPECT_FALSE(state.Context(tls::ClientPolicy::kVerify, "/nonexistent/ca.pem").ok());
  EXPECT_FALSE(state.Context(tls::ClientPolicy::kVerify, "/nonexistent/ca.pem").ok());
}

TEST(OutboundTlsTest, FallbackLastsUntilItsDeadline) {
  OutboundTls state;
  EXPECT_FALSE(state.InCleartextFallback("mx[192.0.2.1]:25", 1000));
  state.RememberCleartextFallback("mx[192.0.2.1]:25", 5000, 1000);
  EXPECT_TRUE(state.InCleartextFallback("mx[192.0.2.1]:25", 4999));
  EXPECT_FALSE(state.InCleartextFallback("mx[192.0.2.1]:25", 5000));
  EXPECT_FALSE(state.InCleartextFallback("mx[192.0.2.2]:25", 1000));
}

TEST(OutboundTlsTest, FallbackMemoryIsBoundedAndSweepsExpiredHosts) {
  OutboundTls state;
  const size_t max = tls::limits::kCleartextFallbackHostsMax;
  for (size_t i = 0; i < max; ++i) {
    // Half expire at 100, half live until 10000.
    state.RememberCleartextFallback("h" + std::to_string(i), i % 2 == 0 ? 100 : 10000, 0);
  }
  EXPECT_EQ(state.fallback_hosts(), max);
  // Full at time 50 with nothing expired: the new host is not remembered.
  state.RememberCleartextFallback("late", 10000, 50);
  EXPECT_FALSE(state.InCleartextFallback("late", 60));
  EXPECT_EQ(state.fallback_hosts(), max);
  // At 200 half have expired: they are swept and the new host fits.
  state.RememberCleartextFallback("later", 10000, 200);
  EXPECT_TRUE(state.InCleartextFallback("later", 300));
  EXPECT_EQ(state.fallback_hosts(), max / 2 + 1);
}

}  // namespace
}  // namespace ringmta::relay
