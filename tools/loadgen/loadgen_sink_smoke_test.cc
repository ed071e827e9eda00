// The two benchmark tools against each other as real processes on
// loopback: every message the load generator counts as accepted is one the
// sink counted, and refusals the sink chose come back in the right class.
// No timing is asserted.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"

extern char** environ;

namespace {

std::string Runfile(const std::string& path) {
  const char* root = std::getenv("TEST_SRCDIR");
  return std::string(root != nullptr ? root : ".") + "/ringmta/" + path;
}

std::string TempPath(const std::string& name) {
  const char* root = std::getenv("TEST_TMPDIR");
  return std::string(root != nullptr ? root : "/tmp") + "/" + name;
}

std::string ReadFile(const std::string& path) {
  std::ifstream file(path);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

// The number after "key": in a flat JSON object; -1 if absent.
int64_t JsonNumber(const std::string& json, const std::string& key) {
  const std::string needle = "\"" + key + "\":";
  const size_t at = json.find(needle);
  if (at == std::string::npos) return -1;
  return std::strtoll(json.c_str() + at + needle.size(), nullptr, 10);
}

pid_t Spawn(const std::vector<std::string>& arguments, int stdout_fd) {
  std::vector<char*> argv;
  for (const std::string& argument : arguments) argv.push_back(const_cast<char*>(argument.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (stdout_fd >= 0) posix_spawn_file_actions_adddup2(&actions, stdout_fd, STDOUT_FILENO);
  pid_t pid = -1;
  const int error = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  return error == 0 ? pid : -1;
}

int WaitExit(pid_t pid) {
  int status = 0;
  if (waitpid(pid, &status, 0) != pid) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

class SinkProcess {
 public:
  explicit SinkProcess(const std::string& name, std::vector<std::string> extra = {}) {
    port_file_ = TempPath(name + ".port");
    stats_file_ = TempPath(name + ".stats");
    std::remove(port_file_.c_str());
    std::remove(stats_file_.c_str());
    std::vector<std::string> arguments = {Runfile("tools/sink/sink"), "--quiet",
                                          "--port-file", port_file_, "--stats-file", stats_file_};
    arguments.insert(arguments.end(), extra.begin(), extra.end());
    pid_ = Spawn(arguments, -1);
  }
  ~SinkProcess() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  // The port once the sink has written it (it does so after listening);
  // empty if the sink died first.
  std::string WaitForPort() {
    for (;;) {
      std::string port = ReadFile(port_file_);
      if (!port.empty() && port.back() == '\n') return port.substr(0, port.size() - 1);
      if (pid_ <= 0 || waitpid(pid_, nullptr, WNOHANG) == pid_) {
        pid_ = -1;
        return "";
      }
      usleep(10'000);
    }
  }
  // Stops the sink (SIGTERM) and returns its final counts.
  std::string Stop() {
    kill(pid_, SIGTERM);
    const int exit_code = WaitExit(pid_);
    pid_ = -1;
    EXPECT_EQ(exit_code, 0);
    return ReadFile(stats_file_);
  }

 private:
  std::string port_file_;
  std::string stats_file_;
  pid_t pid_ = -1;
};

// Runs the load generator to the end; returns its JSON report.
std::string RunLoadgen(const std::string& port, std::vector<std::string> extra) {
  const std::string output = TempPath("loadgen.json");
  const int fd = open(output.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  std::vector<std::string> arguments = {Runfile("tools/loadgen/loadgen"), "--json", "--server",
                                        "127.0.0.1:" + port};
  arguments.insert(arguments.end(), extra.begin(), extra.end());
  const pid_t pid = Spawn(arguments, fd);
  close(fd);
  EXPECT_GT(pid, 0);
  EXPECT_EQ(WaitExit(pid), 0);
  return ReadFile(output);
}

TEST(LoadgenSinkSmokeTest, EveryAcceptedMessageReachedTheSink) {
  SinkProcess sink("plain");
  const std::string port = sink.WaitForPort();
  ASSERT_FALSE(port.empty()) << "sink did not start";
  const std::string report =
      RunLoadgen(port, {"--sessions", "8", "--messages", "400", "--per-connection", "25"});
  const std::string counts = sink.Stop();
  ASSERT_EQ(JsonNumber(report, "attempted"), 400) << report;
  EXPECT_EQ(JsonNumber(report, "accepted"), 400) << report;
  EXPECT_EQ(JsonNumber(report, "io_errors"), 0) << report;
  EXPECT_EQ(JsonNumber(counts, "messages"), JsonNumber(report, "accepted")) << counts;
  EXPECT_EQ(JsonNumber(counts, "recipients"), 400) << counts;
  EXPECT_EQ(JsonNumber(counts, "sessions"), JsonNumber(report, "connections")) << counts;
  // Sessions share the 400 messages unevenly, so besides the 400 / 25 full
  // connections each session may end with one partial connection.
  EXPECT_GE(JsonNumber(report, "connections"), 16) << report;
  EXPECT_LE(JsonNumber(report, "connections"), 16 + 8) << report;
  // The sink counts decoded bytes; every message is exactly --size (1 KiB).
  EXPECT_EQ(JsonNumber(counts, "bytes"), 400 * 1024) << counts;
  EXPECT_EQ(JsonNumber(report, "accepted_bytes"), 400 * 1024) << report;
  EXPECT_EQ(JsonNumber(report, "count"), 400) << report;  // latency samples
}

TEST(LoadgenSinkSmokeTest, BdatLargeMessagesArriveWhole) {
  SinkProcess sink("bdat");
  const std::string port = sink.WaitForPort();
  ASSERT_FALSE(port.empty()) << "sink did not start";
  const std::string report =
      RunLoadgen(port, {"--sessions", "3", "--messages", "30", "--size", "100K", "--bdat"});
  const std::string counts = sink.Stop();
  EXPECT_EQ(JsonNumber(report, "accepted"), 30) << report;
  EXPECT_EQ(JsonNumber(counts, "messages"), 30) << counts;
  EXPECT_EQ(JsonNumber(counts, "bytes"), 30 * 100 * 1024) << counts;
}

TEST(LoadgenSinkSmokeTest, RefusalsComeBackInTheirClass) {
  SinkProcess sink("mix", {"--seed", "7", "--rcpt-permfail-percent", "10",
                           "--message-tempfail-percent", "20", "--message-permfail-percent",
                           "5"});
  const std::string port = sink.WaitForPort();
  ASSERT_FALSE(port.empty()) << "sink did not start";
  const std::string report = RunLoadgen(port, {"--sessions", "4", "--messages", "300"});
  const std::string counts = sink.Stop();
  EXPECT_EQ(JsonNumber(report, "attempted"), 300) << report;
  EXPECT_EQ(JsonNumber(report, "io_errors"), 0) << report;
  EXPECT_EQ(JsonNumber(counts, "messages"), JsonNumber(report, "accepted")) << counts;
  // One recipient per message: a refused recipient refuses the message.
  EXPECT_EQ(JsonNumber(report, "permanent"),
            JsonNumber(counts, "rcpt_permfail") + JsonNumber(counts, "message_permfail"));
  EXPECT_EQ(JsonNumber(report, "transient"), JsonNumber(counts, "message_tempfail"));
  EXPECT_EQ(JsonNumber(report, "rcpt_permanent"), JsonNumber(counts, "rcpt_permfail"));
  // With these shares 300 messages cannot plausibly avoid every kind.
  EXPECT_GT(JsonNumber(counts, "rcpt_permfail"), 0) << counts;
  EXPECT_GT(JsonNumber(counts, "message_tempfail"), 0) << counts;
  EXPECT_GT(JsonNumber(report, "accepted"), 0) << report;
}

TEST(LoadgenSinkSmokeTest, ServerThatIsGoneIsCountedAsErrors) {
  // A port nothing listens on: bind one, learn it, close it.
  SinkProcess sink("gone");
  const std::string port = sink.WaitForPort();
  ASSERT_FALSE(port.empty());
  sink.Stop();
  const std::string report = RunLoadgen(port, {"--messages", "5", "--timeout-ms", "2000"});
  EXPECT_EQ(JsonNumber(report, "attempted"), 5) << report;
  EXPECT_EQ(JsonNumber(report, "io_errors"), 5) << report;
  EXPECT_EQ(JsonNumber(report, "accepted"), 0) << report;
}

TEST(LoadgenSinkSmokeTest, TarpitDelaysShowInTheAckLatency) {
  SinkProcess sink("tarpit", {"--greeting-delay-ms", "30", "--reply-delay-ms", "30"});
  const std::string port = sink.WaitForPort();
  ASSERT_FALSE(port.empty()) << "sink did not start";
  const std::string report = RunLoadgen(port, {"--messages", "10"});
  const std::string counts = sink.Stop();
  EXPECT_EQ(JsonNumber(report, "accepted"), 10) << report;
  EXPECT_EQ(JsonNumber(counts, "messages"), 10) << counts;
  // A lower bound only (a slow machine makes it larger, never smaller);
  // a little slack for the 1 ms timer tick.
  EXPECT_GE(JsonNumber(report, "p50"), 28) << report;
}

// Reads one whole SMTP reply (through the line "NNN text") from `fd`.
std::string ReadReply(int fd) {
  std::string text;
  char buffer[1024];
  for (;;) {
    const size_t line_start = text.rfind("\r\n", text.size() >= 2 ? text.size() - 3 : 0);
    const size_t last = line_start == std::string::npos ? 0 : line_start + 2;
    if (text.size() >= last + 4 && text.compare(text.size() - 2, 2, "\r\n") == 0 &&
        text[last + 3] == ' ') {
      return text;
    }
    const ssize_t got = read(fd, buffer, sizeof(buffer));
    if (got <= 0) return text;
    text.append(buffer, static_cast<size_t>(got));
  }
}

std::string EhloReply(const std::string& port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(std::stoi(port)));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string reply;
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0) {
    ReadReply(fd);  // 220
    const std::string ehlo = "EHLO client.test\r\n";
    if (write(fd, ehlo.data(), ehlo.size()) == static_cast<ssize_t>(ehlo.size())) {
      reply = ReadReply(fd);
    }
  }
  close(fd);
  return reply;
}

// A throwaway self-signed certificate and key; false if openssl could not.
bool MakeCertificate(const std::string& cert, const std::string& key) {
  const pid_t openssl = Spawn({"/usr/bin/openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                               "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out",
                               cert, "-days", "1", "-subj", "/CN=sink.test"},
                              -1);
  return openssl > 0 && WaitExit(openssl) == 0;
}

TEST(LoadgenSinkSmokeTest, OffersStartTlsOnlyWithACertificate) {
  const std::string cert = TempPath("sink-cert.pem");
  const std::string key = TempPath("sink-key.pem");
  if (!MakeCertificate(cert, key)) GTEST_SKIP() << "openssl cannot make a certificate";
  {
    SinkProcess sink("tls", {"--tls-cert", cert, "--tls-key", key});
    const std::string port = sink.WaitForPort();
    ASSERT_FALSE(port.empty()) << "sink did not start with a certificate";
    EXPECT_NE(EhloReply(port).find("STARTTLS"), std::string::npos);
    sink.Stop();
  }
  SinkProcess plain("no-tls");
  const std::string port = plain.WaitForPort();
  ASSERT_FALSE(port.empty());
  const std::string reply = EhloReply(port);
  EXPECT_NE(reply.find("PIPELINING"), std::string::npos) << reply;
  EXPECT_EQ(reply.find("STARTTLS"), std::string::npos) << reply;
  plain.Stop();
}

TEST(LoadgenSinkSmokeTest, StartTlsCarriesEveryMessageUnderTls) {
  const std::string cert = TempPath("starttls-cert.pem");
  const std::string key = TempPath("starttls-key.pem");
  if (!MakeCertificate(cert, key)) GTEST_SKIP() << "openssl cannot make a certificate";
  SinkProcess sink("starttls", {"--tls-cert", cert, "--tls-key", key});
  const std::string port = sink.WaitForPort();
  ASSERT_FALSE(port.empty()) << "sink did not start with a certificate";
  // 10K messages span records; 100K ones span many (and the session's
  // output bound), so both the small and the looping paths run.
  const std::string small = RunLoadgen(
      port, {"--starttls", "--sessions", "4", "--messages", "120", "--per-connection", "10",
             "--size", "10K"});
  const std::string large =
      RunLoadgen(port, {"--starttls", "--sessions", "2", "--messages", "10", "--size", "100K"});
  const std::string counts = sink.Stop();
  EXPECT_EQ(JsonNumber(small, "accepted"), 120) << small;
  EXPECT_EQ(JsonNumber(small, "io_errors"), 0) << small;
  EXPECT_EQ(JsonNumber(small, "tls_failures"), 0) << small;
  // One full handshake per connection: resumption was not asked for.
  EXPECT_EQ(JsonNumber(small, "tls_handshakes"), JsonNumber(small, "connections")) << small;
  EXPECT_EQ(JsonNumber(small, "tls_resumed"), 0) << small;
  EXPECT_EQ(JsonNumber(large, "accepted"), 10) << large;
  EXPECT_EQ(JsonNumber(large, "tls_handshakes"), JsonNumber(large, "connections")) << large;
  // The sink saw every message, whole, and every one under TLS.
  EXPECT_EQ(JsonNumber(counts, "messages"), 130) << counts;
  EXPECT_EQ(JsonNumber(counts, "tls_messages"), 130) << counts;
  EXPECT_EQ(JsonNumber(counts, "bytes"), 120 * 10 * 1024 + 10 * 100 * 1024) << counts;
}

TEST(LoadgenSinkSmokeTest, HandshakeOnlyCountsCompletedHandshakes) {
  const std::string cert = TempPath("handshake-cert.pem");
  const std::string key = TempPath("handshake-key.pem");
  if (!MakeCertificate(cert, key)) GTEST_SKIP() << "openssl cannot make a certificate";
  SinkProcess sink("handshake", {"--tls-cert", cert, "--tls-key", key});
  const std::string port = sink.WaitForPort();
  ASSERT_FALSE(port.empty()) << "sink did not start with a certificate";
  const std::string report =
      RunLoadgen(port, {"--handshake-only", "--sessions", "3", "--messages", "40"});
  const std::string counts = sink.Stop();
  EXPECT_EQ(JsonNumber(report, "attempted"), 40) << report;
  EXPECT_EQ(JsonNumber(report, "tls_handshakes"), 40) << report;
  EXPECT_EQ(JsonNumber(report, "tls_resumed"), 0) << report;
  EXPECT_EQ(JsonNumber(report, "io_errors"), 0) << report;
  EXPECT_EQ(JsonNumber(counts, "sessions"), 40) << counts;
  EXPECT_EQ(JsonNumber(counts, "messages"), 0) << counts;  // no mail in this mode
}

TEST(LoadgenSinkSmokeTest, StartTlsNeverFallsBackToCleartext) {
  SinkProcess sink("no-starttls");  // no certificate: STARTTLS not offered
  const std::string port = sink.WaitForPort();
  ASSERT_FALSE(port.empty());
  const std::string report =
      RunLoadgen(port, {"--starttls", "--messages", "5", "--timeout-ms", "5000"});
  const std::string counts = sink.Stop();
  EXPECT_EQ(JsonNumber(report, "attempted"), 5) << report;
  EXPECT_EQ(JsonNumber(report, "accepted"), 0) << report;
  EXPECT_EQ(JsonNumber(report, "io_errors"), 5) << report;
  EXPECT_EQ(JsonNumber(report, "tls_failures"), 5) << report;
  EXPECT_EQ(JsonNumber(counts, "messages"), 0) << counts;
}

TEST(LoadgenSinkSmokeTest, UnreadableCertificateStopsTheSink) {
  const pid_t sink = Spawn({Runfile("tools/sink/sink"), "--tls-cert", "/nonexistent/cert.pem",
                            "--tls-key", "/nonexistent/key.pem"},
                           -1);
  EXPECT_EQ(WaitExit(sink), 2);
}

TEST(LoadgenSinkSmokeTest, BadFlagsAreRefusedWithExitCode2) {
  const pid_t loadgen = Spawn({Runfile("tools/loadgen/loadgen"), "--size", "0"}, -1);
  EXPECT_EQ(WaitExit(loadgen), 2);
  const pid_t resume = Spawn({Runfile("tools/loadgen/loadgen"), "--tls-resume"}, -1);
  EXPECT_EQ(WaitExit(resume), 2);
  const pid_t sink = Spawn({Runfile("tools/sink/sink"), "--rcpt-tempfail-percent", "101"}, -1);
  EXPECT_EQ(WaitExit(sink), 2);
}

}  // namespace
