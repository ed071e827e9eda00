// Timer wheel internals: placement by highest differing digit, cascading, and
// the occupancy bitmaps that let Advance skip empty time.
#include "mta/io/timer_wheel.h"

#include <bit>
#include <limits>

#include "mta/base/check.h"
#include "mta/base/limits.h"

namespace ringmta::io {

// The wheel counts in whole milliseconds; a coarser tick would need rounding
// in Place and SlotStartMs.
static_assert(limits::kTimerTickMs == 1);

Timer::Timer(Callback callback, void* context) : callback_(callback), context_(context) {
  CHECK(callback != nullptr);
}

Timer::~Timer() {
  if (wheel_ != nullptr) wheel_->Cancel(this);
}

TimerWheel::TimerWheel(int64_t now_ms)
    : now_ms_(now_ms), due_deadline_ms_min_(std::numeric_limits<int64_t>::max()) {
  // Digit arithmetic below treats times as unsigned; monotonic clocks and
  // virtual clocks both start at or above zero.
  CHECK(now_ms >= 0);
}

TimerWheel::~TimerWheel() {
  for (TimerList& list : buckets_) {
    while (list.head != nullptr) Unlink(list.head);
  }
  CHECK(size_ == 0);
}

void TimerWheel::Schedule(Timer* timer, int64_t deadline_ms) {
  CHECK(timer->wheel_ == nullptr || timer->wheel_ == this);
  // Compared this way round so that a very negative deadline cannot overflow.
  CHECK(deadline_ms <= now_ms_ || deadline_ms - now_ms_ <= limits::kTimerDelayMsMax);
  Cancel(timer);
  timer->deadline_ms_ = deadline_ms;
  timer->wheel_ = this;
  ++size_;
  Place(timer);
}

void TimerWheel::Cancel(Timer* timer) {
  if (timer->wheel_ == nullptr) return;
  CHECK(timer->wheel_ == this);
  Unlink(timer);
}

size_t TimerWheel::Advance(int64_t now_ms) {
  CHECK(now_ms >= now_ms_);
  // Not re-entrant: a callback calling Advance would move now_ms_ under the
  // outer loop's feet.
  CHECK(!advancing_);
  advancing_ = true;
  size_t fired_count = FireDue();
  // Each turn moves now_ms_ to the start of the next occupied slot, never past
  // the target, so every skipped millisecond had no timer in it.
  for (std::optional<NextBucket> next = FindNextBucket();
       next.has_value() && next->start_ms <= now_ms; next = FindNextBucket()) {
    now_ms_ = next->start_ms;
    Cascade(next->bucket);
    fired_count += FireDue();
  }
  // Invariant: every timer left in the wheel lies in a slot starting after
  // now_ms, so its placement is still valid relative to the new now_ms_.
  now_ms_ = now_ms;
  advancing_ = false;
  return fired_count;
}

std::optional<int64_t> TimerWheel::NextDeadlineMs() const {
  if (buckets_[kDueBucket].head != nullptr) return due_deadline_ms_min_;
  std::optional<NextBucket> next = FindNextBucket();
  if (!next.has_value()) return std::nullopt;
  return next->start_ms;
}

// Slots at each level all start after now_ms_ (Place guarantees a timer's
// digit exceeds now_ms_'s at its level), and every slot of level L starts
// before every slot of level L+1, so the answer is the lowest occupied slot of
// the lowest occupied level, else the overflow list.
std::optional<TimerWheel::NextBucket> TimerWheel::FindNextBucket() const {
  for (int level = 0; level < kLevels; ++level) {
    for (uint32_t word = 0; word < kWordsPerLevel; ++word) {
      const uint64_t bits = occupied_[level][word];
      if (bits == 0) continue;
      const uint32_t slot = word * kWordBits + static_cast<uint32_t>(std::countr_zero(bits));
      return NextBucket{level * kSlots + slot, SlotStartMs(level, slot)};
    }
  }
  if (buckets_[kOverflowBucket].head == nullptr) return std::nullopt;
  // Overflow timers differ from now_ms_ above the wheel's top digit, so none
  // is due before the wheel's range next rolls over.
  constexpr int kWheelBits = kLevels * kSlotBits;
  const uint64_t now = static_cast<uint64_t>(now_ms_);
  return NextBucket{kOverflowBucket, static_cast<int64_t>(((now >> kWheelBits) + 1) << kWheelBits)};
}

// The first millisecond whose digit at `level` is `slot`, with now_ms_'s
// higher digits and zero lower digits.
int64_t TimerWheel::SlotStartMs(int level, uint32_t slot) const {
  const int shift = level * kSlotBits;
  const uint64_t now = static_cast<uint64_t>(now_ms_);
  const uint64_t high = (now >> (shift + kSlotBits)) << (shift + kSlotBits);
  return static_cast<int64_t>(high | (uint64_t{slot} << shift));
}

void TimerWheel::Place(Timer* timer) {
  const int64_t deadline_ms = timer->deadline_ms_;
  if (deadline_ms <= now_ms_) {
    if (deadline_ms < due_deadline_ms_min_) due_deadline_ms_min_ = deadline_ms;
    PushBack(kDueBucket, timer);
    return;
  }
  const uint64_t deadline = static_cast<uint64_t>(deadline_ms);
  const uint64_t differ = deadline ^ static_cast<uint64_t>(now_ms_);
  const int level = (std::bit_width(differ) - 1) / kSlotBits;
  if (level >= kLevels) {
    PushBack(kOverflowBucket, timer);
    return;
  }
  // deadline > now_ms_ and they agree above `level`, so this digit of the
  // deadline is greater than now_ms_'s: the slot starts in the future.
  const uint32_t slot = static_cast<uint32_t>(deadline >> (level * kSlotBits)) & (kSlots - 1);
  occupied_[level][slot / kWordBits] |= uint64_t{1} << (slot % kWordBits);
  PushBack(level * kSlots + slot, timer);
}

void TimerWheel::PushBack(uint32_t bucket, Timer* timer) {
  TimerList& list = buckets_[bucket];
  timer->bucket_ = bucket;
  timer->prev_ = list.tail;
  timer->next_ = nullptr;
  if (list.tail != nullptr) {
    list.tail->next_ = timer;
  } else {
    list.head = timer;
  }
  list.tail = timer;
}

// Removes an armed timer from its list and disarms it; clears the slot's
// occupancy bit when the list empties so FindNextBucket never sees it.
void TimerWheel::Unlink(Timer* timer) {
  const uint32_t bucket = timer->bucket_;
  TimerList& list = buckets_[bucket];
  if (timer->prev_ != nullptr) {
    timer->prev_->next_ = timer->next_;
  } else {
    list.head = timer->next_;
  }
  if (timer->next_ != nullptr) {
    timer->next_->prev_ = timer->prev_;
  } else {
    list.tail = timer->prev_;
  }
  timer->prev_ = timer->next_ = nullptr;
  timer->wheel_ = nullptr;
  CHECK(size_ > 0);
  --size_;
  if (list.head == nullptr) ClearOccupied(bucket);
}

void TimerWheel::ClearOccupied(uint32_t bucket) {
  if (bucket < kOverflowBucket) {
    const uint32_t slot = bucket % kSlots;
    occupied_[bucket / kSlots][slot / kWordBits] &= ~(uint64_t{1} << (slot % kWordBits));
  } else if (bucket == kDueBucket) {
    due_deadline_ms_min_ = std::numeric_limits<int64_t>::max();
  }
}

void TimerWheel::Cascade(uint32_t bucket) {
  // Take the whole list first: each timer then lands in a lower level or the
  // due list (it now agrees with now_ms_ at this level's digit), and none can
  // be walked twice even if it landed back here.
  Timer* timer = buckets_[bucket].head;
  buckets_[bucket] = TimerList{};
  ClearOccupied(bucket);
  while (timer != nullptr) {
    Timer* next = timer->next_;
    Place(timer);
    timer = next;
  }
}

// Fires the due list until it is empty, one timer at a time: callbacks may
// cancel or add due timers, so no iterator is held across a callback.
size_t TimerWheel::FireDue() {
  size_t fired_count = 0;
  TimerList& due = buckets_[kDueBucket];
  while (due.head != nullptr) {
    Timer* timer = due.head;
    Unlink(timer);
    ++fired_count;
    timer->callback_(timer, timer->context_);
  }
  return fired_count;
}

}  // namespace ringmta::io
