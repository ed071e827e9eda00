// One shard's user-space timers (idle timeouts, retry schedules, sleeps): a
// hierarchical hashed timer wheel with 1 ms ticks and O(1) schedule/cancel.
// Not here: reading clocks (callers pass "now"), threads, or kernel timeouts.
#ifndef RINGMTA_MTA_IO_TIMER_WHEEL_H_
#define RINGMTA_MTA_IO_TIMER_WHEEL_H_

#include <cstddef>
#include <cstdint>
#include <optional>

namespace ringmta::io {

class TimerWheel;

// An intrusive timer, owned by its caller (usually a coroutine frame), so the
// wheel never allocates. Destroying an armed timer cancels it: a coroutine
// frame torn down by cancellation must not leave a dangling link behind.
class Timer {
 public:
  using Callback = void (*)(Timer* timer, void* context);

  Timer(Callback callback, void* context);
  ~Timer();

  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;

  bool armed() const { return wheel_ != nullptr; }
  // The deadline of the last Schedule; meaningful while armed and in the callback.
  int64_t deadline_ms() const { return deadline_ms_; }

 private:
  friend class TimerWheel;

  Callback callback_;
  void* context_;
  TimerWheel* wheel_ = nullptr;  // Set exactly while armed.
  Timer* prev_ = nullptr;
  Timer* next_ = nullptr;
  int64_t deadline_ms_ = 0;
  uint32_t bucket_ = 0;  // Index of the list holding the timer while armed.
};

// Single-threaded: one per shard. Time only moves when Advance is called.
//
// Layout: four levels of 256 slots. A timer sits at the level of the highest
// base-256 digit in which its deadline differs from now_ms(), in the slot named
// by that digit of its deadline; deadlines beyond the fourth digit wait in an
// overflow list, deadlines not after now_ms() in a due list. When now_ms()
// reaches the start of an occupied slot, its timers are re-placed one level
// down (or into the due list). Occupancy bitmaps let Advance jump straight to
// the next occupied slot, so a 10-day gap costs per timer, not per ms.
class TimerWheel {
 public:
  // now_ms >= 0: times are split into unsigned base-256 digits.
  explicit TimerWheel(int64_t now_ms);
  // Disarms every timer still armed (without firing it).
  ~TimerWheel();

  TimerWheel(const TimerWheel&) = delete;
  TimerWheel& operator=(const TimerWheel&) = delete;

  // Arms `timer` for `deadline_ms`, cancelling it first if it is armed. A
  // deadline not after now_ms() fires at the next Advance. CHECKs that the
  // delay is at most limits::kTimerDelayMsMax: a longer one is a bug upstream
  // (retries are capped at days), and clamping would hide it.
  void Schedule(Timer* timer, int64_t deadline_ms);
  // No-op if `timer` is not armed.
  void Cancel(Timer* timer);

  // Fires every timer with deadline <= now_ms, in deadline order, and returns
  // how many fired. A timer scheduled with an already past deadline counts as
  // due at the time it was scheduled (so those fire first, in scheduling
  // order); equal deadlines fire in no promised order.
  // A callback may Schedule or Cancel any timer, or destroy its own (a timer
  // is disarmed before its callback runs and not touched after). A timer
  // scheduled for a deadline <= now_ms fires in this same call, so a callback
  // that always re-arms itself in the past never returns.
  // While a callback runs, now_ms() is the time being fired (its deadline, for
  // a timer not scheduled in the past), so a periodic timer re-arms without
  // drift with deadline_ms() + period, and delay limits count from there.
  // CHECKs that time does not go backwards and that it is not re-entered.
  size_t Advance(int64_t now_ms);

  // Never later than the earliest armed deadline and O(1): the exact deadline
  // for timers due within the current 256 ms block, otherwise the start of the
  // block holding the earliest timer (which Advance then refines). So the
  // event loop may wake early up to once per level, never late.
  std::optional<int64_t> NextDeadlineMs() const;

  size_t size() const { return size_; }
  int64_t now_ms() const { return now_ms_; }

 private:
  static constexpr int kLevels = 4;
  static constexpr int kSlotBits = 8;
  static constexpr uint32_t kSlots = 1u << kSlotBits;
  static constexpr uint32_t kOverflowBucket = kLevels * kSlots;
  static constexpr uint32_t kDueBucket = kOverflowBucket + 1;
  static constexpr uint32_t kBuckets = kDueBucket + 1;
  static constexpr int kWordBits = 64;
  static constexpr uint32_t kWordsPerLevel = kSlots / kWordBits;

  struct TimerList {
    Timer* head = nullptr;
    Timer* tail = nullptr;
  };
  // The wheel bucket to process next and the time at which it must be.
  struct NextBucket {
    uint32_t bucket;
    int64_t start_ms;
  };

  std::optional<NextBucket> FindNextBucket() const;
  int64_t SlotStartMs(int level, uint32_t slot) const;
  // Puts an armed timer into the bucket its deadline and now_ms_ select.
  void Place(Timer* timer);
  void PushBack(uint32_t bucket, Timer* timer);
  void Unlink(Timer* timer);
  // Marks `bucket` empty: its occupancy bit, or the due list's minimum.
  void ClearOccupied(uint32_t bucket);
  // Empties `bucket`, re-placing each timer relative to now_ms_.
  void Cascade(uint32_t bucket);
  size_t FireDue();

  int64_t now_ms_;
  size_t size_ = 0;
  bool advancing_ = false;
  // Earliest deadline ever pushed to the due list since it was last empty;
  // may be stale-early after a Cancel, which NextDeadlineMs allows.
  int64_t due_deadline_ms_min_;
  TimerList buckets_[kBuckets];
  uint64_t occupied_[kLevels][kWordsPerLevel] = {};
};

}  // namespace ringmta::io

#endif  // RINGMTA_MTA_IO_TIMER_WHEEL_H_
