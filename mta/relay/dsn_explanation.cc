// The human-readable first part of a DSN (RFC 3464 §2.1, RFC 6522 §3):
// plain sentences of our own, grouped by what happened, quoting each
// remote reply. Not here: the machine-readable fields (dsn_fields.cc).
#include <string>
#include <string_view>

#include "mta/relay/dsn_internal.h"
#include "mta/relay/dsn_limits.h"

namespace ringmta::relay::dsn_internal {
namespace {

// How a recipient is shown to a person: as it is in a UTF-8 part, with
// RFC 6533 escapes in a US-ASCII one, never with raw control octets.
std::string AddressForPeople(std::string_view address, bool global) {
  if (!global && HasNonAscii(address)) {
    return SafeText(Utf8AddrXtext(address), kDsnFieldTextBytesMax, false);
  }
  return SafeText(address, kDsnFieldTextBytesMax, global);
}

std::string_view Lead(DsnAction action) {
  switch (action) {
    case DsnAction::kFailed:
      return "Delivery to the recipients below has failed for good. This server has "
             "stopped trying, so they did not get your message.";
    case DsnAction::kDelayed:
      return "Your message has not reached the recipients below yet. This is only a "
             "warning: delivery is still being attempted and you do not need to send "
             "the message again.";
    case DsnAction::kDelivered:
      return "Your message was delivered to the recipients below, and you asked to be "
             "told when that happened.";
    case DsnAction::kRelayed:
      return "Your message was handed on to a system that does not send delivery "
             "reports, so this is the last news you will get about the recipients below.";
    case DsnAction::kExpanded:
      return "Your message reached the recipients below, which are lists or aliases "
             "that pass it on to further addresses.";
  }
  return "";
}

void AppendRecipient(const DsnRecipientReport& report, bool global, std::string* out) {
  *out += "  " + AddressForPeople(report.final_recipient, global) + "\r\n";
  std::string detail = "Status " + StatusText(report.status, report.action);
  if (!report.remote_mta.empty()) {
    detail += ", reported by " + SafeText(report.remote_mta, 255, false);
  }
  if (report.action == DsnAction::kDelayed && report.retry_until_ms > 0) {
    detail += "; attempts continue until " + Rfc5322Date(report.retry_until_ms);
  }
  AppendWrapped(detail + ".", "    ", out);
  if (!report.diagnostic.empty()) {
    // Quoted and indented: whatever the remote server wrote, no line of
    // ours starts with its text, so it cannot pose as a MIME boundary.
    AppendWrapped("The server said: " + SafeText(report.diagnostic, kDsnDiagnosticBytesMax, global),
                  "    ", out);
  }
}

}  // namespace

std::string Explanation(const DsnRequest& request, absl::Span<const size_t> reported,
                        bool global, std::string_view note) {
  std::string out;
  AppendWrapped("This is the mail system at " + SafeText(request.reporting_mta, 255, false) +
                    ", with a report on a message you sent.",
                "", &out);
  // One paragraph per kind of outcome, failures first: they need action.
  constexpr DsnAction kOrder[] = {DsnAction::kFailed, DsnAction::kDelayed,
                                  DsnAction::kDelivered, DsnAction::kRelayed,
                                  DsnAction::kExpanded};
  for (DsnAction action : kOrder) {
    bool first = true;
    for (size_t index : reported) {
      const DsnRecipientReport& report = request.recipients[index];
      if (report.action != action) continue;
      if (first) {
        out += "\r\n";
        AppendWrapped(Lead(action), "", &out);
        first = false;
      }
      out += "\r\n";
      AppendRecipient(report, global, &out);
    }
  }
  if (request.envelope.received_ms > 0) {
    out += "\r\n";
    AppendWrapped("This server received the message on " +
                      Rfc5322Date(request.envelope.received_ms) + ".",
                  "", &out);
  }
  if (!note.empty()) {
    out += "\r\n";
    AppendWrapped(SafeText(note, 1024, false), "", &out);
  }
  out += "\r\n";
  AppendWrapped("The attached report gives these details in a form programs can read.", "",
                &out);
  return out;
}

}  // namespace ringmta::relay::dsn_internal
