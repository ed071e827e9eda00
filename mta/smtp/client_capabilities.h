// What a server offers in its EHLO reply (RFC 5321 §4.1.1.1): the extensions
// the client uses and their parameters. Not here: deciding what to use (the
// client protocol and its config do) or anything from before EHLO.
#ifndef RINGMTA_MTA_SMTP_CLIENT_CAPABILITIES_H_
#define RINGMTA_MTA_SMTP_CLIENT_CAPABILITIES_H_

#include <cstdint>

#include "mta/smtp/reply_parser.h"

namespace ringmta::smtp {

struct ServerCapabilities {
  bool esmtp = false;          // EHLO succeeded (false after a HELO fallback)
  bool pipelining = false;     // RFC 2920
  bool size = false;           // RFC 1870
  uint64_t size_max = 0;       // SIZE's parameter; 0 = no fixed limit (§4)
  bool eightbitmime = false;   // RFC 6152
  bool smtputf8 = false;       // RFC 6531
  bool chunking = false;       // RFC 3030 (BDAT)
  bool dsn = false;            // RFC 3461
  bool starttls = false;       // RFC 3207
  bool enhanced_status_codes = false;  // RFC 2034
  bool auth_plain = false;     // RFC 4954 with RFC 4616
  bool auth_login = false;     // RFC 4954 with the de-facto LOGIN mechanism
};

// Reads the lines after the first of a 250 EHLO reply. Keywords and
// mechanisms are case-insensitive (§2.4). Unknown keywords are ignored; a
// malformed SIZE parameter counts as "no fixed limit" rather than failing the
// host, since SIZE only lets us refuse early what the server would refuse.
// Both "AUTH PLAIN LOGIN" and the pre-standard "AUTH=PLAIN LOGIN" are read.
ServerCapabilities ParseEhloReply(const ServerReply& reply);

}  // namespace ringmta::smtp

#endif  // RINGMTA_MTA_SMTP_CLIENT_CAPABILITIES_H_
