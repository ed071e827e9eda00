// The Received: trace header the relay prepends to every message it accepts
// (RFC 5321 §4.4, with the WITH protocol types of RFC 3848). Pure: the
// caller supplies the time and names. Not here: other header rewriting.
#ifndef RINGMTA_MTA_SERVER_RECEIVED_HEADER_H_
#define RINGMTA_MTA_SERVER_RECEIVED_HEADER_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "mta/smtp/envelope.h"

namespace ringmta::server {

struct ReceivedContext {
  std::string_view server_host;  // our name (the "by" clause)
  std::string_view queue_id;     // our message id, for tracing across logs
  int64_t wall_ms = 0;           // when the message was received
  bool authenticated = false;    // ESMTPA / ESMTPSA
};

// Returns the folded header, ending in CRLF. Client-supplied text (HELO)
// is reduced to printable atoms so it can never break the header.
std::string FormatReceivedHeader(const smtp::Envelope& envelope, const ReceivedContext& context);

}  // namespace ringmta::server

#endif  // RINGMTA_MTA_SERVER_RECEIVED_HEADER_H_
