// The commands the SMTP client sends, formatted from our own data: MAIL and
// RCPT with the ESMTP parameters the server offers, AUTH responses, and the
// checks that keep a message from going out broken. Not here: when to send
// them (client_protocol) or peer input of any kind.
#ifndef RINGMTA_MTA_SMTP_CLIENT_COMMANDS_H_
#define RINGMTA_MTA_SMTP_CLIENT_COMMANDS_H_

#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "mta/smtp/client_capabilities.h"
#include "mta/smtp/client_message.h"
#include "mta/smtp/reply_parser.h"

namespace ringmta::smtp {

// Whether `message` can be put on the wire without injecting a command: no
// CR, LF, NUL or other control character in the paths, xtext (RFC 3461 §4)
// for ENVID and ORCPT, 1..kSmtpRecipientsMax recipients, known NOTIFY bits.
// The queue validates records when it reads them, so StartMessage CHECKs it.
absl::Status ValidateOutboundMessage(const OutboundMessage& message);

// True if the message needs SMTPUTF8: it says so, or an address is not ASCII.
bool NeedsSmtpUtf8(const OutboundMessage& message);

// The reply that refuses `message` before MAIL is sent, if this server
// cannot take it intact: SMTPUTF8 needed but not offered (RFC 6531 §3.2,
// 553 5.6.7 for addresses, 554 5.6.9 for content), 8-bit body without
// 8BITMIME (we do not downgrade; RFC 6152 §3, 554 5.6.3), or over the
// server's SIZE (RFC 1870 §6, 552 5.3.4). All permanent: no retry helps.
std::optional<ServerReply> RefuseBeforeSending(const OutboundMessage& message,
                                               const ServerCapabilities& caps);

// "MAIL FROM:<path> [SIZE=n] [BODY=8BITMIME] [SMTPUTF8] [RET=..] [ENVID=..]\r\n",
// each parameter only when the server offers its extension.
void AppendMailFrom(const OutboundMessage& message, const ServerCapabilities& caps,
                    std::string* out);

// "RCPT TO:<path> [NOTIFY=..] [ORCPT=..]\r\n"; DSN parameters only with DSN.
void AppendRcptTo(const Recipient& recipient, const ServerCapabilities& caps, std::string* out);

// "AUTH PLAIN <base64(\0user\0password)>\r\n" (RFC 4954 §4, RFC 4616 §2).
void AppendAuthPlain(std::string_view user, std::string_view password, std::string* out);

// One base64 line answering a 334 challenge (AUTH LOGIN), with CRLF.
void AppendBase64Line(std::string_view text, std::string* out);

}  // namespace ringmta::smtp

#endif  // RINGMTA_MTA_SMTP_CLIENT_COMMANDS_H_
