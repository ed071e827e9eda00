// Tests of TimerWheel: one named test per behaviour, plus a seeded randomised
// comparison against a std::multimap model of armed deadlines.
#include "mta/io/timer_wheel.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <vector>

#include "mta/base/limits.h"

namespace ringmta::io {
namespace {

constexpr int64_t kDayMs = 24 * 60 * 60 * 1000;

// Records every firing: which timer, its deadline, and the wheel's time.
struct Firing {
  int id;
  int64_t deadline_ms;
  int64_t now_ms;
};

class RecordingTimers {
 public:
  RecordingTimers(TimerWheel* wheel, int count) : wheel_(wheel) {
    for (int i = 0; i < count; ++i) slots_.push_back(std::make_unique<Slot>(this, i));
  }
  Timer* operator[](int i) { return &slots_[i]->timer; }
  const std::vector<Firing>& firings() const { return firings_; }

 private:
  struct Slot {
    Slot(RecordingTimers* owner, int id) : owner(owner), id(id), timer(&OnFire, this) {}
    RecordingTimers* owner;
    int id;
    Timer timer;
  };
  static void OnFire(Timer* timer, void* context) {
    auto* slot = static_cast<Slot*>(context);
    slot->owner->firings_.push_back(
        {slot->id, timer->deadline_ms(), slot->owner->wheel_->now_ms()});
  }

  TimerWheel* wheel_;
  std::vector<std::unique_ptr<Slot>> slots_;
  std::vector<Firing> firings_;
};

void CountFire(Timer* /*timer*/, void* context) { ++*static_cast<int*>(context); }

TEST(TimerWheel, FiresAtExactlyTheDeadlineAndNotBefore) {
  TimerWheel wheel(1000);
  int fired = 0;
  Timer timer(&CountFire, &fired);
  wheel.Schedule(&timer, 1100);
  EXPECT_EQ(wheel.Advance(1099), 0u);
  EXPECT_EQ(fired, 0);
  EXPECT_TRUE(timer.armed());
  EXPECT_EQ(wheel.Advance(1100), 1u);
  EXPECT_EQ(fired, 1);
  EXPECT_FALSE(timer.armed());
  EXPECT_EQ(wheel.Advance(5000), 0u);
  EXPECT_EQ(fired, 1);
}

TEST(TimerWheel, FiresAtExactDeadlineOnEveryLevelWhenSteppedByOneMs) {
  // Start off any digit boundary so cascades involve carries.
  const int64_t start_ms = 0x00FF'FFF0;
  TimerWheel wheel(start_ms);
  const std::vector<int64_t> delays_ms = {1,   15,   16,     17,     255,   256,
                                          257, 4000, 65'535, 65'536, 70'001};
  RecordingTimers timers(&wheel, static_cast<int>(delays_ms.size()));
  for (size_t i = 0; i < delays_ms.size(); ++i) {
    wheel.Schedule(timers[static_cast<int>(i)], start_ms + delays_ms[i]);
  }
  for (int64_t now_ms = start_ms + 1; now_ms <= start_ms + 70'001; ++now_ms) wheel.Advance(now_ms);
  ASSERT_EQ(timers.firings().size(), delays_ms.size());
  for (const Firing& f : timers.firings()) {
    EXPECT_EQ(f.now_ms, f.deadline_ms) << "timer " << f.id;
  }
}

TEST(TimerWheel, FiresInDeadlineOrderAcrossLevelsAndCascades) {
  const int64_t start_ms = 123'456'789;
  TimerWheel wheel(start_ms);
  // Scheduled out of order, spanning all four levels and the overflow list.
  const std::vector<int64_t> delays_ms = {
      limits::kTimerDelayMsMax,  // Overflow list.
      4'000'000'000,             // Level 3.
      1 << 24,                   // Level 3.
      (1 << 24) + 1,             // Level 3.
      70'000,                    // Level 2.
      65'536,                    // Level 2.
      256,                       // Level 1.
      3,                         // Level 0.
      255,                       // Level 1 (carries into the next 256 ms block).
      1,                         // Level 0.
  };

  RecordingTimers timers(&wheel, static_cast<int>(delays_ms.size()));
  for (size_t i = 0; i < delays_ms.size(); ++i) {
    wheel.Schedule(timers[static_cast<int>(i)], start_ms + delays_ms[i]);
  }
  EXPECT_EQ(wheel.Advance(start_ms + limits::kTimerDelayMsMax), delays_ms.size());
  ASSERT_EQ(timers.firings().size(), delays_ms.size());
  for (size_t i = 1; i < timers.firings().size(); ++i) {
    EXPECT_LT(timers.firings()[i - 1].deadline_ms, timers.firings()[i].deadline_ms);
  }
  for (const Firing& f : timers.firings()) EXPECT_EQ(f.now_ms, f.deadline_ms);
}

TEST(TimerWheel, CancelBeforeFire) {
  TimerWheel wheel(0);
  int fired = 0;
  Timer near(&CountFire, &fired);
  Timer far(&CountFire, &fired);
  wheel.Schedule(&near, 10);
  wheel.Schedule(&far, 100'000);
  wheel.Cancel(&near);
  wheel.Cancel(&far);
  EXPECT_FALSE(near.armed());
  EXPECT_FALSE(far.armed());
  EXPECT_EQ(wheel.Advance(200'000), 0u);
  EXPECT_EQ(fired, 0);
  EXPECT_FALSE(wheel.NextDeadlineMs().has_value());
}

TEST(TimerWheel, CancelOfUnarmedTimerIsNoOp) {
  TimerWheel wheel(0);
  int fired = 0;
  Timer timer(&CountFire, &fired);
  wheel.Cancel(&timer);
  wheel.Schedule(&timer, 5);
  wheel.Cancel(&timer);
  wheel.Cancel(&timer);
  EXPECT_EQ(wheel.size(), 0u);
}

TEST(TimerWheel, RescheduleMovesTheDeadlineEarlierOrLater) {
  TimerWheel wheel(0);
  RecordingTimers timers(&wheel, 2);
  wheel.Schedule(timers[0], 50'000);
  wheel.Schedule(timers[0], 20);  // Earlier, from level 1 to level 0.
  wheel.Schedule(timers[1], 30);
  wheel.Schedule(timers[1], 90'000);  // Later, from level 0 to level 2.
  EXPECT_EQ(wheel.size(), 2u);
  EXPECT_EQ(wheel.Advance(50'000), 1u);
  EXPECT_EQ(wheel.Advance(89'999), 0u);
  EXPECT_EQ(wheel.Advance(90'000), 1u);
  ASSERT_EQ(timers.firings().size(), 2u);
  EXPECT_EQ(timers.firings()[0].now_ms, 20);
  EXPECT_EQ(timers.firings()[1].now_ms, 90'000);
}

TEST(TimerWheel, PastDeadlineFiresAtNextAdvance) {
  TimerWheel wheel(10'000);
  int fired = 0;
  Timer timer(&CountFire, &fired);
  wheel.Schedule(&timer, 9'000);
  EXPECT_EQ(fired, 0);  // Never from inside Schedule.
  EXPECT_EQ(wheel.NextDeadlineMs(), 9'000);
  EXPECT_EQ(wheel.Advance(10'000), 1u);
  EXPECT_EQ(fired, 1);
}

struct Chain {
  TimerWheel* wheel;
  Timer* next;
  int64_t next_deadline_ms;
  int fired = 0;
};

void ScheduleNext(Timer* /*timer*/, void* context) {
  auto* chain = static_cast<Chain*>(context);
  ++chain->fired;
  if (chain->next != nullptr) chain->wheel->Schedule(chain->next, chain->next_deadline_ms);
}

TEST(TimerWheel, CallbackSchedulesAnotherTimerDueNow) {
  TimerWheel wheel(0);
  int second_fired = 0;
  Timer second(&CountFire, &second_fired);
  Chain chain{&wheel, &second, /*next_deadline_ms=*/100};
  Timer first(&ScheduleNext, &chain);
  wheel.Schedule(&first, 100);
  EXPECT_EQ(wheel.Advance(100), 2u);
  EXPECT_EQ(chain.fired, 1);
  EXPECT_EQ(second_fired, 1);
  EXPECT_EQ(wheel.size(), 0u);
}

TEST(TimerWheel, CallbackSchedulesAnotherTimerLaterInTheSameAdvance) {
  TimerWheel wheel(0);
  int second_fired = 0;
  Timer second(&CountFire, &second_fired);
  Chain chain{&wheel, &second, /*next_deadline_ms=*/70'000};
  Timer first(&ScheduleNext, &chain);
  wheel.Schedule(&first, 100);
  EXPECT_EQ(wheel.Advance(80'000), 2u);
  EXPECT_EQ(second_fired, 1);
}

struct Canceller {
  TimerWheel* wheel;
  std::vector<Timer*> victims;
  int fired = 0;
};

void CancelVictims(Timer* /*timer*/, void* context) {
  auto* canceller = static_cast<Canceller*>(context);
  ++canceller->fired;
  for (Timer* victim : canceller->victims) canceller->wheel->Cancel(victim);
}

TEST(TimerWheel, CallbackCancelsTimersDueLaterInTheSameAdvance) {
  TimerWheel wheel(0);
  int victims_fired = 0;
  Timer level1_victim(&CountFire, &victims_fired);
  Timer level2_victim(&CountFire, &victims_fired);
  Canceller canceller{&wheel, {&level1_victim, &level2_victim}};
  Timer first(&CancelVictims, &canceller);
  wheel.Schedule(&level1_victim, 500);
  wheel.Schedule(&level2_victim, 60'000);
  wheel.Schedule(&first, 400);
  EXPECT_EQ(wheel.Advance(100'000), 1u);
  EXPECT_EQ(canceller.fired, 1);
  EXPECT_EQ(victims_fired, 0);
  EXPECT_EQ(wheel.size(), 0u);
}

TEST(TimerWheel, CallbackCancelsTimerSharingItsDeadline) {
  TimerWheel wheel(0);
  int fired = 0;
  Timer victim(&CountFire, &fired);
  Canceller canceller{&wheel, {&victim}};
  Timer first(&CancelVictims, &canceller);
  wheel.Schedule(&first, 300);
  wheel.Schedule(&victim, 300);  // Behind `first` in the same due batch.
  EXPECT_EQ(wheel.Advance(300), 1u);
  EXPECT_EQ(fired, 0);
}

void DeleteSelf(Timer* timer, void* context) {
  ++*static_cast<int*>(context);
  delete timer;  // As a coroutine frame holding the timer may be freed.
}

TEST(TimerWheel, CallbackMayDestroyItsOwnTimer) {
  TimerWheel wheel(0);
  int fired = 0;
  wheel.Schedule(new Timer(&DeleteSelf, &fired), 5);
  wheel.Schedule(new Timer(&DeleteSelf, &fired), 5);
  EXPECT_EQ(wheel.Advance(5), 2u);
  EXPECT_EQ(fired, 2);
  EXPECT_EQ(wheel.size(), 0u);
}

struct Periodic {
  TimerWheel* wheel;
  int64_t period_ms;
  std::vector<int64_t> fired_at_ms;
};

void Rearm(Timer* timer, void* context) {
  auto* periodic = static_cast<Periodic*>(context);
  periodic->fired_at_ms.push_back(periodic->wheel->now_ms());
  periodic->wheel->Schedule(timer, timer->deadline_ms() + periodic->period_ms);
}

TEST(TimerWheel, PeriodicTimerRearmsItselfWithoutDrift) {
  TimerWheel wheel(0);
  Periodic periodic{&wheel, 300, {}};
  Timer timer(&Rearm, &periodic);
  wheel.Schedule(&timer, 300);
  EXPECT_EQ(wheel.Advance(30'000), 100u);
  ASSERT_EQ(periodic.fired_at_ms.size(), 100u);
  for (size_t i = 0; i < periodic.fired_at_ms.size(); ++i) {
    EXPECT_EQ(periodic.fired_at_ms[i], static_cast<int64_t>(i + 1) * 300);
  }
  EXPECT_EQ(wheel.now_ms(), 30'000);
  EXPECT_EQ(timer.deadline_ms(), 30'300);
}

// Jumps of ten days: a per-millisecond loop would take ~1e12 steps here and
// hit the test timeout long before finishing.
TEST(TimerWheel, LargeJumpsFireEverythingWithoutPerMsWork) {
  TimerWheel wheel(5);
  RecordingTimers timers(&wheel, 3);
  int64_t now_ms = 5;
  for (int jump = 0; jump < 1000; ++jump) {
    wheel.Schedule(timers[0], now_ms + 1);
    wheel.Schedule(timers[1], now_ms + 9 * kDayMs);
    wheel.Schedule(timers[2], now_ms + limits::kTimerDelayMsMax);
    now_ms += 10 * kDayMs;
    EXPECT_EQ(wheel.Advance(now_ms), 2u);
    EXPECT_TRUE(timers[2]->armed());
  }
  // The 49.7-day timers were re-armed before they were due, except the last.
  EXPECT_EQ(wheel.Advance(now_ms + limits::kTimerDelayMsMax), 1u);
  EXPECT_EQ(timers.firings().size(), 2001u);
}

TEST(TimerWheel, CrossesTheWheelRangeBoundary) {
  // Just below 2^32: most deadlines differ from now above the top digit and
  // wait in the overflow list until the wheel rolls over.
  const int64_t start_ms = (int64_t{1} << 32) - 3;
  TimerWheel wheel(start_ms);
  RecordingTimers timers(&wheel, 4);
  wheel.Schedule(timers[0], start_ms + 2);
  wheel.Schedule(timers[1], start_ms + 3);
  wheel.Schedule(timers[2], start_ms + 1000);
  wheel.Schedule(timers[3], start_ms + limits::kTimerDelayMsMax);
  EXPECT_EQ(wheel.NextDeadlineMs(), start_ms + 2);
  EXPECT_EQ(wheel.Advance(start_ms + 2), 1u);
  EXPECT_EQ(wheel.Advance(start_ms + 3), 1u);
  EXPECT_EQ(wheel.Advance(start_ms + 999), 0u);
  EXPECT_EQ(wheel.Advance(start_ms + 1000), 1u);
  EXPECT_EQ(wheel.Advance(start_ms + limits::kTimerDelayMsMax), 1u);
  for (const Firing& f : timers.firings()) EXPECT_EQ(f.now_ms, f.deadline_ms);
}

TEST(TimerWheelDeathTest, DelayBeyondMaxIsABug) {
  TimerWheel wheel(0);
  int fired = 0;
  Timer timer(&CountFire, &fired);
  wheel.Schedule(&timer, limits::kTimerDelayMsMax);  // Exactly the limit is fine.
  EXPECT_DEATH(wheel.Schedule(&timer, limits::kTimerDelayMsMax + 1), "kTimerDelayMsMax");
}

TEST(TimerWheelDeathTest, TimeGoingBackwardsIsABug) {
  TimerWheel wheel(100);
  EXPECT_DEATH(wheel.Advance(99), "now_ms >= now_ms_");
}

TEST(TimerWheel, NextDeadlineIsExactNearAndEarlyButNeverLateFar) {
  TimerWheel wheel(1000);
  EXPECT_EQ(wheel.NextDeadlineMs(), std::nullopt);
  int fired = 0;
  Timer far(&CountFire, &fired);
  Timer near(&CountFire, &fired);
  wheel.Schedule(&far, 1000 + 5 * 60 * 1000);
  const int64_t first_guess_ms = *wheel.NextDeadlineMs();
  EXPECT_GT(first_guess_ms, 1000);
  EXPECT_LE(first_guess_ms, far.deadline_ms());
  // Following the hints converges on the deadline in at most one step a level.
  int steps = 0;
  while (fired == 0) {
    wheel.Advance(*wheel.NextDeadlineMs());
    ++steps;
  }
  EXPECT_LE(steps, 4);
  EXPECT_EQ(wheel.now_ms(), far.deadline_ms());
  wheel.Schedule(&near, wheel.now_ms() + 7);
  EXPECT_EQ(wheel.NextDeadlineMs(), wheel.now_ms() + 7);
  wheel.Cancel(&near);
  EXPECT_EQ(wheel.NextDeadlineMs(), std::nullopt);
}

TEST(TimerWheel, SizeCountsArmedTimersOnly) {
  TimerWheel wheel(0);
  RecordingTimers timers(&wheel, 3);
  EXPECT_EQ(wheel.size(), 0u);
  wheel.Schedule(timers[0], 10);
  wheel.Schedule(timers[1], 100'000);
  wheel.Schedule(timers[2], -5);  // Past: due list.
  EXPECT_EQ(wheel.size(), 3u);
  wheel.Schedule(timers[0], 20);  // Re-arm does not double count.
  EXPECT_EQ(wheel.size(), 3u);
  wheel.Cancel(timers[1]);
  wheel.Cancel(timers[1]);
  EXPECT_EQ(wheel.size(), 2u);
  EXPECT_EQ(wheel.Advance(15), 1u);
  EXPECT_EQ(wheel.size(), 1u);
  EXPECT_EQ(wheel.Advance(20), 1u);
  EXPECT_EQ(wheel.size(), 0u);
}

TEST(TimerWheel, DestroyingAnArmedTimerCancelsIt) {
  TimerWheel wheel(0);
  int fired = 0;
  {
    Timer timer(&CountFire, &fired);
    wheel.Schedule(&timer, 70'000);
    EXPECT_EQ(wheel.size(), 1u);
  }
  EXPECT_EQ(wheel.size(), 0u);
  EXPECT_EQ(wheel.Advance(100'000), 0u);
  EXPECT_EQ(fired, 0);
}

TEST(TimerWheel, DestroyingTheWheelDisarmsItsTimers) {
  int fired = 0;
  Timer timer(&CountFire, &fired);
  {
    TimerWheel wheel(0);
    wheel.Schedule(&timer, 10);
  }
  EXPECT_FALSE(timer.armed());
  EXPECT_EQ(fired, 0);
}

// ---- Randomised comparison with a model ----

// The model keeps each armed timer's deadline and its effective firing time:
// the deadline, or the wheel's time when it was scheduled in the past (those
// fire at the next Advance, in scheduling order). Firings must follow the
// effective times; NextDeadlineMs must never exceed the earliest deadline.
class ModelChecker {
 public:
  static constexpr int kTimers = 512;

  explicit ModelChecker(uint64_t seed) : random_(seed), wheel_(kStartMs) {
    for (int i = 0; i < kTimers; ++i) entries_.push_back(std::make_unique<Entry>(this, i));
  }

  void Step() {
    const int64_t op = Uniform(0, 99);
    Entry* entry = entries_[Uniform(0, kTimers - 1)].get();
    if (op < 55) {
      ModelSchedule(entry, wheel_.now_ms() + RandomDelayMs());
    } else if (op < 75) {
      ModelCancel(entry);
    } else {
      AdvanceAndCheck(wheel_.now_ms() + RandomStepMs());
    }
    CheckInvariants();
  }

  size_t fired_count() const { return fired_count_; }

 private:
  static constexpr int64_t kStartMs = 987'654;

  struct Entry {
    Entry(ModelChecker* owner, int id) : owner(owner), id(id), timer(&OnFire, this) {}
    ModelChecker* owner;
    int id;
    Timer timer;
  };
  struct Armed {
    int64_t deadline_ms;
    int64_t effective_ms;
  };

  int64_t Uniform(int64_t low, int64_t high) {
    return std::uniform_int_distribution<int64_t>(low, high)(random_);
  }
  // Mostly short delays (the common case), some on every level, a few past.
  int64_t RandomDelayMs() {
    switch (Uniform(0, 9)) {
      case 0:
        return -Uniform(0, 1000);
      case 1:
        return Uniform(256, 65'535);
      case 2:
        return Uniform(65'536, 1 << 24);
      case 3:
        return Uniform(1 << 24, limits::kTimerDelayMsMax);
      default:
        return Uniform(0, 255);
    }
  }
  int64_t RandomStepMs() {
    switch (Uniform(0, 9)) {
      case 0:
        return Uniform(0, 1 << 20);
      case 1:
        return Uniform(1 << 20, int64_t{1} << 31);
      default:
        return Uniform(0, 300);
    }
  }

  void ModelSchedule(Entry* entry, int64_t deadline_ms) {
    ModelErase(entry->id);
    wheel_.Schedule(&entry->timer, deadline_ms);
    const int64_t effective_ms = std::max(deadline_ms, wheel_.now_ms());
    armed_[entry->id] = {deadline_ms, effective_ms};
    ids_by_deadline_.emplace(deadline_ms, entry->id);
    ids_by_effective_.emplace(effective_ms, entry->id);
  }
  void ModelCancel(Entry* entry) {
    ModelErase(entry->id);
    wheel_.Cancel(&entry->timer);
  }
  static void EraseId(std::multimap<int64_t, int>* ids, int64_t key, int id) {
    auto range = ids->equal_range(key);
    for (auto it = range.first; it != range.second; ++it) {
      if (it->second == id) {
        ids->erase(it);
        return;
      }
    }
  }
  void ModelErase(int id) {
    auto it = armed_.find(id);
    if (it == armed_.end()) return;
    EraseId(&ids_by_deadline_, it->second.deadline_ms, id);
    EraseId(&ids_by_effective_, it->second.effective_ms, id);
    armed_.erase(it);
  }

  void AdvanceAndCheck(int64_t now_ms) {
    advance_target_ms_ = now_ms;
    const size_t fired_before = fired_count_;
    const size_t fired = wheel_.Advance(now_ms);
    ASSERT_EQ(fired, fired_count_ - fired_before);
    // Postcondition: nothing due is left armed.
    if (!ids_by_deadline_.empty()) {
      ASSERT_GT(ids_by_deadline_.begin()->first, now_ms);
    }
  }

  // Each firing must be the model's next effective time, and the wheel's
  // clock must read exactly that. Callbacks also stir the wheel: they re-arm
  // themselves or cancel another timer, as coroutines do.
  static void OnFire(Timer* timer, void* context) {
    auto* entry = static_cast<Entry*>(context);
    ModelChecker* self = entry->owner;
    ++self->fired_count_;
    ASSERT_EQ(self->armed_.count(entry->id), 1u);
    const Armed armed = self->armed_.at(entry->id);
    EXPECT_EQ(armed.deadline_ms, timer->deadline_ms());
    EXPECT_EQ(self->ids_by_effective_.begin()->first, armed.effective_ms);
    EXPECT_EQ(self->wheel_.now_ms(), armed.effective_ms);
    EXPECT_LE(timer->deadline_ms(), self->advance_target_ms_);
    self->ModelErase(entry->id);
    const int64_t action = self->Uniform(0, 9);
    if (action == 0) {
      self->ModelSchedule(entry, self->wheel_.now_ms() + self->Uniform(-20, 500));
    } else if (action == 1) {
      self->ModelCancel(self->entries_[self->Uniform(0, kTimers - 1)].get());
    }
  }

  void CheckInvariants() {
    ASSERT_EQ(wheel_.size(), armed_.size());
    const std::optional<int64_t> next_ms = wheel_.NextDeadlineMs();
    ASSERT_EQ(next_ms.has_value(), !ids_by_deadline_.empty());
    if (next_ms.has_value()) {
      ASSERT_LE(*next_ms, ids_by_deadline_.begin()->first);
    }
  }

  std::mt19937_64 random_;
  TimerWheel wheel_;
  std::vector<std::unique_ptr<Entry>> entries_;
  std::map<int, Armed> armed_;
  std::multimap<int64_t, int> ids_by_deadline_;
  std::multimap<int64_t, int> ids_by_effective_;
  int64_t advance_target_ms_ = 0;
  size_t fired_count_ = 0;
};

TEST(TimerWheel, NextDeadlineAndFiringsMatchAModelOverRandomOperations) {
  ModelChecker checker(/*seed=*/20240601);
  for (int i = 0; i < 100'000; ++i) {
    checker.Step();
    if (testing::Test::HasFatalFailure()) FAIL() << "at operation " << i;
  }
  // The mix must actually exercise firing, not just scheduling.
  EXPECT_GT(checker.fired_count(), 10'000u);
}

}  // namespace
}  // namespace ringmta::io
