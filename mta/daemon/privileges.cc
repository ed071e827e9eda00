#include "mta/daemon/privileges.h"

#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <vector>

#include "mta/base/limits.h"
#include "mta/base/log.h"
#include "mta/base/status.h"

namespace ringmta::daemon {
namespace {

// getpwnam_r/getgrnam_r with a buffer that grows on ERANGE.
template <typename Entry, typename Lookup>
bool LookUp(const std::string& name, Lookup lookup, Entry* entry) {
  std::vector<char> buffer(4096);
  for (;;) {
    Entry* result = nullptr;
    int error = lookup(name.c_str(), entry, buffer.data(), buffer.size(), &result);
    if (error == ERANGE && buffer.size() < (1u << 20)) {
      buffer.resize(buffer.size() * 2);
      continue;
    }
    return error == 0 && result != nullptr;
  }
}

// The spool tree below `fd` (an open directory), depth-first. Each entry is
// chowned by name relative to its parent's descriptor without following
// symlinks, and only real directories are descended into (O_NOFOLLOW).
absl::Status HandOverDirectory(int fd, const std::string& path, uid_t uid, gid_t gid, int depth) {
  if (depth > limits::kSpoolTreeDepthMax) {
    return absl::FailedPreconditionError(path + ": deeper than " +
                                         std::to_string(limits::kSpoolTreeDepthMax) +
                                         " levels; not a ringmta spool");
  }
  int listing = dup(fd);
  if (listing < 0) return ErrnoToStatus(errno, "dup " + path);
  DIR* dir = fdopendir(listing);
  if (dir == nullptr) {
    int error = errno;
    close(listing);
    return ErrnoToStatus(error, "opendir " + path);
  }
  absl::Status status = absl::OkStatus();
  while (status.ok()) {
    errno = 0;
    dirent* entry = readdir(dir);
    if (entry == nullptr) {
      if (errno != 0) status = ErrnoToStatus(errno, "readdir " + path);
      break;
    }
    std::string name = entry->d_name;
    if (name == "." || name == "..") continue;
    std::string child_path = path + "/" + name;
    if (fchownat(fd, name.c_str(), uid, gid, AT_SYMLINK_NOFOLLOW) != 0) {
      status = ErrnoToStatus(errno, "chown " + child_path);
      break;
    }
    int child = openat(fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (child < 0) {
      // Not a directory, or a symlink: chowned itself above, not followed.
      if (errno == ENOTDIR || errno == ELOOP) continue;
      status = ErrnoToStatus(errno, "open " + child_path);
      break;
    }
    status = HandOverDirectory(child, child_path, uid, gid, depth + 1);
    close(child);
  }
  closedir(dir);
  return status;
}

// True when no capability is effective, permitted or inheritable.
bool CapabilitiesEmpty() {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
  if (syscall(SYS_capget, &header, data) != 0) return false;
  for (const __user_cap_data_struct& word : data) {
    if (word.effective != 0 || word.permitted != 0 || word.inheritable != 0) return false;
  }
  return true;
}

int ThreadCount() {
  std::error_code error;
  int threads = 0;
  for (auto it = std::filesystem::directory_iterator("/proc/self/task", error);
       !error && it != std::filesystem::directory_iterator(); it.increment(error)) {
    ++threads;
  }
  return threads;
}

}  // namespace

absl::StatusOr<std::optional<PrivilegeDrop>> PlanPrivilegeDrop(const std::string& user,
                                                               const std::string& group,
                                                               const std::string& spool) {
  const uid_t euid = geteuid();
  if (user.empty()) {
    if (euid == 0) {
      Log(LogLevel::kWarning,
          "running as root: set server.user so that privileges drop after binding");
    }
    return std::optional<PrivilegeDrop>();
  }
  passwd password_entry{};
  if (!LookUp(user, &getpwnam_r, &password_entry)) {
    return absl::InvalidArgumentError("server.user: no such user \"" + user + "\"");
  }
  PrivilegeDrop drop;
  drop.user = user;
  drop.uid = password_entry.pw_uid;
  drop.gid = password_entry.pw_gid;
  drop.spool = spool;
  drop.group = std::to_string(drop.gid);
  if (group.empty()) {
    struct group primary{};
    std::vector<char> buffer(4096);
    struct group* found = nullptr;
    if (getgrgid_r(drop.gid, &primary, buffer.data(), buffer.size(), &found) == 0 && found) {
      drop.group = primary.gr_name;
    }
  } else {
    struct group entry{};
    if (!LookUp(group, &getgrnam_r, &entry)) {
      return absl::InvalidArgumentError("server.group: no such group \"" + group + "\"");
    }
    drop.gid = entry.gr_gid;
    drop.group = group;
  }
  if (drop.uid == 0 || drop.gid == 0) {
    return absl::InvalidArgumentError("server.user/server.group: \"" + user +
                                      "\" would keep root privileges; name an unprivileged user");
  }
  if (euid != 0) {
    if (euid == drop.uid) {
      Log(LogLevel::kInfo, "already running as %s; no privileges to drop", user);
      return std::optional<PrivilegeDrop>();
    }
    return absl::PermissionDeniedError("server.user = \"" + user +
                                       "\" needs ringmta to start as root (running as uid " +
                                       std::to_string(euid) + "); start it as root or as " + user);
  }
  return std::optional<PrivilegeDrop>(std::move(drop));
}

absl::Status HandOverSpool(const std::string& spool, uid_t uid, gid_t gid) {
  // The spool path itself comes from root's own config and may be a link;
  // only what lies below it is never followed.
  int fd = open(spool.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoToStatus(errno, "open spool " + spool);
  absl::Status status = absl::OkStatus();
  if (fchown(fd, uid, gid) != 0) status = ErrnoToStatus(errno, "chown " + spool);
  if (status.ok() && fchmod(fd, 0700) != 0) status = ErrnoToStatus(errno, "chmod " + spool);
  if (status.ok()) status = HandOverDirectory(fd, spool, uid, gid, 1);
  close(fd);
  return status;
}

absl::Status DropPrivileges(uid_t uid, gid_t gid) {
  if (uid == 0 || gid == 0) return absl::InvalidArgumentError("refusing to drop to root");
  if (int threads = ThreadCount(); threads > 1) {
    Log(LogLevel::kWarning,
        "%d threads already running: PR_SET_NO_NEW_PRIVS covers only threads started later",
        threads);
  }
  // Order matters: groups and gid need root, so they go before the uid.
  if (setgroups(1, &gid) != 0) return ErrnoToStatus(errno, "setgroups");
  if (setresgid(gid, gid, gid) != 0) return ErrnoToStatus(errno, "setresgid");
  if (setresuid(uid, uid, uid) != 0) return ErrnoToStatus(errno, "setresuid");
  // No execve from here on can gain privileges (setuid binaries, file
  // capabilities); inherited by every shard thread started after this.
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    return ErrnoToStatus(errno, "PR_SET_NO_NEW_PRIVS");
  }

  uid_t real_uid, effective_uid, saved_uid;
  gid_t real_gid, effective_gid, saved_gid;
  if (getresuid(&real_uid, &effective_uid, &saved_uid) != 0 ||
      getresgid(&real_gid, &effective_gid, &saved_gid) != 0) {
    return ErrnoToStatus(errno, "getresuid");
  }
  if (real_uid != uid || effective_uid != uid || saved_uid != uid || real_gid != gid ||
      effective_gid != gid || saved_gid != gid) {
    return absl::InternalError("privilege drop left other ids behind");
  }
  gid_t groups[2];
  int group_count = getgroups(2, groups);
  if (group_count != 1 || groups[0] != gid) {
    return absl::InternalError("privilege drop left supplementary groups behind");
  }
  if (!CapabilitiesEmpty()) return absl::InternalError("capabilities survived the privilege drop");
  if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1) {
    return absl::InternalError("PR_SET_NO_NEW_PRIVS did not stick");
  }
  // The negative space: root must be gone for good.
  if (setuid(0) == 0 || seteuid(0) == 0 || setgid(0) == 0) {
    return absl::InternalError("root could be regained after dropping privileges");
  }
  return absl::OkStatus();
}

absl::Status ApplyPrivilegeDrop(void* context) {
  const auto& drop = *static_cast<const PrivilegeDrop*>(context);
  RETURN_IF_ERROR(HandOverSpool(drop.spool, drop.uid, drop.gid));
  RETURN_IF_ERROR(DropPrivileges(drop.uid, drop.gid));
  if (access(drop.spool.c_str(), R_OK | W_OK | X_OK) != 0) {
    return absl::PermissionDeniedError(
        "spool " + drop.spool + " is not usable as user " + drop.user + ": " +
        std::strerror(errno) + " (every parent directory must let the user through)");
  }
  Log(LogLevel::kInfo, "dropped privileges: running as %s (uid %d), group %s (gid %d)", drop.user,
      static_cast<int>(drop.uid), drop.group, static_cast<int>(drop.gid));
  return absl::OkStatus();
}

}  // namespace ringmta::daemon
