// Privileges: giving up root after the privileged setup (DESIGN §7). The
// daemon binds its ports and loads keys as root, then — before the first
// accept, while single-threaded — hands the spool to `server.user`, drops
// groups, gid and uid, sets PR_SET_NO_NEW_PRIVS and checks that root cannot
// come back. Not here: when in startup this runs (daemon.cc decides).
#ifndef RINGMTA_MTA_DAEMON_PRIVILEGES_H_
#define RINGMTA_MTA_DAEMON_PRIVILEGES_H_

#include <sys/types.h>

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace ringmta::daemon {

struct PrivilegeDrop {
  std::string user;
  std::string group;
  uid_t uid = 0;
  gid_t gid = 0;
  std::string spool;  // handed to the user before the drop
};

// Decided at start, before anything is bound: nullopt when there is nothing
// to drop (no server.user; or already running as that user, as under
// systemd's User=). Refused: an unknown user or group, root as the target,
// and server.user while neither root nor that user (we could not switch,
// and running on silently as someone else would hide a mistake). Running
// as root without server.user logs a warning.
absl::StatusOr<std::optional<PrivilegeDrop>> PlanPrivilegeDrop(const std::string& user,
                                                               const std::string& group,
                                                               const std::string& spool);

// Makes `spool` and everything below it owned by uid:gid, the spool itself
// mode 0700. Entries are changed through directory descriptors and never
// followed when they are symlinks, so a link planted in the spool cannot
// redirect root's chown elsewhere; depth is bounded (limits.h).
absl::Status HandOverSpool(const std::string& spool, uid_t uid, gid_t gid);

// setgroups({gid}), setresgid, setresuid, PR_SET_NO_NEW_PRIVS; then checks
// the ids, an empty capability set, and that setuid(0) fails.
absl::Status DropPrivileges(uid_t uid, gid_t gid);

// HandOverSpool, DropPrivileges and a check that the spool is reachable as
// the new user. `context` is a PrivilegeDrop; for ShardGroupOptions::after_bind.
absl::Status ApplyPrivilegeDrop(void* context);

}  // namespace ringmta::daemon

#endif  // RINGMTA_MTA_DAEMON_PRIVILEGES_H_
