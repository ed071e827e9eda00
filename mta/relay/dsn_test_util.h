// Test helpers for DSNs: a request with one recipient to start from, and a
// deliberately small MIME splitter to look inside the generated message.
// Not a MIME parser: the Python test checks the result with a real one.
#ifndef RINGMTA_MTA_RELAY_DSN_TEST_UTIL_H_
#define RINGMTA_MTA_RELAY_DSN_TEST_UTIL_H_

#include <string>
#include <string_view>
#include <vector>

#include "mta/relay/dsn.h"

namespace ringmta::relay::testing {

inline constexpr std::string_view kOriginalMessage =
    "From: Alice <alice@example.org>\r\n"
    "To: bob@example.net\r\n"
    "Subject: Quarterly figures\r\n"
    "Message-ID: <orig-1@example.org>\r\n"
    "\r\n"
    "Hello Bob,\r\n"
    "the figures are attached.\r\n";

// Holds the views the request's DsnOriginalMessage points into.
struct RequestFixture {
  std::vector<std::string_view> pieces{kOriginalMessage};
  DsnRequest request;

  RequestFixture();
  void SetMessage(std::string_view message);
  DsnRecipientReport& AddRecipient(std::string address, DsnAction action, uint8_t notify);
};

struct MimePart {
  std::string headers;  // raw field lines, CRLF
  std::string body;
};

struct SplitMessage {
  std::string headers;
  std::string boundary;
  std::vector<MimePart> parts;
  int delimiter_lines = 0;  // lines that start with "--" + boundary
};

// Splits a multipart message at its boundary (RFC 2046 §5.1.1).
SplitMessage Split(std::string_view message);

// The unfolded value of the first field `name` in `headers`, or "".
std::string FieldValue(std::string_view headers, std::string_view name);

// Every line of `text`, without its CRLF; a bare CR or LF fails the test.
std::vector<std::string> CrlfLines(std::string_view text);

}  // namespace ringmta::relay::testing

#endif  // RINGMTA_MTA_RELAY_DSN_TEST_UTIL_H_
