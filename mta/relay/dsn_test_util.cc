// Test helpers for DSNs (see dsn_test_util.h).
#include "mta/relay/dsn_test_util.h"

#include <string>
#include <string_view>
#include <utility>

#include "gtest/gtest.h"

namespace ringmta::relay::testing {

RequestFixture::RequestFixture() {
  request.envelope.sender = "alice@example.org";
  request.envelope.envid = "QQ314159";
  request.envelope.received_ms = 1'767'225'600'000;  // 2026-01-01 00:00:00 UTC
  request.envelope.client_helo = "client.example.org";
  request.envelope.client_address = "192.0.2.7";
  request.original.pieces = pieces;
  request.original.size_bytes = kOriginalMessage.size();
  request.reporting_mta = "relay.test";
  request.dsn_message_id = "dsn-0001";
  request.now_ms = 1'767'312'000'000;  // 2026-01-02 00:00:00 UTC
}

void RequestFixture::SetMessage(std::string_view message) {
  pieces = {message};
  request.original.pieces = pieces;
  request.original.size_bytes = message.size();
}

DsnRecipientReport& RequestFixture::AddRecipient(std::string address, DsnAction action,
                                                 uint8_t notify) {
  DsnRecipientReport report;
  report.final_recipient = std::move(address);
  report.action = action;
  report.notify = notify;
  report.last_attempt_ms = request.now_ms - 1000;
  if (action == DsnAction::kFailed) {
    report.status = {5, 1, 1};
    report.remote_mta = "mx.example.net";
    report.diagnostic = "550 5.1.1 <" + report.final_recipient + ">: no such user";
  } else if (action == DsnAction::kDelayed) {
    report.status = {4, 4, 1};
    report.diagnostic = "421 4.4.1 try again later";
    report.retry_until_ms = request.now_ms + 4 * 86'400'000LL;
  } else {
    report.status = {2, 0, 0};
    report.remote_mta = "mx.example.net";
    report.diagnostic = "250 2.0.0 queued as 12345";
  }
  request.recipients.push_back(std::move(report));
  return request.recipients.back();
}

std::string FieldValue(std::string_view headers, std::string_view name) {
  const std::vector<std::string> lines = CrlfLines(headers);
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string& line = lines[i];
    if (line.size() <= name.size() || line.compare(0, name.size(), name) != 0 ||
        line[name.size()] != ':') {
      continue;
    }
    std::string value = line.substr(name.size() + 1);
    // RFC 5322 §2.2.3 unfolding: drop each CRLF that precedes whitespace.
    while (i + 1 < lines.size() && !lines[i + 1].empty() &&
           (lines[i + 1][0] == ' ' || lines[i + 1][0] == '\t')) {
      value += lines[++i];
    }
    const size_t start = value.find_first_not_of(" \t");
    return start == std::string::npos ? "" : value.substr(start);
  }
  return "";
}

std::vector<std::string> CrlfLines(std::string_view text) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    const size_t end = text.find("\r\n", start);
    const std::string_view line =
        text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    EXPECT_EQ(line.find_first_of("\r\n"), std::string_view::npos) << "bare CR or LF: " << line;
    lines.emplace_back(line);
    if (end == std::string_view::npos) break;
    start = end + 2;
  }
  return lines;
}

SplitMessage Split(std::string_view message) {
  SplitMessage split;
  const size_t header_end = message.find("\r\n\r\n");
  EXPECT_NE(header_end, std::string_view::npos);
  split.headers = std::string(message.substr(0, header_end + 2));
  const std::string type = FieldValue(split.headers, "Content-Type");
  const size_t at = type.find("boundary=\"");
  EXPECT_NE(at, std::string::npos) << type;
  if (at == std::string::npos) return split;
  split.boundary = type.substr(at + 10, type.find('"', at + 10) - (at + 10));
  const std::string delimiter = "\r\n--" + split.boundary;
  std::string_view rest = message.substr(header_end + 2);
  for (const std::string& line : CrlfLines(rest)) {
    if (line.rfind("--" + split.boundary, 0) == 0) ++split.delimiter_lines;
  }
  size_t pos = rest.find(delimiter);
  while (pos != std::string_view::npos) {
    const size_t start = pos + delimiter.size();
    if (rest.substr(start, 2) == "--") break;  // the close delimiter
    const size_t next = rest.find(delimiter, start);
    std::string_view part = rest.substr(start + 2, next - start - 2);
    const size_t blank = part.find("\r\n\r\n");
    MimePart mime;
    mime.headers = std::string(part.substr(0, blank + 2));
    mime.body = std::string(part.substr(blank + 4));
    split.parts.push_back(std::move(mime));
    pos = next;
  }
  return split;
}

}  // namespace ringmta::relay::testing
