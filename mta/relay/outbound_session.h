// The outbound SMTP session: one connection of a Destination, carrying its
// jobs one after another (connection reuse) until idle, the per-connection
// message limit, a failure, or shutdown. It connects to the hops in order
// (each host's addresses in turn) and moves on when a host refuses at the
// greeting; it applies the hop's TLS policy (none/may/encrypt/verify, with
// the cleartext fallback under may) and AUTH credentials; it streams bodies
// from the home shard's segment files; it turns replies into per-recipient
// outcomes. Not here: SMTP rules (ClientProtocol), the byte pump and TLS
// handshake (OutboundConnection) or retry policy (QueueRunner).
#ifndef RINGMTA_MTA_RELAY_OUTBOUND_SESSION_H_
#define RINGMTA_MTA_RELAY_OUTBOUND_SESSION_H_

#include "mta/io/task.h"

namespace ringmta::relay {

class Destination;
class RelayShard;

io::Task<void> RunOutboundSession(RelayShard& relay, Destination& destination);

}  // namespace ringmta::relay

#endif  // RINGMTA_MTA_RELAY_OUTBOUND_SESSION_H_
