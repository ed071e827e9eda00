// Test-only: connects two TlsSessions back to back in memory, moving each
// one's output into the other's Feed, and collecting what each decrypts.
// Not a network simulator: no loss, no reordering, no clock.
#ifndef RINGMTA_TLS_TEST_PUMP_H_
#define RINGMTA_TLS_TEST_PUMP_H_

#include <string>

#include "tls/session.h"

namespace ringmta::tls::testing {

struct Endpoint {
  TlsSession* session;
  std::string received;  // plaintext collected from the session
  std::string inbox;     // ciphertext it has not consumed yet
};

// Moves `from`'s pending output into `to`, feeding and draining `to`'s
// plaintext as it goes; what `to` cannot take yet stays in its inbox.
// Returns the bytes moved plus the bytes consumed (0: no progress).
inline size_t MoveBytes(TlsSession& from, Endpoint& to) {
  size_t moved = from.output().size();
  from.TakeOutput(&to.inbox);
  size_t offset = 0;
  while (offset < to.inbox.size()) {
    absl::StatusOr<size_t> consumed =
        to.session->Feed(std::string_view(to.inbox).substr(offset));
    to.received.append(to.session->plaintext());
    to.session->ConsumePlaintext(to.session->plaintext().size());
    if (!consumed.ok()) {
      offset = to.inbox.size();
      break;
    }
    offset += *consumed;
    if (*consumed == 0) break;  // its output is full: the caller moves that
  }
  to.inbox.erase(0, offset);
  return moved + offset;
}

// Pumps both ways until neither side makes progress.
inline void Pump(Endpoint& a, Endpoint& b) {
  for (int round = 0; round < 100000; ++round) {
    size_t progress = MoveBytes(*a.session, b) + MoveBytes(*b.session, a);
    if (progress == 0) return;
  }
}

}  // namespace ringmta::tls::testing

#endif  // RINGMTA_TLS_TEST_PUMP_H_
