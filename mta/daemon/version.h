// The version string `ringmta --version` and `ringctl status` report.
#ifndef RINGMTA_MTA_DAEMON_VERSION_H_
#define RINGMTA_MTA_DAEMON_VERSION_H_

#define RINGMTA_VERSION "ringmta 0.1.0"

#endif  // RINGMTA_MTA_DAEMON_VERSION_H_
