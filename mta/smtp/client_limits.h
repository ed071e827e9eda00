// Bounds the SMTP client core enforces on what servers send it and on what it
// keeps in flight, each with its reason: a relay talks to servers it does not
// control (DESIGN §3). Not here: server-side bounds (smtp_limits.h).
#ifndef RINGMTA_MTA_SMTP_CLIENT_LIMITS_H_
#define RINGMTA_MTA_SMTP_CLIENT_LIMITS_H_

#include <cstddef>

#include "mta/base/limits.h"
#include "mta/smtp/smtp_limits.h"

namespace ringmta::smtp::limits {

// One reply line including CRLF. RFC 5321 §4.5.3.1.5 says 512, but real
// servers send longer policy texts (URLs, ticket ids); Postfix's client reads
// up to 2048 for the same reason. Longer is a protocol error, not truncation.
inline constexpr size_t kClientReplyLineBytesMax = 2048;
// Lines in one multi-line reply: an EHLO reply has about a dozen, a policy
// rejection a few; 100 leaves room and bounds the work per reply.
inline constexpr size_t kClientReplyLinesMax = 100;
// Bytes of one whole reply (all lines with CRLFs): what we hold per reply.
inline constexpr size_t kClientReplyBytesMax = 16 * 1024;
// BDAT chunks sent whose replies have not arrived (with PIPELINING; without it
// this is 1). Bounds the expected-reply queue and what a slow server can make
// us send ahead of its answers (RFC 3030 §4.2).
inline constexpr size_t kClientBdatChunksInFlightMax = 8;
// AUTH user name and password: RFC 4954 §4 lets the AUTH line reach 12288
// octets; 255 each keeps "AUTH PLAIN <base64>" well inside it.
inline constexpr size_t kClientCredentialBytesMax = 255;

static_assert(kClientReplyLineBytesMax >= kReplyLineBytesMax,
              "we must accept every reply line the RFC allows");
static_assert(kClientReplyBytesMax >= 4 * kClientReplyLineBytesMax,
              "a reply of several maximal lines fits");
static_assert(kClientReplyBytesMax <= kClientReplyLinesMax * kClientReplyLineBytesMax,
              "the byte bound is the binding one for long replies");
static_assert(4 * ((2 * kClientCredentialBytesMax + 2 + 2) / 3) + 16 < 12288,
              "AUTH PLAIN with an initial response fits RFC 4954 §4's line bound");

}  // namespace ringmta::smtp::limits

#endif  // RINGMTA_MTA_SMTP_CLIENT_LIMITS_H_
