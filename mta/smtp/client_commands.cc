// MAIL/RCPT/AUTH formatting and the pre-send checks. Everything formatted
// here comes from the queue, which validated it; ValidateOutboundMessage
// re-checks what could inject a command if it were ever wrong.
#include "mta/smtp/client_commands.h"

#include "absl/strings/escaping.h"
#include "mta/base/limits.h"
#include "mta/smtp/mail_params.h"
#include "mta/smtp/smtp_limits.h"
#include "mta/smtp/utf8.h"

namespace ringmta::smtp {
namespace {

// Anything below SP, and DEL: CR or LF would end the command early.
bool HasControl(std::string_view text) {
  for (const char c : text) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) return true;
  }
  return false;
}

bool IsValidPath(std::string_view mailbox) {
  return mailbox.size() + 2 <= limits::kPathBytesMax && !HasControl(mailbox);
}

// addr-type ";" xtext (RFC 3461 §4.2); "utf-8" addresses (RFC 6533) may carry
// UTF-8, so only spaces and controls are refused here.
bool IsValidOrcpt(std::string_view orcpt) {
  const size_t semicolon = orcpt.find(';');
  if (orcpt.size() > limits::kOrcptBytesMax || semicolon == 0 ||
      semicolon == std::string_view::npos) {
    return false;
  }
  return orcpt.find(' ') == std::string_view::npos && !HasControl(orcpt);
}

bool IsValidNotify(uint8_t notify) {
  constexpr uint8_t kAll = kNotifyNever | kNotifySuccess | kNotifyFailure | kNotifyDelay;
  if ((notify & ~kAll) != 0) return false;
  return !(notify & kNotifyNever) || notify == kNotifyNever;  // NEVER stands alone (§4.1)
}

void AppendNotify(uint8_t notify, std::string* out) {
  if (notify & kNotifyNever) {
    out->append(" NOTIFY=NEVER");
    return;
  }
  const char* separator = " NOTIFY=";
  for (const auto& [bit, name] : {std::pair{kNotifySuccess, "SUCCESS"},
                                  std::pair{kNotifyFailure, "FAILURE"},
                                  std::pair{kNotifyDelay, "DELAY"}}) {
    if (!(notify & bit)) continue;
    out->append(separator);
    out->append(name);
    separator = ",";
  }
}

}  // namespace

absl::Status ValidateOutboundMessage(const OutboundMessage& message) {
  if (!message.mail_from.empty() && !IsValidPath(message.mail_from)) {
    return absl::InvalidArgumentError("bad reverse-path");
  }
  if (message.recipients.empty() ||
      message.recipients.size() > static_cast<size_t>(ringmta::limits::kSmtpRecipientsMax)) {
    return absl::InvalidArgumentError("recipient count out of range");
  }
  for (const Recipient& r : message.recipients) {
    if (r.mailbox.empty() || !IsValidPath(r.mailbox)) {
      return absl::InvalidArgumentError("bad forward-path");
    }
    if (!IsValidNotify(r.notify)) return absl::InvalidArgumentError("bad NOTIFY");
    if (!r.orcpt.empty() && !IsValidOrcpt(r.orcpt)) return absl::InvalidArgumentError("bad ORCPT");
  }
  if (message.envid.size() > limits::kEnvidBytesMax || !IsXtext(message.envid)) {
    return absl::InvalidArgumentError("bad ENVID");
  }
  return absl::OkStatus();
}

bool NeedsSmtpUtf8(const OutboundMessage& message) {
  if (message.smtputf8 || HasNonAscii(message.mail_from)) return true;
  for (const Recipient& r : message.recipients) {
    if (HasNonAscii(r.mailbox)) return true;
  }
  return false;
}

std::optional<ServerReply> RefuseBeforeSending(const OutboundMessage& message,
                                               const ServerCapabilities& caps) {
  if (NeedsSmtpUtf8(message) && !caps.smtputf8) {
    bool address = HasNonAscii(message.mail_from);
    for (const Recipient& r : message.recipients) address = address || HasNonAscii(r.mailbox);
    // RFC 6531 §3.2 and RFC 6533 §3: X.6.7 for addresses, X.6.9 for content.
    return address ? LocalReply(553, "5.6.7", "Server does not support SMTPUTF8 addresses")
                   : LocalReply(554, "5.6.9", "Server does not support SMTPUTF8 messages");
  }
  if (message.body == BodyType::k8BitMime && !caps.eightbitmime) {
    return LocalReply(554, "5.6.3", "8-bit message and server lacks 8BITMIME");
  }
  if (caps.size && caps.size_max > 0 && message.size_bytes > caps.size_max) {
    return LocalReply(552, "5.3.4", "Message exceeds the server's SIZE limit");
  }
  return std::nullopt;
}

void AppendMailFrom(const OutboundMessage& message, const ServerCapabilities& caps,
                    std::string* out) {
  out->append("MAIL FROM:<");
  out->append(message.mail_from);
  out->append(">");
  if (caps.size && message.size_bytes > 0) {
    out->append(" SIZE=");
    out->append(std::to_string(message.size_bytes));
  }
  if (message.body == BodyType::k8BitMime && caps.eightbitmime) out->append(" BODY=8BITMIME");
  if (NeedsSmtpUtf8(message) && caps.smtputf8) out->append(" SMTPUTF8");
  if (caps.dsn && message.ret != DsnRet::kUnspecified) {
    out->append(message.ret == DsnRet::kFull ? " RET=FULL" : " RET=HDRS");
  }
  if (caps.dsn && !message.envid.empty()) {
    out->append(" ENVID=");
    out->append(message.envid);
  }
  out->append("\r\n");
}

void AppendRcptTo(const Recipient& recipient, const ServerCapabilities& caps, std::string* out) {
  out->append("RCPT TO:<");
  out->append(recipient.mailbox);
  out->append(">");
  if (caps.dsn && recipient.notify != 0) AppendNotify(recipient.notify, out);
  if (caps.dsn && !recipient.orcpt.empty()) {
    out->append(" ORCPT=");
    out->append(recipient.orcpt);
  }
  out->append("\r\n");
}

void AppendAuthPlain(std::string_view user, std::string_view password, std::string* out) {
  // RFC 4616 §2: [authzid] NUL authcid NUL passwd; no authzid (act as ourselves).
  std::string message;
  message.reserve(user.size() + password.size() + 2);
  message.push_back('\0');
  message.append(user);
  message.push_back('\0');
  message.append(password);
  out->append("AUTH PLAIN ");
  out->append(absl::Base64Escape(absl::string_view(message.data(), message.size())));
  out->append("\r\n");
}

void AppendBase64Line(std::string_view text, std::string* out) {
  out->append(absl::Base64Escape(absl::string_view(text.data(), text.size())));
  out->append("\r\n");
}

}  // namespace ringmta::smtp
