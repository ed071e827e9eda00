// Meaning of the ESMTP parameters on MAIL (SIZE, BODY, SMTPUTF8, RET, ENVID)
// and RCPT (NOTIFY, ORCPT): validated and stored on the envelope, or the
// exact reply that refuses them. Not here: syntax of the parameter list
// (command.h) or the session state that decides if MAIL is allowed at all.
#ifndef RINGMTA_MTA_SMTP_MAIL_PARAMS_H_
#define RINGMTA_MTA_SMTP_MAIL_PARAMS_H_

#include <cstdint>
#include <optional>

#include "absl/types/span.h"
#include "mta/smtp/command.h"
#include "mta/smtp/envelope.h"
#include "mta/smtp/reply.h"

namespace ringmta::smtp {

// What the server advertised, which decides what MAIL may carry.
struct MailParamLimits {
  uint64_t message_bytes_max = 0;  // SIZE= above it is refused
  bool auth_advertised = false;    // AUTH= is only valid with AUTH (RFC 4954 §5)
};

// Applies MAIL parameters to `envelope`. Returns the refusal, if any:
// 555 5.5.4 unknown or unadvertised parameter (RFC 5321 §4.1.1.11),
// 501 5.5.4 bad value or repeated parameter, 552 5.3.4 SIZE over
// `limits.message_bytes_max` (RFC 1870 §6).
std::optional<Reply> ApplyMailParams(absl::Span<const EsmtpParam> params,
                                     const MailParamLimits& limits, Envelope* envelope);

// Applies RCPT parameters (RFC 3461 §4.1, §4.2) to `recipient`.
std::optional<Reply> ApplyRcptParams(absl::Span<const EsmtpParam> params,
                                     Recipient* recipient);

// 1*20DIGIT, as in SIZE= (RFC 1870 §3) and BDAT (RFC 3030 §2). Saturates at
// UINT64_MAX instead of overflowing: that is over every limit anyway.
std::optional<uint64_t> ParseDecimal(std::string_view text);

// xtext (RFC 3461 §4): "+" followed by two upper-case hex digits, or any
// printable ASCII except "+" and "=".
bool IsXtext(std::string_view text);

}  // namespace ringmta::smtp

#endif  // RINGMTA_MTA_SMTP_MAIL_PARAMS_H_
