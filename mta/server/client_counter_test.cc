#include "mta/server/client_counter.h"

#include <gtest/gtest.h>

namespace ringmta::server {
namespace {

TEST(ClientCounterTest, RefusesPastTheLimitPerClient) {
  ClientCounter counter(2);
  EXPECT_TRUE(counter.TryAdd("192.0.2.1"));
  EXPECT_TRUE(counter.TryAdd("192.0.2.1"));
  EXPECT_FALSE(counter.TryAdd("192.0.2.1"));
  EXPECT_TRUE(counter.TryAdd("192.0.2.2"));  // another client is not affected
  EXPECT_EQ(counter.Count("192.0.2.1"), 2);
}

TEST(ClientCounterTest, RemovingFreesASlotAndForgetsIdleClients) {
  ClientCounter counter(1);
  ASSERT_TRUE(counter.TryAdd("2001:db8::1"));
  EXPECT_FALSE(counter.TryAdd("2001:db8::1"));
  counter.Remove("2001:db8::1");
  EXPECT_EQ(counter.clients(), 0u);
  EXPECT_TRUE(counter.TryAdd("2001:db8::1"));
  counter.Remove("unknown");  // harmless
  EXPECT_EQ(counter.clients(), 1u);
}

}  // namespace
}  // namespace ringmta::server
