// Privilege drop: lookups and refusals anywhere; the drop itself and the
// spool hand-over need root (CI runs as root) and run in forked children,
// so the test process keeps its own ids.
#include "mta/daemon/privileges.h"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>

#include "gtest/gtest.h"
#include "mta/base/limits.h"

namespace ringmta::daemon {
namespace {

namespace fs = std::filesystem;

// "nobody" exists on every Debian system; its ids are not root's.
struct Nobody {
  uid_t uid;
  gid_t gid;
};
std::optional<Nobody> FindNobody() {
  passwd* entry = getpwnam("nobody");
  if (entry == nullptr) return std::nullopt;
  return Nobody{entry->pw_uid, entry->pw_gid};
}

// Runs `body` in a child process; returns its exit code (or 128 + signal).
int InChild(const std::function<int()>& body) {
  pid_t pid = fork();
  if (pid == 0) _exit(body());
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::string TempDir() {
  std::string pattern = (fs::temp_directory_path() / "ringmta-privileges-XXXXXX").string();
  return mkdtemp(pattern.data());
}

TEST(PlanPrivilegeDropTest, NoUserMeansNothingToDrop) {
  auto plan = PlanPrivilegeDrop("", "", "/tmp/spool");
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_FALSE(plan->has_value());
}

TEST(PlanPrivilegeDropTest, UnknownUserIsRefusedByName) {
  auto plan = PlanPrivilegeDrop("no-such-user-ringmta", "", "/tmp/spool");
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(plan.status().message(), "server.user: no such user \"no-such-user-ringmta\"");
}

TEST(PlanPrivilegeDropTest, UnknownGroupIsRefusedByName) {
  auto plan = PlanPrivilegeDrop("nobody", "no-such-group-ringmta", "/tmp/spool");
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(plan.status().message(), "server.group: no such group \"no-such-group-ringmta\"");
}

TEST(PlanPrivilegeDropTest, RootAsTheTargetIsRefused) {
  auto plan = PlanPrivilegeDrop("root", "", "/tmp/spool");
  ASSERT_FALSE(plan.ok());
  EXPECT_NE(plan.status().message().find("would keep root privileges"), std::string::npos);
}

TEST(PlanPrivilegeDropTest, AsRootTheUserAndGroupAreResolved) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root (CI runs as root)";
  std::optional<Nobody> nobody = FindNobody();
  ASSERT_TRUE(nobody.has_value());
  group* nogroup = getgrnam("nogroup");
  ASSERT_NE(nogroup, nullptr);
  auto plan = PlanPrivilegeDrop("nobody", "nogroup", "/tmp/spool");
  ASSERT_TRUE(plan.ok()) << plan.status();
  ASSERT_TRUE(plan->has_value());
  EXPECT_EQ((*plan)->uid, nobody->uid);
  EXPECT_EQ((*plan)->gid, nogroup->gr_gid);
  EXPECT_EQ((*plan)->spool, "/tmp/spool");
}

TEST(PlanPrivilegeDropTest, NotRootAndNotThatUserIsRefused) {
  std::optional<Nobody> nobody = FindNobody();
  ASSERT_TRUE(nobody.has_value());
  if (geteuid() != 0) {
    auto plan = PlanPrivilegeDrop(geteuid() == nobody->uid ? "daemon" : "nobody", "", "/s");
    ASSERT_FALSE(plan.ok());
    EXPECT_NE(plan.status().message().find("needs ringmta to start as root"), std::string::npos);
    return;
  }
  int code = InChild([&] {
    if (setresgid(nobody->gid, nobody->gid, nobody->gid) != 0) return 10;
    if (setresuid(nobody->uid, nobody->uid, nobody->uid) != 0) return 11;
    auto plan = PlanPrivilegeDrop("daemon", "", "/s");
    if (plan.ok()) return 12;
    if (plan.status().message().find("needs ringmta to start as root") == std::string::npos) {
      return 13;
    }
    // Already the configured user (systemd's User=): nothing to do, no error.
    auto same = PlanPrivilegeDrop("nobody", "", "/s");
    if (!same.ok() || same->has_value()) return 14;
    return 0;
  });
  EXPECT_EQ(code, 0);
}

TEST(DropPrivilegesTest, RootIsGoneForGood) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root (CI runs as root)";
  std::optional<Nobody> nobody = FindNobody();
  ASSERT_TRUE(nobody.has_value());
  int code = InChild([&] {
    gid_t extra = 0;  // a supplementary group the drop must remove
    if (setgroups(1, &extra) != 0) return 9;
    if (!DropPrivileges(nobody->uid, nobody->gid).ok()) return 10;
    uid_t r, e, s;
    if (getresuid(&r, &e, &s) != 0 || r != nobody->uid || e != nobody->uid || s != nobody->uid) {
      return 11;
    }
    if (getegid() != nobody->gid) return 12;
    if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1) return 13;
    if (setuid(0) == 0 || seteuid(0) == 0) return 14;
    gid_t groups[4];
    if (getgroups(4, groups) != 1 || groups[0] != nobody->gid) return 15;
    // Root's files are out of reach now.
    if (open("/etc/shadow", O_RDONLY) >= 0) return 16;
    return 0;
  });
  EXPECT_EQ(code, 0);
}

TEST(DropPrivilegesTest, RefusesToDropToRoot) {
  EXPECT_FALSE(DropPrivileges(0, 0).ok());
}

TEST(HandOverSpoolTest, EverythingBelowIsChownedAndLinksAreNotFollowed) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root (CI runs as root)";
  std::optional<Nobody> nobody = FindNobody();
  ASSERT_TRUE(nobody.has_value());
  std::string root = TempDir();
  std::string spool = root + "/spool";
  fs::create_directories(spool + "/shard-0");
  std::ofstream(spool + "/shard-0/00000001.seg") << "x";
  std::string outside = root + "/outside";
  std::ofstream(outside) << "root's";
  fs::create_symlink(outside, spool + "/shard-0/link");
  fs::create_directory_symlink(root, spool + "/dirlink");
  chmod(spool.c_str(), 0755);

  ASSERT_TRUE(HandOverSpool(spool, nobody->uid, nobody->gid).ok());
  for (const std::string& path :
       {spool, spool + "/shard-0", spool + "/shard-0/00000001.seg", spool + "/shard-0/link",
        spool + "/dirlink"}) {
    struct stat info;
    ASSERT_EQ(lstat(path.c_str(), &info), 0) << path;
    EXPECT_EQ(info.st_uid, nobody->uid) << path;
    EXPECT_EQ(info.st_gid, nobody->gid) << path;
  }
  struct stat info;
  ASSERT_EQ(stat(spool.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 07777, 0700u);
  // What the links point at stays root's.
  ASSERT_EQ(stat(outside.c_str(), &info), 0);
  EXPECT_EQ(info.st_uid, 0u);
  ASSERT_EQ(stat(root.c_str(), &info), 0);
  EXPECT_EQ(info.st_uid, 0u);
  fs::remove_all(root);
}

TEST(HandOverSpoolTest, ATreeDeeperThanTheBoundIsRefused) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root (CI runs as root)";
  std::string root = TempDir();
  std::string deep = root;
  for (int i = 0; i <= limits::kSpoolTreeDepthMax; ++i) deep += "/d";
  fs::create_directories(deep);
  absl::Status status = HandOverSpool(root, 65534, 65534);
  EXPECT_FALSE(status.ok());
  EXPECT_NE(status.message().find("deeper than"), std::string::npos) << status;
  fs::remove_all(root);
}

TEST(HandOverSpoolTest, AMissingSpoolIsAnError) {
  absl::Status status = HandOverSpool("/nonexistent/ringmta-spool", 65534, 65534);
  EXPECT_FALSE(status.ok());
  EXPECT_NE(status.message().find("/nonexistent/ringmta-spool"), std::string::npos) << status;
}

}  // namespace
}  // namespace ringmta::daemon
