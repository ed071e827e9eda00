// The SMTP envelope of one message as the server accepted it: sender,
// recipients and the ESMTP parameters that must survive into the queue and
// into bounces (SIZE, BODY, SMTPUTF8; DSN's RET, ENVID, NOTIFY, ORCPT).
// Not here: parsing (mail_params.h) or persistence (queue/).
#ifndef RINGMTA_MTA_SMTP_ENVELOPE_H_
#define RINGMTA_MTA_SMTP_ENVELOPE_H_

#include <cstdint>
#include <string>
#include <vector>

namespace ringmta::smtp {

// BODY= (RFC 6152 §2): unspecified means 7BIT by RFC 5321.
enum class BodyType { kUnspecified, k7Bit, k8BitMime };

// RET= (RFC 3461 §4.3): how much of the message a failure DSN returns.
enum class DsnRet { kUnspecified, kFull, kHeaders };

// NOTIFY= (RFC 3461 §4.1) as bits; 0 means not given (the default applies).
enum NotifyBits : uint8_t {
  kNotifyNever = 1 << 0,
  kNotifySuccess = 1 << 1,
  kNotifyFailure = 1 << 2,
  kNotifyDelay = 1 << 3,
};

struct Recipient {
  std::string mailbox;  // "local@domain" as sent (Path::Mailbox())
  uint8_t notify = 0;   // NotifyBits
  std::string orcpt;    // ORCPT= "addr-type;xtext" as sent, or empty
};

struct Envelope {
  std::string helo;       // HELO/EHLO argument (sanitised), for Received:
  std::string client_address;  // the peer's IP as text, for Received:
  bool esmtp = false;     // EHLO (not HELO) was used
  bool tls = false;       // the session was under TLS when MAIL was given
  std::string tls_version;  // its protocol and cipher, for Received:
  std::string tls_cipher;
  // The identity a successful AUTH proved (RFC 4954), or empty: it lets
  // the relay policy allow relaying and marks Received: with ESMTPA.
  std::string auth_user;
  std::string mail_from;  // empty for the null reverse-path "<>"
  uint64_t declared_size = 0;  // SIZE= (RFC 1870), 0 when not given
  BodyType body = BodyType::kUnspecified;
  bool smtputf8 = false;  // SMTPUTF8 (RFC 6531 §3.4)
  DsnRet ret = DsnRet::kUnspecified;
  std::string envid;      // ENVID= xtext as sent (RFC 3461 §4.4), or empty
  std::vector<Recipient> recipients;
};

}  // namespace ringmta::smtp

#endif  // RINGMTA_MTA_SMTP_ENVELOPE_H_
