// Tests of the SPSC Mailbox: FIFO, backpressure, batch bounds, move-only and
// leak-free payloads, and a two-thread run checking strict order and no loss.
#include "mta/io/mailbox.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

namespace ringmta::io {
namespace {

template <typename T, uint32_t kSlots>
std::vector<T> DrainAll(Mailbox<T, kSlots>* mailbox, size_t max_count = SIZE_MAX) {
  std::vector<T> out;
  mailbox->Drain([&out](T&& item) { out.push_back(std::move(item)); }, max_count);
  return out;
}

TEST(Mailbox, CapacityIsTheSlotCount) {
  EXPECT_EQ((Mailbox<int, 8>::capacity()), 8u);
  EXPECT_EQ((Mailbox<int, 4096>::capacity()), 4096u);
}

TEST(Mailbox, DeliversInFifoOrder) {
  Mailbox<int, 16> mailbox;
  EXPECT_TRUE(mailbox.Empty());
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(mailbox.TryPush(i));
  EXPECT_FALSE(mailbox.Empty());
  EXPECT_EQ(mailbox.SizeApprox(), 10u);
  EXPECT_EQ(DrainAll(&mailbox), (std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
  EXPECT_TRUE(mailbox.Empty());
}

TEST(Mailbox, FifoHoldsAcrossManyWrapArounds) {
  Mailbox<int, 4> mailbox;
  int next_in = 0;
  int next_out = 0;
  for (int round = 0; round < 1000; ++round) {
    while (mailbox.TryPush(next_in)) ++next_in;
    mailbox.Drain([&](int&& item) { ASSERT_EQ(item, next_out++); }, 1 + round % 4);
  }
  EXPECT_GT(next_out, 2000);
}

TEST(Mailbox, FullRejectsPushAndLosesNothing) {
  Mailbox<int, 4> mailbox;
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(mailbox.TryPush(i));
  EXPECT_FALSE(mailbox.TryPush(99));
  EXPECT_FALSE(mailbox.TryPush(100));
  EXPECT_EQ(mailbox.SizeApprox(), 4u);
  EXPECT_EQ(DrainAll(&mailbox), (std::vector<int>{0, 1, 2, 3}));
}

TEST(Mailbox, DrainingFreesSpaceForPushes) {
  Mailbox<int, 4> mailbox;
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(mailbox.TryPush(i));
  ASSERT_FALSE(mailbox.TryPush(4));
  EXPECT_EQ(DrainAll(&mailbox, 1), std::vector<int>{0});
  EXPECT_TRUE(mailbox.TryPush(4));
  EXPECT_FALSE(mailbox.TryPush(5));
  EXPECT_EQ(DrainAll(&mailbox), (std::vector<int>{1, 2, 3, 4}));
}

TEST(Mailbox, DrainRespectsMaxCount) {
  Mailbox<int, 16> mailbox;
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(mailbox.TryPush(i));
  EXPECT_EQ(DrainAll(&mailbox, 0), std::vector<int>{});
  EXPECT_EQ(DrainAll(&mailbox, 3), (std::vector<int>{0, 1, 2}));
  EXPECT_EQ(DrainAll(&mailbox, 3), (std::vector<int>{3, 4, 5}));
  EXPECT_EQ(mailbox.SizeApprox(), 4u);
  int calls = 0;
  EXPECT_EQ(mailbox.Drain([&calls](int&&) { ++calls; }, 100), 4u);
  EXPECT_EQ(calls, 4);
  EXPECT_EQ(mailbox.Drain([&calls](int&&) { ++calls; }, 100), 0u);
}

TEST(Mailbox, CarriesMoveOnlyTypes) {
  Mailbox<std::unique_ptr<int>, 4> mailbox;
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(mailbox.TryPush(std::make_unique<int>(i)));
  std::vector<std::unique_ptr<int>> out = DrainAll(&mailbox);
  ASSERT_EQ(out.size(), 4u);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(*out[i], i);
}

TEST(Mailbox, RejectedMoveOnlyValueStaysWithTheCaller) {
  Mailbox<std::unique_ptr<int>, 2> mailbox;
  ASSERT_TRUE(mailbox.TryPush(std::make_unique<int>(1)));
  ASSERT_TRUE(mailbox.TryPush(std::make_unique<int>(2)));
  auto third = std::make_unique<int>(3);
  EXPECT_FALSE(mailbox.TryPush(std::move(third)));
  ASSERT_NE(third, nullptr);  // Backpressure must not destroy the message.
  EXPECT_EQ(*third, 3);
}

// Counts live instances, so leaks and double destruction both show.
struct Tracked {
  explicit Tracked(int* live) : live(live) { ++*live; }
  Tracked(Tracked&& other) noexcept : live(other.live) { ++*live; }
  Tracked(const Tracked&) = delete;
  ~Tracked() { --*live; }
  int* live;
};

TEST(Mailbox, DestructorDestroysLeftoverItems) {
  int live = 0;
  {
    Mailbox<Tracked, 8> mailbox;
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(mailbox.TryPush(Tracked(&live)));
    mailbox.Drain([](Tracked&&) {}, 2);
    EXPECT_EQ(live, 3);
  }
  EXPECT_EQ(live, 0);
}

TEST(Mailbox, DestructorFreesLeftoverHeapItems) {
  // Under ASan's leak checker this fails if leftovers are not destroyed.
  Mailbox<std::unique_ptr<std::vector<int>>, 8> mailbox;
  for (int i = 0; i < 6; ++i) {
    ASSERT_TRUE(mailbox.TryPush(std::make_unique<std::vector<int>>(100, i)));
  }
  mailbox.Drain([](std::unique_ptr<std::vector<int>>&&) {}, 1);
}

TEST(Mailbox, TwoThreadsDeliverTenMillionInStrictOrder) {
  constexpr uint64_t kMessages = 10'000'000;
  auto mailbox = std::make_unique<Mailbox<uint64_t, 1024>>();
  std::thread producer([&mailbox] {
    for (uint64_t i = 0; i < kMessages; ++i) {
      while (!mailbox->TryPush(i)) std::this_thread::yield();  // Backpressure.
    }
  });
  uint64_t expected = 0;
  uint64_t received = 0;
  uint64_t out_of_order = 0;
  while (expected < kMessages) {
    const size_t drained = mailbox->Drain(
        [&](uint64_t&& value) {
          if (value != expected) ++out_of_order;  // Lost, repeated or reordered.
          expected = value + 1;
          ++received;
        },
        256);
    if (drained == 0) std::this_thread::yield();
  }
  producer.join();
  EXPECT_EQ(out_of_order, 0u);
  EXPECT_EQ(received, kMessages);
  EXPECT_TRUE(mailbox->Empty());
}

}  // namespace
}  // namespace ringmta::io
