// dsn_sample: prints the DSN of one fixed scenario on stdout, so a test can
// check our output with a MIME parser we did not write (Python's email).
// Usage: dsn_sample --list | dsn_sample SCENARIO. Not a tool for operators.
#include <cstdio>
#include <cstring>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mta/relay/dsn.h"

namespace ringmta::relay {
namespace {

constexpr std::string_view kMessage =
    "From: Alice <alice@example.org>\r\n"
    "To: Bob <bob@example.net>\r\n"
    "Subject: Quarterly figures\r\n"
    "Message-ID: <orig-1@example.org>\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: text/plain; charset=us-ascii\r\n"
    "\r\n"
    "Hello Bob,\r\n"
    "the figures are attached.\r\n";

constexpr std::string_view kUtf8Message =
    "From: =?utf-8?q?J=C3=B6rg?= <j\xC3\xB6rg@b\xC3\xBC" "cher.example>\r\n"
    "To: <ma\xC3\xAFt\xC3\xA9@example.fr>\r\n"
    "Subject: Quarterly figures\r\n"
    "\r\n"
    "Gr\xC3\xBC\xC3\x9F" "e\r\n";

struct Scenario {
  DsnRequest request;
  DsnOptions options;
  std::vector<std::string_view> pieces{kMessage};
};

DsnRecipientReport Recipient(std::string address, DsnAction action, uint8_t notify) {
  DsnRecipientReport report;
  report.final_recipient = std::move(address);
  report.action = action;
  report.notify = notify;
  report.last_attempt_ms = 1'767'312'000'000;
  report.remote_mta = "mx.example.net";
  if (action == DsnAction::kFailed) {
    report.status = {5, 1, 1};
    report.diagnostic = "550 5.1.1 <" + report.final_recipient + ">: mailbox unknown";
  } else if (action == DsnAction::kDelayed) {
    report.status = {4, 4, 1};
    report.diagnostic = "451 4.4.1 greylisted, come back later";
    report.retry_until_ms = 1'767'657'600'000;
  } else {
    report.status = {2, 0, 0};
    report.diagnostic = "250 2.0.0 Ok: queued";
  }
  return report;
}

Scenario Base() {
  Scenario s;
  s.request.envelope.sender = "alice@example.org";
  s.request.envelope.envid = "QQ314159";
  s.request.envelope.received_ms = 1'767'225'600'000;
  s.request.envelope.client_helo = "client.example.org";
  s.request.envelope.client_address = "192.0.2.7";
  s.request.reporting_mta = "relay.test";
  s.request.dsn_message_id = "dsn-sample";
  s.request.now_ms = 1'767'312'000'000;
  return s;
}

// Each scenario names what the Python test expects of it.
const std::vector<std::pair<std::string_view, std::function<void(Scenario&)>>>& Scenarios() {
  static const auto* scenarios =
      new std::vector<std::pair<std::string_view, std::function<void(Scenario&)>>>{
          {"failed_headers",
           [](Scenario& s) {
             s.request.envelope.ret = DsnRet::kHeaders;
             auto r = Recipient("bob@example.net", DsnAction::kFailed, 0);
             r.orcpt = "rfc822;bob+2Bfigures@example.net";
             s.request.recipients.push_back(r);
           }},
          {"failed_full",
           [](Scenario& s) {
             s.request.envelope.ret = DsnRet::kFull;
             s.request.recipients.push_back(Recipient("bob@example.net", DsnAction::kFailed, 0));
           }},
          {"full_over_cap",
           [](Scenario& s) {
             s.request.envelope.ret = DsnRet::kFull;
             s.options.full_return_bytes_max = 64;
             s.request.recipients.push_back(Recipient("bob@example.net", DsnAction::kFailed, 0));
           }},
          {"delayed",
           [](Scenario& s) {
             s.request.recipients.push_back(
                 Recipient("bob@example.net", DsnAction::kDelayed, kDsnNotifyDelay));
           }},
          {"delivered",
           [](Scenario& s) {
             s.request.recipients.push_back(
                 Recipient("bob@example.net", DsnAction::kDelivered, kDsnNotifySuccess));
           }},
          {"mixed",
           [](Scenario& s) {
             const uint8_t all = kDsnNotifyFailure | kDsnNotifyDelay | kDsnNotifySuccess;
             s.request.recipients.push_back(Recipient("one@example.net", DsnAction::kFailed, all));
             s.request.recipients.push_back(
                 Recipient("two@example.net", DsnAction::kDelayed, all));
             s.request.recipients.push_back(
                 Recipient("three@example.net", DsnAction::kDelivered, all));
             s.request.recipients.push_back(
                 Recipient("never@example.net", DsnAction::kFailed, kDsnNotifyNever));
           }},
          {"hostile",
           [](Scenario& s) {
             auto r = Recipient("bob@example.net", DsnAction::kFailed, 0);
             r.diagnostic =
                 "550 bad\r\n--=_rm_boundary\r\nContent-Type: text/html\r\n\r\n<b>hi</b>\r\n"
                 "Action: delivered\r\nStatus: 2.0.0";
             s.request.recipients.push_back(r);
           }},
          {"smtputf8",
           [](Scenario& s) {
             s.pieces = {kUtf8Message};
             s.request.envelope.smtputf8 = true;
             s.request.envelope.sender = "j\xC3\xB6rg@b\xC3\xBC" "cher.example";
             s.request.recipients.push_back(
                 Recipient("ma\xC3\xAFt\xC3\xA9@example.fr", DsnAction::kFailed, 0));
           }},
      };
  return *scenarios;
}

}  // namespace
}  // namespace ringmta::relay

int main(int argc, char** argv) {
  using namespace ringmta::relay;
  if (argc != 2) {
    std::fprintf(stderr, "usage: dsn_sample --list | dsn_sample SCENARIO\n");
    return 2;
  }
  for (const auto& [name, build] : Scenarios()) {
    if (std::strcmp(argv[1], "--list") == 0) {
      std::printf("%.*s\n", static_cast<int>(name.size()), name.data());
      continue;
    }
    if (name != argv[1]) continue;
    Scenario scenario = Base();
    build(scenario);
    scenario.request.original.pieces = scenario.pieces;
    for (std::string_view piece : scenario.pieces) {
      scenario.request.original.size_bytes += piece.size();
    }
    const std::optional<GeneratedDsn> dsn = GenerateDsn(scenario.request, scenario.options);
    if (!dsn.has_value()) return 1;
    std::fwrite(dsn->message.data(), 1, dsn->message.size(), stdout);
    return 0;
  }
  if (std::strcmp(argv[1], "--list") == 0) return 0;
  std::fprintf(stderr, "dsn_sample: unknown scenario %s\n", argv[1]);
  return 2;
}
