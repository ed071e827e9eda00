// GenerateDsn: who gets reported (RFC 3461 NOTIFY), what is returned (RET),
// and the multipart/report message around the parts (RFC 6522, RFC 3464).
// Not here: the parts' contents (dsn_fields, dsn_explanation, dsn_returned).
#include <algorithm>
#include <cstdio>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "mta/base/check.h"
#include "mta/relay/dsn.h"
#include "mta/relay/dsn_internal.h"
#include "mta/relay/dsn_limits.h"

namespace ringmta::relay {
namespace {

using dsn_internal::SafeText;

std::vector<size_t> ReportedRecipients(const DsnRequest& request, const DsnOptions& options) {
  std::vector<size_t> reported;
  for (size_t i = 0; i < request.recipients.size(); ++i) {
    const DsnRecipientReport& report = request.recipients[i];
    if (NotifyWants(report.notify, report.action, options)) reported.push_back(i);
  }
  return reported;
}

bool AnyFailed(const DsnRequest& request, const std::vector<size_t>& reported) {
  return std::any_of(reported.begin(), reported.end(), [&](size_t i) {
    return request.recipients[i].action == DsnAction::kFailed;
  });
}

// RFC 3461 §4.3: RET chooses what a failure report returns; a report with
// no failure in it returns the headers whatever RET said.
bool WantsFullReturn(const DsnRequest& request, const DsnOptions& options,
                     const std::vector<size_t>& reported) {
  const DsnRet ret =
      request.envelope.ret == DsnRet::kNotGiven ? options.ret_default : request.envelope.ret;
  return ret == DsnRet::kFull && AnyFailed(request, reported);
}

uint64_t FullReturnCap(const DsnOptions& options) {
  return std::min(options.full_return_bytes_max, kDsnFullReturnBytesMax);
}

// The RFC 6533 form is used when an address or returned header carries
// UTF-8 that the 7-bit form could only escape. A non-ASCII sender forces
// it: the DSN can only reach that address over SMTPUTF8 anyway.
bool NeedsGlobalForm(const DsnRequest& request, const std::vector<size_t>& reported,
                     bool returned_eight_bit) {
  if (dsn_internal::HasNonAscii(request.envelope.sender)) return true;
  if (!request.envelope.smtputf8) return false;
  if (returned_eight_bit) return true;
  return std::any_of(reported.begin(), reported.end(), [&](size_t i) {
    const DsnRecipientReport& report = request.recipients[i];
    return dsn_internal::HasNonAscii(report.final_recipient) ||
           dsn_internal::HasNonAscii(dsn_internal::XtextDecode(report.orcpt));
  });
}

std::string_view Subject(const DsnRequest& request, const std::vector<size_t>& reported) {
  bool delayed = false;
  for (size_t i : reported) {
    if (request.recipients[i].action == DsnAction::kFailed) {
      return "Undelivered Mail Returned to Sender";
    }
    delayed = delayed || request.recipients[i].action == DsnAction::kDelayed;
  }
  return delayed ? "Delayed Mail (still being retried)" : "Successful Mail Delivery Report";
}

// RFC 5322 §3.6.4 msg-id: dot-atom characters only; "@host" added if the
// caller's token has none.
std::string MessageId(std::string_view token, std::string_view host) {
  std::string id;
  for (unsigned char c : token.substr(0, 200)) {
    const bool atom = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                      (c >= '0' && c <= '9') || std::string_view("!#$%&'*+-/=?^_`{|}~.@").find(
                                                    static_cast<char>(c)) != std::string_view::npos;
    id += atom ? static_cast<char>(c) : '_';
  }
  if (id.find('@') == std::string::npos) id += "@" + std::string(host);
  return "<" + id + ">";
}

struct Part {
  std::string headers;  // complete field lines
  std::string_view body;
};

Part MakePart(std::string_view description, std::string_view content_type,
              std::string_view body) {
  Part part;
  part.body = body;
  dsn_internal::AppendField("Content-Description", description, &part.headers);
  dsn_internal::AppendField("Content-Type", content_type, &part.headers);
  // RFC 2045 §6.2: the label must tell the truth about the octets; no part
  // of ours needs an encoding, and message/* parts may not have one.
  dsn_internal::AppendField("Content-Transfer-Encoding",
                            dsn_internal::HasNonAscii(body) ? "8bit" : "7bit", &part.headers);
  return part;
}

std::string ReturnedType(bool full, bool global) {
  // RFC 6522 §4 and RFC 6533 §6.1, §6.3.
  if (global) return full ? "message/global" : "message/global-headers";
  return full ? "message/rfc822" : "text/rfc822-headers";
}

bool LinesAreSafe(std::string_view message) {
  size_t line_bytes = 0;
  for (size_t i = 0; i < message.size(); ++i) {
    if (message[i] == '\r') {
      if (i + 1 >= message.size() || message[i + 1] != '\n') return false;
      ++i;
      line_bytes = 0;
    } else if (message[i] == '\n' || ++line_bytes > kDsnLineBytesMax) {
      return false;
    }
  }
  return true;
}

// The DSN's own header (RFC 3464 §2, RFC 6522 §3), ending before the
// blank line.
void AppendTopHeaders(const DsnRequest& request, std::string_view subject,
                      std::string_view boundary, bool global, bool eight_bit, std::string* out) {
  const std::string host = SafeText(request.reporting_mta, 255, false);
  dsn_internal::AppendField("From", "Mail Delivery System <MAILER-DAEMON@" + host + ">", out);
  dsn_internal::AppendField(
      "To", "<" + SafeText(request.envelope.sender, kDsnFieldTextBytesMax, global) + ">", out);
  dsn_internal::AppendField("Subject", subject, out);
  dsn_internal::AppendField("Date", dsn_internal::Rfc5322Date(request.now_ms), out);
  dsn_internal::AppendField("Message-ID", MessageId(request.dsn_message_id, host), out);
  // RFC 3834 §5: marks the report as automatic, so responders stay quiet.
  dsn_internal::AppendField("Auto-Submitted", "auto-replied", out);
  dsn_internal::AppendField("MIME-Version", "1.0", out);
  // RFC 6533 §6.2 names the report type of the global form.
  const std::string type = std::string("multipart/report; report-type=") +
                           (global ? "global-delivery-status" : "delivery-status") +
                           "; boundary=\"" + std::string(boundary) + "\"";
  dsn_internal::AppendField("Content-Type", type, out);
  dsn_internal::AppendField("Content-Transfer-Encoding", eight_bit ? "8bit" : "7bit", out);
}

}  // namespace

bool NotifyWants(uint8_t notify, DsnAction action, const DsnOptions& options) {
  if (notify & kDsnNotifyNever) return false;
  if (notify == 0) {
    // RFC 3461 §4.1: absent NOTIFY is FAILURE, with DELAY at our discretion.
    if (action == DsnAction::kFailed) return true;
    return action == DsnAction::kDelayed && options.delay_reports_without_notify;
  }
  switch (action) {
    case DsnAction::kFailed:
      return (notify & kDsnNotifyFailure) != 0;
    case DsnAction::kDelayed:
      return (notify & kDsnNotifyDelay) != 0;
    case DsnAction::kDelivered:
    case DsnAction::kRelayed:
    case DsnAction::kExpanded:
      return (notify & kDsnNotifySuccess) != 0;
  }
  return false;
}

uint64_t DsnMessageBytesWanted(const DsnRequest& request, const DsnOptions& options) {
  if (request.envelope.sender.empty()) return 0;
  const std::vector<size_t> reported = ReportedRecipients(request, options);
  if (reported.empty()) return 0;
  const uint64_t size = request.original.size_bytes;
  if (WantsFullReturn(request, options, reported) && size <= FullReturnCap(options)) return size;
  return std::min(size, kDsnReturnedHeaderBytesMax);
}

std::optional<GeneratedDsn> GenerateDsn(const DsnRequest& request, const DsnOptions& options) {
  // RFC 5321 §4.5.5 / RFC 3461 §6.2: nothing is ever reported to <>.
  if (request.envelope.sender.empty()) return std::nullopt;
  CHECK(!request.reporting_mta.empty());
  CHECK(!request.dsn_message_id.empty());
  CHECK(request.recipients.size() <= kDsnRecipientsMax);
  std::vector<size_t> reported = ReportedRecipients(request, options);
  if (reported.empty()) return std::nullopt;

  dsn_internal::ReturnedContent returned = dsn_internal::BuildReturnedContent(
      request.original, WantsFullReturn(request, options, reported), FullReturnCap(options));
  const bool global = NeedsGlobalForm(request, reported, returned.eight_bit);
  const std::string explanation =
      dsn_internal::Explanation(request, reported, global, returned.note);
  const std::string status = dsn_internal::DeliveryStatusBody(request, reported, global);

  const Part parts[] = {
      MakePart("Notification",
               global ? "text/plain; charset=utf-8" : "text/plain; charset=us-ascii",
               explanation),
      MakePart("Delivery report",
               global ? "message/global-delivery-status" : "message/delivery-status", status),
      MakePart(returned.full ? "Undelivered message" : "Message headers",
               ReturnedType(returned.full, global), returned.body),
  };
  const std::string_view bodies[] = {explanation, status, returned.body};
  const std::string boundary =
      dsn_internal::ChooseBoundary(request.dsn_message_id + request.reporting_mta, bodies);
  const bool eight_bit = std::any_of(std::begin(bodies), std::end(bodies),
                                     [](std::string_view b) { return dsn_internal::HasNonAscii(b); });

  GeneratedDsn dsn;
  dsn.envelope_recipient = request.envelope.sender;
  dsn.reported = std::move(reported);
  dsn.full_message_returned = returned.full;
  dsn.requires_8bitmime = eight_bit;
  dsn.requires_smtputf8 = global;
  std::string& out = dsn.message;
  AppendTopHeaders(request, Subject(request, dsn.reported), boundary, global, eight_bit, &out);
  out += "\r\nThis is a delivery status report in MIME format (RFC 3464).\r\n";
  for (const Part& part : parts) {
    // RFC 2046 §5.1.1: the CRLF before "--" belongs to the delimiter, so
    // each body keeps its own final CRLF.
    out += "\r\n--" + boundary + "\r\n" + part.headers + "\r\n";
    out += part.body;
  }
  out += "\r\n--" + boundary + "--\r\n";
  // Postcondition: only CRLF line ends, every line within RFC 5322's 998.
  DCHECK(LinesAreSafe(out));
  return dsn;
}

namespace dsn_internal {

std::string ChooseBoundary(std::string_view seed, absl::Span<const std::string_view> parts) {
  uint64_t hash = 0xcbf29ce484222325;  // FNV-1a: only to vary boundaries between DSNs
  for (unsigned char c : seed) hash = (hash ^ c) * 0x100000001b3;
  char prefix[32];
  std::snprintf(prefix, sizeof prefix, "=_rm_%016llx_", static_cast<unsigned long long>(hash));
  const std::string_view needle(prefix);
  // The prefix has '=' only at its start, so its occurrences never overlap
  // and each one names at most one "<n>=" suffix that n must avoid.
  std::set<uint64_t> taken;
  for (std::string_view part : parts) {
    for (size_t pos = part.find(needle); pos != std::string_view::npos;
         pos = part.find(needle, pos + 1)) {
      size_t end = pos + needle.size();
      uint64_t n = 0;
      size_t digits = 0;
      while (end < part.size() && part[end] >= '0' && part[end] <= '9' && digits < 18) {
        n = n * 10 + static_cast<uint64_t>(part[end] - '0');
        ++end, ++digits;
      }
      if (digits > 0 && end < part.size() && part[end] == '=') taken.insert(n);
    }
  }
  uint64_t n = 0;
  while (taken.count(n) != 0) ++n;
  return std::string(needle) + std::to_string(n) + "=";
}

}  // namespace dsn_internal
}  // namespace ringmta::relay
