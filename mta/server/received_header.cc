#include "mta/server/received_header.h"

#include <ctime>

namespace ringmta::server {
namespace {

// HELO text is the client's: keep characters that are safe inside a
// comment-free header field, so no CR, LF, parenthesis or semicolon.
std::string SafeAtom(std::string_view text, size_t bytes_max) {
  std::string out;
  for (unsigned char c : text) {
    if (out.size() >= bytes_max) break;
    bool safe = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '.' || c == '-' || c == '_' || c == ':' || c == '[' || c == ']';
    out += safe ? static_cast<char>(c) : '_';
  }
  return out.empty() ? std::string("unknown") : out;
}

// A mailbox for the "for" clause: printable and free of the characters
// that would end the angle brackets or the field.
std::string SafeMailbox(std::string_view mailbox) {
  std::string out;
  for (unsigned char c : mailbox) {
    if (out.size() >= 256) break;
    bool safe = c > 0x20 && c != 0x7f && c != '<' && c != '>' && c != '(' && c != ')' &&
                c != ';' && c != '\\' && c != '"';
    out += safe ? static_cast<char>(c) : '_';
  }
  return out;
}

// RFC 3848 protocol names: ESMTP with S (TLS), A (AUTH); UTF8 variants
// (RFC 6531 §3.7.3) when the message uses SMTPUTF8.
std::string WithProtocol(const smtp::Envelope& envelope, bool authenticated) {
  if (!envelope.esmtp) return "SMTP";
  std::string with = envelope.smtputf8 ? "UTF8SMTP" : "ESMTP";
  if (envelope.tls) with += "S";
  if (authenticated) with += "A";
  return with;
}

// RFC 5322 §3.3 date-time in UTC: "Sat, 28 Nov 2026 20:00:00 +0000".
std::string DateTime(int64_t wall_ms) {
  time_t seconds = static_cast<time_t>(wall_ms / 1000);
  tm utc;
  gmtime_r(&seconds, &utc);
  char text[64];
  strftime(text, sizeof text, "%a, %d %b %Y %H:%M:%S +0000", &utc);
  return text;
}

}  // namespace

std::string FormatReceivedHeader(const smtp::Envelope& envelope, const ReceivedContext& context) {
  std::string header = "Received: from " + SafeAtom(envelope.helo, 255);
  header += " (" + SafeAtom(envelope.client_address, 64) + ")\r\n";
  // RFC 5321 §4.4 allows comments; the wording is Postfix's, which log
  // readers and spam filters already parse. Names come from BoringSSL but
  // are reduced to atoms all the same.
  if (envelope.tls && !envelope.tls_version.empty()) {
    header += "\t(using " + SafeAtom(envelope.tls_version, 32);
    if (!envelope.tls_cipher.empty()) header += " with cipher " + SafeAtom(envelope.tls_cipher, 64);
    header += ")\r\n";
  }
  header += "\tby " + std::string(context.server_host) + " (ringmta) with " +
            WithProtocol(envelope, context.authenticated) + " id " +
            std::string(context.queue_id);
  // Naming the recipient only when there is one (§4.4) avoids disclosing
  // the other recipients of a multi-recipient message.
  if (envelope.recipients.size() == 1) {
    header += "\r\n\tfor <" + SafeMailbox(envelope.recipients[0].mailbox) + ">";
  }
  header += ";\r\n\t" + DateTime(context.wall_ms) + "\r\n";
  return header;
}

}  // namespace ringmta::server
