// Bounds the SMTP protocol core enforces beyond those in mta/base/limits.h,
// each with its reason. Candidates to move into limits.h once reviewed.
// Not here: bounds shared with other packages (those live in mta/base/limits.h).
#ifndef RINGMTA_MTA_SMTP_SMTP_LIMITS_H_
#define RINGMTA_MTA_SMTP_SMTP_LIMITS_H_

#include <cstddef>

#include "mta/base/limits.h"

namespace ringmta::smtp::limits {

// Local part of a mailbox: RFC 5321 §4.5.3.1.1.
inline constexpr size_t kLocalPartBytesMax = 64;
// Domain: RFC 5321 §4.5.3.1.2.
inline constexpr size_t kDomainBytesMax = 255;
// One DNS label: RFC 1035 §2.3.4.
inline constexpr size_t kDomainLabelBytesMax = 63;
// Reverse- or forward-path including "<", ">" and any source route: §4.5.3.1.3.
inline constexpr size_t kPathBytesMax = 256;
// ESMTP parameters on one MAIL or RCPT: we know six, so 16 bounds parsing work
// per command while leaving room for extensions a client might try.
inline constexpr size_t kEsmtpParamsMax = 16;
// ENVID: RFC 3461 §4.4 caps it at 100 characters.
inline constexpr size_t kEnvidBytesMax = 100;
// ORCPT: RFC 3461 §4.2 caps it at 500 characters.
inline constexpr size_t kOrcptBytesMax = 500;
// Digits of a SIZE or BDAT size: 20 digits hold any uint64; more is junk.
inline constexpr size_t kSizeDigitsMax = 20;
// One reply line including CRLF: RFC 5321 §4.5.3.1.5.
inline constexpr size_t kReplyLineBytesMax = 512;
// HELO/EHLO argument kept for the Received: header; a domain or address
// literal is never longer than a domain.
inline constexpr size_t kHeloBytesMax = kDomainBytesMax;
// Mail transactions (accepted MAIL commands) per connection: one connection
// may carry many messages (RFC 5321 §3.3), and bulk senders rely on that
// (smtp-source -d treats a 421 as fatal). Per-message state is reset each
// time, so the bound is about balance: a client that reconnects now and
// then lands on another shard. 100,000 is minutes of traffic at full speed.
inline constexpr int kTransactionsPerConnectionMax = 100'000;
// Replies queued before Feed stops consuming input, so a peer that pipelines
// commands without reading our replies cannot grow our output buffer.
inline constexpr size_t kServerOutputBytesMax = 64 * 1024;

static_assert(kLocalPartBytesMax + 1 + kDomainBytesMax + 2 > kPathBytesMax,
              "the path bound is the binding one for long mailboxes");
static_assert(kPathBytesMax < ringmta::limits::kSmtpCommandLineBytesMax,
              "a maximal path fits in one command line");

}  // namespace ringmta::smtp::limits

#endif  // RINGMTA_MTA_SMTP_SMTP_LIMITS_H_
