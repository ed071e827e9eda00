// The machine-readable part of a DSN: message/delivery-status (RFC 3464
// §2.2 per-message and §2.3 per-recipient fields), or its RFC 6533 global
// form. Not here: which recipients are reported (dsn_message.cc).
#include <cctype>
#include <string>
#include <string_view>

#include "mta/base/check.h"
#include "mta/relay/dsn_internal.h"
#include "mta/relay/dsn_limits.h"

namespace ringmta::relay::dsn_internal {
namespace {

// An MTA name from config or a client's HELO, reduced to the characters of
// a domain or address literal so it reads as one token (RFC 3464 §2.2.2).
std::string HostToken(std::string_view host) {
  std::string out;
  for (unsigned char c : host) {
    if (out.size() >= 255) break;
    const bool safe = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                      (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_' ||
                      c == ':' || c == '[' || c == ']';
    out += safe ? static_cast<char>(c) : '_';
  }
  return out;
}

// RFC 3464 §2.3.6: "smtp" when the text is an SMTP reply ("550 ..." or
// "550-..."); our own reasons (DNS, timeouts) get a private X- type.
std::string DiagnosticValue(std::string_view diagnostic, bool global) {
  const std::string text = SafeText(diagnostic, kDsnDiagnosticBytesMax, global);
  const bool smtp_reply = text.size() >= 3 && text[0] >= '2' && text[0] <= '5' &&
                          text[1] >= '0' && text[1] <= '9' && text[2] >= '0' &&
                          text[2] <= '9' && (text.size() == 3 || text[3] == ' ' || text[3] == '-');
  return (smtp_reply ? "smtp; " : "X-ringmta; ") + text;
}

uint8_t ClassFor(DsnAction action) {
  switch (action) {
    case DsnAction::kFailed:
      return 5;
    case DsnAction::kDelayed:
      return 4;
    case DsnAction::kDelivered:
    case DsnAction::kRelayed:
    case DsnAction::kExpanded:
      return 2;
  }
  return 5;
}

void AppendPerMessageFields(const DsnRequest& request, std::string* out) {
  const DsnEnvelope& envelope = request.envelope;
  AppendField("Reporting-MTA", "dns; " + HostToken(request.reporting_mta), out);
  if (!envelope.envid.empty()) {
    // RFC 3461 §4.4: ENVID travels as xtext; the report carries it decoded.
    AppendField("Original-Envelope-Id",
                SafeText(XtextDecode(envelope.envid), kDsnFieldTextBytesMax, false), out);
  }
  if (!envelope.client_helo.empty()) {
    std::string value = "dns; " + HostToken(envelope.client_helo);
    if (!envelope.client_address.empty()) {
      value += " ([" + HostToken(envelope.client_address) + "])";
    }
    AppendField("Received-From-MTA", value, out);
  }
  if (envelope.received_ms > 0) AppendField("Arrival-Date", Rfc5322Date(envelope.received_ms), out);
}

void AppendRecipientFields(const DsnRecipientReport& report, bool global, std::string* out) {
  const std::string original = OriginalRecipient(report.orcpt, global);
  if (!original.empty()) AppendField("Original-Recipient", original, out);
  AppendField("Final-Recipient", AddressWithType(report.final_recipient, global), out);
  AppendField("Action", ActionName(report.action), out);
  AppendField("Status", StatusText(report.status, report.action), out);
  if (!report.remote_mta.empty()) {
    AppendField("Remote-MTA", "dns; " + HostToken(report.remote_mta), out);
  }
  if (!report.diagnostic.empty()) {
    AppendField("Diagnostic-Code", DiagnosticValue(report.diagnostic, global), out);
  }
  if (report.last_attempt_ms > 0) {
    AppendField("Last-Attempt-Date", Rfc5322Date(report.last_attempt_ms), out);
  }
  // RFC 3464 §2.3.8: only meaningful while we are still trying.
  if (report.action == DsnAction::kDelayed && report.retry_until_ms > 0) {
    AppendField("Will-Retry-Until", Rfc5322Date(report.retry_until_ms), out);
  }
}

}  // namespace

std::string AddressWithType(std::string_view address, bool global) {
  if (!HasNonAscii(address)) {
    return "rfc822;" + SafeText(address, kDsnFieldTextBytesMax, false);
  }
  // RFC 6533 §3: the "utf-8" address type; raw UTF-8 only where the part
  // may carry it (message/global-delivery-status), escapes elsewhere.
  if (global && IsValidUtf8(address)) {
    return "utf-8;" + SafeText(address, kDsnFieldTextBytesMax, true);
  }
  return "utf-8;" + SafeText(Utf8AddrXtext(address), kDsnFieldTextBytesMax, false);
}

std::string OriginalRecipient(std::string_view orcpt, bool global) {
  const size_t semicolon = orcpt.find(';');
  if (semicolon == 0 || semicolon == std::string_view::npos) return "";
  const std::string type = SafeText(orcpt.substr(0, semicolon), 64, false);
  const std::string address = XtextDecode(orcpt.substr(semicolon + 1));
  if (type.empty() || address.empty()) return "";
  std::string type_lower = type;
  for (char& c : type_lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const bool rfc822 = type_lower == "rfc822";
  // An rfc822 address, or any address that decodes to non-ASCII, is
  // written the way we write Final-Recipient (RFC 6533 §3 for UTF-8).
  if (rfc822 || HasNonAscii(address)) return AddressWithType(address, global);
  // Other types (e.g. RFC 6533 "utf-8" already in its xtext form) are
  // echoed as given: they are ASCII by now.
  return type + ";" + SafeText(address, kDsnFieldTextBytesMax, false);
}

std::string_view ActionName(DsnAction action) {
  switch (action) {
    case DsnAction::kFailed:
      return "failed";
    case DsnAction::kDelayed:
      return "delayed";
    case DsnAction::kDelivered:
      return "delivered";
    case DsnAction::kRelayed:
      return "relayed";
    case DsnAction::kExpanded:
      return "expanded";
  }
  return "failed";
}

std::string StatusText(const DsnStatusCode& status, DsnAction action) {
  // RFC 3463 §3.1: only classes 2, 4 and 5 exist; anything else is unknown.
  const bool known = status.code_class == 2 || status.code_class == 4 || status.code_class == 5;
  if (!known) return std::to_string(ClassFor(action)) + ".0.0";
  // RFC 3463 §4: subject and detail are at most three digits each.
  return std::to_string(status.code_class) + "." + std::to_string(status.subject % 1000) + "." +
         std::to_string(status.detail % 1000);
}

std::string DeliveryStatusBody(const DsnRequest& request, absl::Span<const size_t> reported,
                               bool global) {
  CHECK(!reported.empty());
  std::string out;
  AppendPerMessageFields(request, &out);
  for (size_t index : reported) {
    CHECK(index < request.recipients.size());
    // RFC 3464 §2.1: per-recipient groups follow, each after a blank line.
    out += "\r\n";
    AppendRecipientFields(request.recipients[index], global, &out);
  }
  return out;
}

}  // namespace ringmta::relay::dsn_internal
