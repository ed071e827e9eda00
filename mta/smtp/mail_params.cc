// ESMTP parameter semantics for MAIL and RCPT, each with its RFC.
#include "mta/smtp/mail_params.h"

#include "absl/strings/ascii.h"
#include "mta/smtp/smtp_limits.h"

namespace ringmta::smtp {
namespace {

Reply BadValue(std::string_view what) {
  return {501, "5.5.4", "Invalid " + std::string(what) + " parameter"};
}

Reply Unknown() { return {555, "5.5.4", "Unsupported parameter"}; }

bool IsHexUpper(char c) { return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F'); }

}  // namespace

std::optional<uint64_t> ParseDecimal(std::string_view text) {
  if (text.empty() || text.size() > limits::kSizeDigitsMax) return std::nullopt;
  uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    const uint64_t digit = static_cast<uint64_t>(c - '0');
    value = value > (UINT64_MAX - digit) / 10 ? UINT64_MAX : value * 10 + digit;
  }
  return value;
}

namespace {

// NOTIFY="NEVER" / 1#( "SUCCESS" / "FAILURE" / "DELAY" ) (RFC 3461 §4.1).
std::optional<uint8_t> ParseNotify(std::string_view text) {
  if (EqualsIgnoreCase(text, "NEVER")) return kNotifyNever;
  uint8_t bits = 0;
  while (true) {
    const size_t comma = text.find(',');
    const std::string_view item = text.substr(0, comma);
    uint8_t bit = 0;
    if (EqualsIgnoreCase(item, "SUCCESS")) bit = kNotifySuccess;
    if (EqualsIgnoreCase(item, "FAILURE")) bit = kNotifyFailure;
    if (EqualsIgnoreCase(item, "DELAY")) bit = kNotifyDelay;
    if (bit == 0 || (bits & bit) != 0) return std::nullopt;
    bits |= bit;
    if (comma == std::string_view::npos) return bits;
    text.remove_prefix(comma + 1);
  }
}

// ORCPT=addr-type ";" xtext (RFC 3461 §4.2), addr-type an atom such as
// "rfc822" or "utf-8" (RFC 6533, whose unitext may carry UTF-8).
bool IsOrcpt(std::string_view text) {
  if (text.size() > limits::kOrcptBytesMax) return false;
  const size_t semicolon = text.find(';');
  if (semicolon == 0 || semicolon == std::string_view::npos) return false;
  for (char c : text.substr(0, semicolon)) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-') return false;
  }
  const std::string_view address = text.substr(semicolon + 1);
  if (address.empty()) return false;
  for (char c : address) {
    if (static_cast<unsigned char>(c) >= 0x80) return true;  // unitext: UTF-8 checked by the parser
  }
  return IsXtext(address);
}

// One bit per known MAIL parameter, to refuse repeats.
enum MailParamBit : unsigned {
  kSeenSize = 1, kSeenBody = 2, kSeenUtf8 = 4, kSeenRet = 8, kSeenEnvid = 16, kSeenAuth = 32,
};

std::optional<Reply> ApplyMailParam(const EsmtpParam& p, const MailParamLimits& limits,
                                    Envelope* envelope) {
  const std::string_view key = p.keyword;
  if (EqualsIgnoreCase(key, "SIZE")) {
    const std::optional<uint64_t> size = p.has_value ? ParseDecimal(p.value) : std::nullopt;
    if (!size) return BadValue("SIZE");
    if (*size > limits.message_bytes_max) return Reply{552, "5.3.4", "Message size exceeds fixed limit"};
    envelope->declared_size = *size;
  } else if (EqualsIgnoreCase(key, "BODY")) {
    if (EqualsIgnoreCase(p.value, "7BIT")) {
      envelope->body = BodyType::k7Bit;
    } else if (EqualsIgnoreCase(p.value, "8BITMIME")) {
      envelope->body = BodyType::k8BitMime;
    } else {
      return BadValue("BODY");  // BINARYMIME is not advertised
    }
  } else if (EqualsIgnoreCase(key, "SMTPUTF8")) {
    if (p.has_value) return BadValue("SMTPUTF8");
    envelope->smtputf8 = true;
  } else if (EqualsIgnoreCase(key, "RET")) {
    if (EqualsIgnoreCase(p.value, "FULL")) {
      envelope->ret = DsnRet::kFull;
    } else if (EqualsIgnoreCase(p.value, "HDRS")) {
      envelope->ret = DsnRet::kHeaders;
    } else {
      return BadValue("RET");
    }
  } else if (EqualsIgnoreCase(key, "ENVID")) {
    if (p.value.empty() || p.value.size() > limits::kEnvidBytesMax || !IsXtext(p.value)) {
      return BadValue("ENVID");
    }
    envelope->envid = std::string(p.value);
  } else if (EqualsIgnoreCase(key, "AUTH") && limits.auth_advertised) {
    // RFC 4954 §5: the value is only advisory; accepted and ignored.
    if (p.value != "<>" && !IsXtext(p.value)) return BadValue("AUTH");
  } else {
    return Unknown();
  }
  return std::nullopt;
}

unsigned MailParamBitFor(std::string_view key) {
  if (EqualsIgnoreCase(key, "SIZE")) return kSeenSize;
  if (EqualsIgnoreCase(key, "BODY")) return kSeenBody;
  if (EqualsIgnoreCase(key, "SMTPUTF8")) return kSeenUtf8;
  if (EqualsIgnoreCase(key, "RET")) return kSeenRet;
  if (EqualsIgnoreCase(key, "ENVID")) return kSeenEnvid;
  if (EqualsIgnoreCase(key, "AUTH")) return kSeenAuth;
  return 0;
}

}  // namespace

bool IsXtext(std::string_view text) {
  for (size_t i = 0; i < text.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c == '+') {
      if (i + 2 >= text.size() || !IsHexUpper(text[i + 1]) || !IsHexUpper(text[i + 2])) {
        return false;
      }
      i += 2;
    } else if (c < 33 || c > 126 || c == '=') {
      return false;
    }
  }
  return true;
}

std::optional<Reply> ApplyMailParams(absl::Span<const EsmtpParam> params,
                                     const MailParamLimits& limits, Envelope* envelope) {
  unsigned seen = 0;
  for (const EsmtpParam& param : params) {
    const unsigned bit = MailParamBitFor(param.keyword);
    if (bit != 0 && (seen & bit) != 0) return BadValue("repeated");
    seen |= bit;
    if (auto refusal = ApplyMailParam(param, limits, envelope)) return refusal;
  }
  return std::nullopt;
}

std::optional<Reply> ApplyRcptParams(absl::Span<const EsmtpParam> params,
                                     Recipient* recipient) {
  bool seen_notify = false, seen_orcpt = false;
  for (const EsmtpParam& p : params) {
    if (EqualsIgnoreCase(p.keyword, "NOTIFY")) {
      const std::optional<uint8_t> bits = ParseNotify(p.value);
      if (seen_notify || !bits) return BadValue("NOTIFY");
      seen_notify = true;
      recipient->notify = *bits;
    } else if (EqualsIgnoreCase(p.keyword, "ORCPT")) {
      if (seen_orcpt || !IsOrcpt(p.value)) return BadValue("ORCPT");
      seen_orcpt = true;
      recipient->orcpt = std::string(p.value);
    } else {
      return Unknown();
    }
  }
  return std::nullopt;
}

}  // namespace ringmta::smtp
