// Command-line and ESMTP-parameter parsing per RFC 5321 §4.1 and §4.1.2.
#include "mta/smtp/command.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "mta/smtp/smtp_limits.h"
#include "mta/smtp/utf8.h"

namespace ringmta::smtp {
namespace {

struct VerbName {
  std::string_view name;
  Verb verb;
};

constexpr VerbName kVerbs[] = {
    {"HELO", Verb::kHelo}, {"EHLO", Verb::kEhlo}, {"MAIL", Verb::kMail},
    {"RCPT", Verb::kRcpt}, {"DATA", Verb::kData}, {"BDAT", Verb::kBdat},
    {"RSET", Verb::kRset}, {"NOOP", Verb::kNoop}, {"QUIT", Verb::kQuit},
    {"VRFY", Verb::kVrfy}, {"EXPN", Verb::kExpn}, {"HELP", Verb::kHelp},
    {"STARTTLS", Verb::kStartTls}, {"AUTH", Verb::kAuth},
};

std::string_view TrimSpaces(std::string_view text) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  return text;
}

bool IsAlnum(char c) { return absl::ascii_isalnum(static_cast<unsigned char>(c)); }

// esmtp-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-")
bool IsEsmtpKeyword(std::string_view keyword) {
  if (keyword.empty() || !IsAlnum(keyword[0])) return false;
  for (char c : keyword) {
    if (!IsAlnum(c) && c != '-') return false;
  }
  return true;
}

// esmtp-value = 1*(%d33-60 / %d62-126 / UTF8-non-ascii): no "=", SP or CTLs.
bool IsEsmtpValue(std::string_view value) {
  if (value.empty()) return false;
  for (char ch : value) {
    const unsigned char c = static_cast<unsigned char>(ch);
    if (c >= 0x80) continue;  // checked as UTF-8 below
    if (c < 33 || c > 126 || c == '=') return false;
  }
  return IsValidUtf8(value);
}

// Length of the "<...>" path at the start of `text`, honouring quoted strings
// and quoted pairs, or 0 if there is no closing ">".
size_t PathLength(std::string_view text) {
  bool quoted = false;
  for (size_t i = 1; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\\' && quoted) {
      ++i;  // quoted-pairSMTP: the next byte is literal
    } else if (c == '"') {
      quoted = !quoted;
    } else if (c == '>' && !quoted) {
      return i + 1;
    }
  }
  return 0;
}

}  // namespace

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return absl::EqualsIgnoreCase(absl::string_view(a.data(), a.size()),
                                absl::string_view(b.data(), b.size()));
}

absl::StatusOr<Command> ParseCommand(std::string_view line, size_t line_bytes_max) {
  if (!line.empty() && line.back() == '\n') {
    line.remove_suffix(1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  }
  if (line.size() + 2 > line_bytes_max) {
    return absl::InvalidArgumentError("command line too long");
  }
  for (char ch : line) {
    const unsigned char c = static_cast<unsigned char>(ch);
    if ((c < 0x20 && c != '\t') || c == 0x7f) {
      return absl::InvalidArgumentError("control character in command line");
    }
  }
  const size_t space = line.find(' ');
  const std::string_view verb_text = line.substr(0, space);
  Command command;
  command.argument =
      space == std::string_view::npos ? std::string_view() : TrimSpaces(line.substr(space + 1));
  for (const VerbName& entry : kVerbs) {
    if (EqualsIgnoreCase(verb_text, entry.name)) {
      command.verb = entry.verb;
      break;
    }
  }
  return command;
}

bool LooksLikeHttpRequest(std::string_view line) {
  // Request methods of RFC 9110 §9 plus PATCH (RFC 5789): a method and a
  // space. Case-insensitive, as Postfix's smtpd_forbidden_commands is.
  static constexpr std::string_view kMethods[] = {"GET",    "POST",    "HEAD",  "PUT",  "DELETE",
                                                  "CONNECT", "OPTIONS", "TRACE", "PATCH"};
  const size_t space = line.find(' ');
  if (space == std::string_view::npos) return false;
  const std::string_view first = line.substr(0, space);
  for (std::string_view method : kMethods) {
    if (EqualsIgnoreCase(first, method)) return true;
  }
  return false;
}

absl::StatusOr<PathArgument> ParsePathArgument(std::string_view argument,
                                               std::string_view prefix) {
  if (argument.size() < prefix.size() ||
      !EqualsIgnoreCase(argument.substr(0, prefix.size()), prefix)) {
    return absl::InvalidArgumentError("missing FROM:/TO:");
  }
  std::string_view rest = TrimSpaces(argument.substr(prefix.size()));
  if (rest.empty() || rest.front() != '<') {
    return absl::InvalidArgumentError("path not in angle brackets");
  }
  const size_t length = PathLength(rest);
  if (length == 0) return absl::InvalidArgumentError("unterminated path");
  PathArgument result;
  result.path = rest.substr(0, length);
  rest.remove_prefix(length);
  if (rest.empty()) return result;
  if (rest.front() != ' ') return absl::InvalidArgumentError("junk after path");
  auto params = ParseEsmtpParams(TrimSpaces(rest));
  if (!params.ok()) return params.status();
  result.params = *std::move(params);
  return result;
}

absl::StatusOr<std::vector<EsmtpParam>> ParseEsmtpParams(std::string_view text) {
  std::vector<EsmtpParam> params;
  while (!text.empty()) {
    const size_t space = text.find(' ');
    const std::string_view token = text.substr(0, space);
    text = space == std::string_view::npos ? std::string_view() : text.substr(space + 1);
    if (token.empty()) continue;  // tolerate repeated spaces between parameters
    if (params.size() == limits::kEsmtpParamsMax) {
      return absl::InvalidArgumentError("too many parameters");
    }
    EsmtpParam param;
    const size_t equals = token.find('=');
    param.keyword = token.substr(0, equals);
    if (!IsEsmtpKeyword(param.keyword)) {
      return absl::InvalidArgumentError("bad parameter keyword");
    }
    if (equals != std::string_view::npos) {
      param.has_value = true;
      param.value = token.substr(equals + 1);
      if (!IsEsmtpValue(param.value)) {
        return absl::InvalidArgumentError("bad parameter value");
      }
    }
    params.push_back(param);
  }
  return params;
}

}  // namespace ringmta::smtp
