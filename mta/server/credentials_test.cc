// Tests for the credentials file: both hash schemes (made at test time with
// fixed salts; no secret is committed), every parse error with its line,
// the file checks at load, and Check's verdicts.
#include "mta/server/credentials.h"

#include <crypt.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

#include <gtest/gtest.h>

namespace ringmta::server {
namespace {

std::string Hash(const char* password, const char* setting) {
  crypt_data data{};
  const char* hash = crypt_rn(password, setting, &data, sizeof data);
  EXPECT_NE(hash, nullptr);
  return hash == nullptr ? "" : hash;
}

std::string Sha512(const char* password) { return Hash(password, "$6$ringmtatestsalt$"); }

std::string Yescrypt(const char* password) {
  // Fixed "random" bytes make the setting, and so the test, deterministic.
  const char bytes[16] = "0123456789abcde";
  char setting[CRYPT_GENSALT_OUTPUT_SIZE];
  EXPECT_NE(crypt_gensalt_rn("$y$", 0, bytes, sizeof bytes, setting, sizeof setting), nullptr);
  return Hash(password, setting);
}

std::unique_ptr<CredentialsFile> MustParse(const std::string& text) {
  auto file = CredentialsFile::Parse(text, "creds");
  EXPECT_TRUE(file.ok()) << file.status();
  return file.ok() ? std::move(*file) : nullptr;
}

TEST(CredentialsTest, ChecksSha512AndYescrypt) {
  auto file = MustParse("alice:" + Sha512("secret") + "\nbob:" + Yescrypt("hunter2") + "\n");
  ASSERT_NE(file, nullptr);
  EXPECT_EQ(file->size(), 2u);
  EXPECT_TRUE(file->Check("alice", "secret").ok());
  EXPECT_TRUE(file->Check("bob", "hunter2").ok());
  EXPECT_EQ(file->Check("alice", "hunter2").code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(file->Check("bob", "").code(), absl::StatusCode::kUnauthenticated);
}

TEST(CredentialsTest, UnknownUserFailsEvenWithTheDecoysPassword) {
  auto file = MustParse("alice:" + Sha512("secret") + "\n");
  ASSERT_NE(file, nullptr);
  EXPECT_EQ(file->Check("mallory", "secret").code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(file->Check("ALICE", "secret").code(), absl::StatusCode::kUnauthenticated);
}

TEST(CredentialsTest, PasswordWithNulNeverMatches) {
  auto file = MustParse("alice:" + Sha512("secret") + "\n");
  ASSERT_NE(file, nullptr);
  EXPECT_FALSE(file->Check("alice", std::string_view("secret\0x", 8)).ok());
}

TEST(CredentialsTest, CommentsBlankLinesAndCrlf) {
  auto file = MustParse("# accounts\n\nalice:" + Sha512("secret") + "\r\n\n# end");
  ASSERT_NE(file, nullptr);
  EXPECT_TRUE(file->Check("alice", "secret").ok());
}

void ExpectError(const std::string& text, const std::string& expected) {
  auto file = CredentialsFile::Parse(text, "creds");
  ASSERT_FALSE(file.ok()) << text;
  EXPECT_EQ(file.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(file.status().message(), expected);
}

TEST(CredentialsTest, MissingColonNamesTheLine) {
  ExpectError("# x\nalice " + Sha512("a") + "\n", "creds:2: expected user:hash");
}

TEST(CredentialsTest, BadUserNames) {
  const std::string problem =
      "user must be 1 to 255 bytes without ':', spaces or control characters";
  ExpectError(":" + Sha512("a"), "creds:1: " + problem);
  ExpectError("al ice:" + Sha512("a"), "creds:1: " + problem);
  ExpectError(std::string(256, 'u') + ":" + Sha512("a"), "creds:1: " + problem);
}

TEST(CredentialsTest, WeakOrUnknownSchemesAreRefused) {
  ExpectError("alice:" + Hash("a", "$1$saltsalt$"),
              "creds:1: unsupported hash: use SHA-512 crypt ($6$) or yescrypt ($y$)");
  ExpectError("alice:plaintext", "creds:1: unsupported hash: use SHA-512 crypt ($6$) or yescrypt ($y$)");
}

TEST(CredentialsTest, MalformedHashes) {
  ExpectError("alice:$6$salt$", "creds:1: hash is incomplete (a salt without the hash part?)");
  ExpectError("alice:$6$abc", "creds:1: hash is incomplete (a salt without the hash part?)");
  ExpectError("alice:$6$salt$ab cd", "creds:1: hash holds characters crypt(3) never writes");
  ExpectError("alice:$6$" + std::string(400, 'a'), "creds:1: hash too long");
  ExpectError("alice:$y$!!$salt$hash", "creds:1: hash holds characters crypt(3) never writes");
}

TEST(CredentialsTest, DuplicateUser) {
  ExpectError("alice:" + Sha512("a") + "\nalice:" + Sha512("b") + "\n",
              "creds:2: user \"alice\" appears twice");
}

TEST(CredentialsTest, EmptyFileIsAnError) { ExpectError("# nobody\n", "creds: no users"); }

class CredentialsFileTest : public ::testing::Test {
 protected:
  std::string Write(const std::string& text, mode_t mode) {
    const char* tmp = std::getenv("TEST_TMPDIR");
    std::string path = std::string(tmp != nullptr ? tmp : "/tmp") + "/creds-" +
                       std::to_string(counter_++);
    std::ofstream(path) << text;
    EXPECT_EQ(chmod(path.c_str(), mode), 0);
    return path;
  }
  int counter_ = 0;
};

TEST_F(CredentialsFileTest, PrivateFileLoadsWithoutWarnings) {
  std::vector<std::string> warnings;
  auto file = CredentialsFile::Load(Write("alice:" + Sha512("secret") + "\n", 0600), &warnings);
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_TRUE(warnings.empty());
  EXPECT_TRUE((*file)->Check("alice", "secret").ok());
}

TEST_F(CredentialsFileTest, ReadableByOthersWarns) {
  std::vector<std::string> warnings;
  const std::string path = Write("alice:" + Sha512("secret") + "\n", 0644);
  ASSERT_TRUE(CredentialsFile::Load(path, &warnings).ok());
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_EQ(warnings[0], path + " is readable by group or others (mode 0644); it holds password "
                                "hashes: chmod 600 it");
}

TEST_F(CredentialsFileTest, ErrorsNameThePathAndLine) {
  std::vector<std::string> warnings;
  const std::string path = Write("alice:" + Sha512("a") + "\nbob\n", 0600);
  auto file = CredentialsFile::Load(path, &warnings);
  ASSERT_FALSE(file.ok());
  EXPECT_EQ(file.status().message(), path + ":2: expected user:hash");
}

TEST_F(CredentialsFileTest, MissingFileAndDirectory) {
  std::vector<std::string> warnings;
  auto missing = CredentialsFile::Load("/nonexistent/creds", &warnings);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("/nonexistent/creds"), std::string::npos);
  auto directory = CredentialsFile::Load("/", &warnings);
  ASSERT_FALSE(directory.ok());
  EXPECT_EQ(directory.status().message(), "/: not a regular file");
}

TEST_F(CredentialsFileTest, UnreadableFile) {
  if (geteuid() == 0) GTEST_SKIP() << "root reads every file";
  std::vector<std::string> warnings;
  auto file = CredentialsFile::Load(Write("alice:" + Sha512("a") + "\n", 0000), &warnings);
  ASSERT_FALSE(file.ok());
  EXPECT_EQ(file.status().code(), absl::StatusCode::kPermissionDenied);
}

}  // namespace
}  // namespace ringmta::server
