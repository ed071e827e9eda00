// CancelScope: explicit cancellation for everything a session waits on.
// Operations and waits register while pending; Cancel() makes each complete
// promptly with -ECANCELED (ring operations through an async cancel, so the
// kernel is done with their buffers before the coroutine resumes), and every
// later operation under the scope fails at once. Cancellation never destroys
// a coroutine frame: the coroutine resumes, sees the error and unwinds.
#ifndef RINGMTA_MTA_IO_CANCEL_SCOPE_H_
#define RINGMTA_MTA_IO_CANCEL_SCOPE_H_

#include "mta/base/check.h"

namespace ringmta::io {

// A pending wait, linked into its scope. `cancel` starts cancellation; the
// waiter still resumes through its normal completion path.
struct CancelNode {
  void (*cancel)(void* owner) = nullptr;
  void* owner = nullptr;
  CancelNode* prev = nullptr;
  CancelNode* next = nullptr;
  bool linked = false;
};

class CancelScope {
 public:
  CancelScope() = default;
  CancelScope(const CancelScope&) = delete;
  CancelScope& operator=(const CancelScope&) = delete;
  // A scope outliving its waits is the caller's job; a pending one here
  // would be resumed into a dead session.
  ~CancelScope() { CHECK(head_ == nullptr); }

  bool cancelled() const { return cancelled_; }
  bool has_pending() const { return head_ != nullptr; }

  // Idempotent. Safe to call from anywhere on the owning shard.
  void Cancel() {
    if (cancelled_) return;
    cancelled_ = true;
    // A cancel callback may unlink its node (and only its own), so step
    // past it before calling.
    for (CancelNode* node = head_; node != nullptr;) {
      CancelNode* next = node->next;
      node->cancel(node->owner);
      node = next;
    }
  }

  void Link(CancelNode* node) {
    CHECK(!node->linked);
    node->linked = true;
    node->prev = nullptr;
    node->next = head_;
    if (head_ != nullptr) head_->prev = node;
    head_ = node;
  }

  void Unlink(CancelNode* node) {
    if (!node->linked) return;
    node->linked = false;
    if (node->prev != nullptr) node->prev->next = node->next;
    else head_ = node->next;
    if (node->next != nullptr) node->next->prev = node->prev;
    node->prev = node->next = nullptr;
  }

 private:
  CancelNode* head_ = nullptr;
  bool cancelled_ = false;
};

}  // namespace ringmta::io

#endif  // RINGMTA_MTA_IO_CANCEL_SCOPE_H_
