// EHLO keyword parsing: each line is "keyword *(SP param)" (RFC 5321 §4.1.1.1).
#include "mta/smtp/client_capabilities.h"

#include <algorithm>
#include <optional>
#include <string_view>

#include "mta/smtp/command.h"
#include "mta/smtp/mail_params.h"

namespace ringmta::smtp {
namespace {

// The next space-separated word of *text, removed from it.
std::string_view NextWord(std::string_view* text) {
  const size_t start = text->find_first_not_of(' ');
  if (start == std::string_view::npos) {
    *text = {};
    return {};
  }
  text->remove_prefix(start);
  const size_t end = std::min(text->find(' '), text->size());
  const std::string_view word = text->substr(0, end);
  text->remove_prefix(end);
  return word;
}

void AddAuthMechanisms(std::string_view mechanisms, ServerCapabilities* caps) {
  for (std::string_view m = NextWord(&mechanisms); !m.empty(); m = NextWord(&mechanisms)) {
    if (EqualsIgnoreCase(m, "PLAIN")) caps->auth_plain = true;
    if (EqualsIgnoreCase(m, "LOGIN")) caps->auth_login = true;
  }
}

void AddKeyword(std::string_view line, ServerCapabilities* caps) {
  const std::string_view keyword = NextWord(&line);
  constexpr std::string_view kAuthEquals = "AUTH=";
  if (EqualsIgnoreCase(keyword, "PIPELINING")) {
    caps->pipelining = true;
  } else if (EqualsIgnoreCase(keyword, "SIZE")) {
    caps->size = true;
    const std::optional<uint64_t> max = ParseDecimal(NextWord(&line));
    caps->size_max = max.value_or(0);
  } else if (EqualsIgnoreCase(keyword, "8BITMIME")) {
    caps->eightbitmime = true;
  } else if (EqualsIgnoreCase(keyword, "SMTPUTF8")) {
    caps->smtputf8 = true;
  } else if (EqualsIgnoreCase(keyword, "CHUNKING")) {
    caps->chunking = true;
  } else if (EqualsIgnoreCase(keyword, "DSN")) {
    caps->dsn = true;
  } else if (EqualsIgnoreCase(keyword, "STARTTLS")) {
    caps->starttls = true;
  } else if (EqualsIgnoreCase(keyword, "ENHANCEDSTATUSCODES")) {
    caps->enhanced_status_codes = true;
  } else if (EqualsIgnoreCase(keyword, "AUTH")) {
    AddAuthMechanisms(line, caps);
  } else if (keyword.size() > kAuthEquals.size() &&
             EqualsIgnoreCase(keyword.substr(0, kAuthEquals.size()), kAuthEquals)) {
    AddAuthMechanisms(keyword.substr(kAuthEquals.size()), caps);
    AddAuthMechanisms(line, caps);
  }
}

}  // namespace

ServerCapabilities ParseEhloReply(const ServerReply& reply) {
  ServerCapabilities caps;
  caps.esmtp = true;
  // The first line is the server's name and greeting, not a keyword.
  for (size_t i = 1; i < reply.lines.size(); ++i) AddKeyword(reply.lines[i], &caps);
  return caps;
}

}  // namespace ringmta::smtp
