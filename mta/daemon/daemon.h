// The composition root: wires config into shards, listeners and sessions,
// then runs until SIGTERM or SIGINT. The only place that knows every part.
#ifndef RINGMTA_MTA_DAEMON_DAEMON_H_
#define RINGMTA_MTA_DAEMON_DAEMON_H_

#include "mta/daemon/config.h"
#include "mta/daemon/reload.h"

namespace ringmta::daemon {

// Returns the process exit code: 0 after a clean stop (a drain), 1 when it
// cannot start (the reason is logged). `source` says how to read the
// config again on reload.
int RunDaemon(const DaemonConfig& config, const ConfigSource& source);

}  // namespace ringmta::daemon

#endif  // RINGMTA_MTA_DAEMON_DAEMON_H_
