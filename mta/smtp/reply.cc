// Reply formatting and the Status -> reply mapping.
#include "mta/smtp/reply.h"

#include "mta/base/check.h"
#include "mta/smtp/smtp_limits.h"

namespace ringmta::smtp {
namespace {

void AppendLine(int code, char separator, std::string_view enhanced, std::string_view text,
                std::string* out) {
  CHECK(code >= 200 && code <= 599);
  CHECK(text.find_first_of("\r\n") == std::string_view::npos);
  CHECK(enhanced.find_first_of("\r\n ") == std::string_view::npos);
  const size_t start = out->size();
  out->append(std::to_string(code));
  out->push_back(separator);
  if (!enhanced.empty()) {
    // RFC 3463 §2: the class digit of the enhanced code matches the reply's.
    CHECK(enhanced[0] == static_cast<char>('0' + code / 100));
    out->append(enhanced.data(), enhanced.size());
    if (!text.empty()) out->push_back(' ');
  }
  out->append(text.data(), text.size());
  out->append("\r\n");
  CHECK(out->size() - start <= limits::kReplyLineBytesMax);
}

}  // namespace

void AppendReply(const Reply& reply, std::string* out) {
  AppendLine(reply.code, ' ', reply.enhanced, reply.text, out);
}

void AppendMultilineReply(int code, std::string_view enhanced,
                          absl::Span<const std::string> lines, std::string* out) {
  CHECK(!lines.empty());
  for (size_t i = 0; i < lines.size(); ++i) {
    const bool last = i + 1 == lines.size();
    AppendLine(code, last ? ' ' : '-', enhanced, lines[i], out);
  }
}

Reply ReplyForStatus(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kOk:
      return {250, "2.0.0", "OK"};
    // Out of space or over the queue's high-water mark: try again later
    // (RFC 5321 §4.2.3 452; RFC 3463 4.3.1 mail system full).
    case absl::StatusCode::kResourceExhausted:
      return {452, "4.3.1", "Insufficient system storage"};
    // Transient trouble on our side (RFC 3463 4.3.0 other mail system status).
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDeadlineExceeded:
    case absl::StatusCode::kAborted:
    case absl::StatusCode::kCancelled:
    case absl::StatusCode::kDataLoss:  // quarantined and alerted elsewhere; the client retries
    case absl::StatusCode::kInternal:
    case absl::StatusCode::kUnknown:
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kFailedPrecondition:
      return {451, "4.3.0", "Local error in processing, try again later"};
    // Policy refusal, e.g. relaying denied (RFC 3463 5.7.1).
    case absl::StatusCode::kPermissionDenied:
    case absl::StatusCode::kUnauthenticated:
      return {554, "5.7.1", "Access denied"};
    case absl::StatusCode::kNotFound:
      return {550, "5.1.1", "Mailbox unavailable"};
    // Too big (RFC 5321 §4.2.3 552; RFC 3463 5.3.4 message too big for system).
    case absl::StatusCode::kOutOfRange:
      return {552, "5.3.4", "Message size exceeds fixed limit"};
    case absl::StatusCode::kUnimplemented:
      return {502, "5.5.1", "Command not implemented"};
    // What the client sent can never succeed (RFC 3463 5.6.0 other media error).
    case absl::StatusCode::kInvalidArgument:
      return {554, "5.6.0", "Message rejected"};
    default:
      return {451, "4.3.0", "Local error in processing, try again later"};
  }
}

}  // namespace ringmta::smtp
