// ServerProtocol's command handlers: one function per verb, each checking
// sequence (503), syntax (501) and parameters (555) in that order, RFC 5321
// §4.1.1 and §4.3.2. The input loop is in server_protocol.cc.
#include <string.h>  // explicit_bzero

#include "mta/base/check.h"
#include "mta/base/log.h"
#include "mta/smtp/address.h"
#include "mta/smtp/mail_params.h"
#include "mta/smtp/server_protocol.h"
#include "mta/smtp/smtp_limits.h"

namespace ringmta::smtp {
namespace {

const Reply kNeedHello{503, "5.5.1", "Error: send HELO/EHLO first"};
const Reply kNeedMail{503, "5.5.1", "Error: need MAIL command"};
// RFC 5321 §3.3: 503 if no RCPT was given, 554 if all were refused.
const Reply kNeedRcpt{503, "5.5.1", "Error: need RCPT command"};
const Reply kNoRecipients{554, "5.5.1", "Error: no valid recipients"};
const Reply kNoArguments{501, "5.5.4", "Syntax error: no arguments allowed"};
const Reply kNeedsSmtpUtf8{553, "5.6.7", "Non-ASCII address requires SMTPUTF8"};  // RFC 6531 §3.7.4.1

bool IsJunk(Verb verb) {
  return verb == Verb::kRset || verb == Verb::kNoop || verb == Verb::kVrfy ||
         verb == Verb::kExpn || verb == Verb::kHelp || verb == Verb::kUnknown;
}

}  // namespace

void ServerProtocol::HandleLine(std::string_view line, bool bare_lf) {
  if (sasl_) {  // inside AUTH every line is a response (RFC 4954 §4)
    if (bare_lf && config_.bare_line_policy == BareLinePolicy::kReject) {
      sasl_.reset();
      return SendError({500, "5.5.2", "Error: bare <LF> received"});
    }
    return ContinueAuth(sasl_->Respond(line));
  }
  // RFC 5321 §2.3.8: lines end in CRLF. Accepting a bare LF here is a policy
  // choice, tied to the DATA policy so one knob governs both.
  if (bare_lf && config_.bare_line_policy == BareLinePolicy::kReject) {
    SendError({500, "5.5.2", "Error: bare <LF> received"});
    return;
  }
  if (LooksLikeHttpRequest(line)) {
    return Close({421, "4.7.0", config_.hostname + " Error: this is an SMTP server, not HTTP"});
  }
  const absl::StatusOr<Command> command = ParseCommand(line, config_.command_line_bytes_max);
  if (!command.ok()) {
    SendError({500, "5.5.2", "Error: command syntax"});
    return;
  }
  Dispatch(*command);
}

void ServerProtocol::Dispatch(const Command& command) {
  // Verbs that move no mail forward are junk (DESIGN §3), on top of
  // whatever error they may also be.
  if (IsJunk(command.verb) && !AcceptJunk()) return;
  const std::string_view arg = command.argument;
  switch (command.verb) {
    case Verb::kHelo: return HandleHello(arg, /*extended=*/false);
    case Verb::kEhlo: return HandleHello(arg, /*extended=*/true);
    case Verb::kMail: return HandleMail(arg);
    case Verb::kRcpt: return HandleRcpt(arg);
    case Verb::kData: return HandleData(arg);
    case Verb::kBdat: return HandleBdat(arg);
    case Verb::kStartTls: return HandleStartTls(arg);
    case Verb::kAuth: return HandleAuth(arg);
    case Verb::kRset:
      if (!arg.empty()) return SendError(kNoArguments);
      ResetTransaction();
      return Send({250, "2.0.0", "OK"});
    case Verb::kNoop:  // §4.1.1.9: a parameter is allowed and ignored
      return Send({250, "2.0.0", "OK"});
    case Verb::kQuit:
      if (!arg.empty()) return SendError(kNoArguments);
      return Close({221, "2.0.0", config_.hostname + " closing connection"});
    case Verb::kVrfy:  // §3.5.3: we do not disclose mailboxes
      if (arg.empty()) return SendError({501, "5.5.4", "Syntax: VRFY address"});
      return Send({252, "2.5.0", "Cannot VRFY user, but will accept message"});
    case Verb::kExpn:
      return Send({502, "5.5.1", "EXPN not available"});
    case Verb::kHelp:
      return Send({214, "2.0.0", "See RFC 5321"});
    case Verb::kUnknown:
      return SendError({500, "5.5.2", "Error: command not recognized"});
  }
}

// Floods of NOOP, RSET, VRFY and unknown verbs cost nothing per command but
// hold a connection slot for ever; Postfix bounds them the same way. The
// allowance is renewed by every accepted message (OnCommitted).
bool ServerProtocol::AcceptJunk() {
  if (++junk_commands_ <= config_.junk_commands_max) return true;
  Close({421, "4.7.0", config_.hostname + " Error: too many junk commands"});
  return false;
}

// EHLO/HELO (§4.1.1.1) also reset any transaction (§4.1.4).
void ServerProtocol::HandleHello(std::string_view argument, bool extended) {
  if (argument.empty()) {
    return SendError({501, "5.5.4", extended ? "Syntax: EHLO hostname" : "Syntax: HELO hostname"});
  }
  ResetTransaction();
  hello_ = extended ? Hello::kEhlo : Hello::kHelo;
  // Kept for the Received: header, so made printable and bounded.
  helo_name_ = SanitizePeerText(argument, limits::kHeloBytesMax);
  if (!extended) return Send({250, "", config_.hostname});
  std::vector<std::string> lines = {
      config_.hostname,
      "PIPELINING",                                           // RFC 2920
      "SIZE " + std::to_string(config_.message_bytes_max),    // RFC 1870
      "8BITMIME",                                             // RFC 6152
      "ENHANCEDSTATUSCODES",                                  // RFC 2034
      "SMTPUTF8",                                             // RFC 6531
      "CHUNKING",                                             // RFC 3030
      "DSN",                                                  // RFC 3461
  };
  if (config_.advertise_starttls && !tls_) lines.push_back("STARTTLS");  // RFC 3207
  if (AuthOffered()) lines.push_back("AUTH PLAIN LOGIN");                // RFC 4954
  AppendMultilineReply(250, "", lines, &output_);
}

void ServerProtocol::HandleMail(std::string_view argument) {
  if (hello_ == Hello::kNone) return SendError(kNeedHello);
  if (in_transaction_) return SendError({503, "5.5.1", "Error: nested MAIL command"});
  if (config_.auth_required && auth_user_.empty()) {  // RFC 4954 §6, RFC 6409 §4.3
    return SendError({530, "5.7.0", "Authentication required"});
  }
  if (transactions_ >= config_.transactions_max) {
    return Close({421, "4.7.0", config_.hostname + " Error: too many messages, reconnect"});
  }
  const absl::StatusOr<PathArgument> parsed = ParsePathArgument(argument, "FROM:");
  if (!parsed.ok()) return SendError({501, "5.5.4", "Syntax: MAIL FROM:<address>"});
  const absl::StatusOr<Path> path = ParseReversePath(parsed->path);
  if (!path.ok()) return SendError({501, "5.1.7", "Bad sender address syntax"});
  if (!parsed->params.empty() && hello_ != Hello::kEhlo) {
    return SendError({555, "5.5.4", "ESMTP parameters need EHLO"});
  }
  Envelope envelope;
  if (std::optional<Reply> refusal =
          ApplyMailParams(parsed->params, {config_.message_bytes_max, AuthOffered()},
                          &envelope)) {
    return refusal->code == 552 ? Send(*refusal) : SendError(*refusal);
  }
  if (path->has_non_ascii && !envelope.smtputf8) return SendError(kNeedsSmtpUtf8);
  envelope.helo = helo_name_;
  envelope.client_address = peer_.address;
  envelope.esmtp = hello_ == Hello::kEhlo;
  envelope.tls = tls_;
  if (tls_) {
    envelope.tls_version = tls_info_.version;
    envelope.tls_cipher = tls_info_.cipher;
  }
  envelope.auth_user = auth_user_;
  envelope.mail_from = path->Mailbox();
  envelope_ = std::move(envelope);
  in_transaction_ = true;
  ++transactions_;
  Send({250, "2.1.0", "Sender OK"});
}

void ServerProtocol::HandleRcpt(std::string_view argument) {
  if (!in_transaction_) return SendError(kNeedMail);
  if (used_bdat_) return SendError({503, "5.5.1", "Error: RCPT after BDAT"});
  rcpt_seen_ = true;
  const absl::StatusOr<PathArgument> parsed = ParsePathArgument(argument, "TO:");
  if (!parsed.ok()) return SendError({501, "5.5.4", "Syntax: RCPT TO:<address>"});
  const absl::StatusOr<Path> path = ParseForwardPath(parsed->path);
  if (!path.ok()) return SendError({501, "5.1.3", "Bad recipient address syntax"});
  if (path->has_non_ascii && !envelope_.smtputf8) return SendError(kNeedsSmtpUtf8);
  if (envelope_.recipients.size() >= static_cast<size_t>(config_.recipients_max)) {
    return Send({452, "4.5.3", "Too many recipients"});  // §4.5.3.1.10: not an error
  }
  Recipient recipient;
  recipient.mailbox = path->Mailbox();
  if (std::optional<Reply> refusal = ApplyRcptParams(parsed->params, &recipient)) {
    return SendError(*refusal);
  }
  if (policy_ != nullptr) {
    const absl::Status verdict = policy_->CheckRecipient(envelope_, recipient);
    if (!verdict.ok()) {
      // A permanent refusal counts as an error, which bounds relay probing.
      const Reply refusal = ReplyForStatus(verdict);
      return refusal.IsPermanent() ? SendError(refusal) : Send(refusal);
    }
  }
  envelope_.recipients.push_back(std::move(recipient));
  Send({250, "2.1.5", "Recipient OK"});
}

void ServerProtocol::HandleData(std::string_view argument) {
  if (!argument.empty()) return SendError(kNoArguments);
  if (!in_transaction_) return SendError(kNeedMail);
  if (used_bdat_) return SendError({503, "5.5.1", "Error: DATA after BDAT"});  // RFC 3030 §3
  if (!rcpt_seen_) return SendError(kNeedRcpt);
  if (envelope_.recipients.empty()) return Send(kNoRecipients);
  const absl::Status begun = sink_->Begin(envelope_);
  if (!begun.ok()) {
    ResetTransaction();
    return Send(ReplyForStatus(begun));
  }
  sink_open_ = true;
  CHECK(!splitter_.has_partial());  // every byte after this line is body
  decoder_.emplace(DataDecoder::Framing::kDotStuffed, config_.bare_line_policy,
                   config_.text_line_bytes_max);
  phase_ = Phase::kData;
  Send({354, "", "End data with <CR><LF>.<CR><LF>"});  // RFC 3463 has no class 3
}

// BDAT size [LAST] (RFC 3030 §2). A chunk is always read to its end, even
// when refused: its bytes must never be taken for commands.
void ServerProtocol::HandleBdat(std::string_view argument) {
  const size_t space = argument.find(' ');
  std::string_view rest = space == std::string_view::npos ? "" : argument.substr(space + 1);
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  const std::optional<uint64_t> size = ParseDecimal(argument.substr(0, space));
  if (!size || (!rest.empty() && !EqualsIgnoreCase(rest, "LAST"))) {
    // The chunk length is unknown, so what follows will be read as commands;
    // that is the client's own stream, and the error counter bounds it.
    return SendError({501, "5.5.4", "Syntax: BDAT size [LAST]"});
  }
  CHECK(!splitter_.has_partial());
  bdat_size_ = *size;
  bdat_remaining_ = *size;
  bdat_last_ = !rest.empty();
  bdat_refusal_ = CheckBdatAllowed();
  phase_ = Phase::kBdat;
  if (bdat_remaining_ == 0) FinishBdatChunk();  // "BDAT 0 LAST" ends a message
}

// Sequence checks for a BDAT chunk; the first chunk also begins the message.
std::optional<Reply> ServerProtocol::CheckBdatAllowed() {
  if (!in_transaction_) return kNeedMail;
  if (hello_ != Hello::kEhlo) return Reply{503, "5.5.1", "Error: BDAT needs EHLO"};  // RFC 3030 §2
  if (!rcpt_seen_) return kNeedRcpt;
  if (envelope_.recipients.empty()) return kNoRecipients;
  if (used_bdat_) return std::nullopt;
  const absl::Status begun = sink_->Begin(envelope_);
  if (!begun.ok()) return ReplyForStatus(begun);
  sink_open_ = true;
  used_bdat_ = true;
  decoder_.emplace(DataDecoder::Framing::kRaw, config_.bare_line_policy,
                   config_.text_line_bytes_max);
  return std::nullopt;
}

// STARTTLS (RFC 3207). Whatever the client pipelined after it is discarded
// (§6); after the handshake the session starts over (§4.2).
void ServerProtocol::HandleStartTls(std::string_view argument) {
  if (!config_.advertise_starttls) return SendError({502, "5.5.1", "STARTTLS not available"});
  if (tls_) return SendError({503, "5.5.1", "Error: TLS already active"});
  if (!argument.empty()) return SendError({501, "5.5.4", "Syntax: STARTTLS"});
  ResetTransaction();
  splitter_.Reset();
  Send({220, "2.0.0", "Ready to start TLS"});
  phase_ = Phase::kTlsPending;
  action_ = Action::kStartTls;
}

bool ServerProtocol::AuthOffered() const {
  return config_.auth_enabled && authenticator_ != nullptr &&
         (tls_ || config_.auth_plaintext_allowed);
}

// AUTH mechanism [initial-response] (RFC 4954 §4). The exchange itself is
// SaslExchange's; here are the sequence rules and the outcome's replies.
void ServerProtocol::HandleAuth(std::string_view argument) {
  if (!config_.auth_enabled || authenticator_ == nullptr) {
    return SendError({502, "5.5.1", "AUTH not available"});
  }
  if (hello_ != Hello::kEhlo) return SendError({503, "5.5.1", "Error: send EHLO first"});
  if (!auth_user_.empty()) return SendError({503, "5.5.1", "Error: already authenticated"});
  if (in_transaction_) {
    return SendError({503, "5.5.1", "Error: AUTH not permitted during a mail transaction"});
  }
  if (!AuthOffered()) {  // RFC 4954 §6: the mechanisms need TLS here
    return SendError({538, "5.7.11", "Encryption required for requested authentication mechanism"});
  }
  const size_t space = argument.find(' ');
  const std::string_view name = argument.substr(0, space);
  if (name.empty()) return SendError({501, "5.5.4", "Syntax: AUTH mechanism"});
  const std::optional<SaslMechanism> mechanism = ParseSaslMechanism(name);
  if (!mechanism) return SendError({504, "5.5.4", "Unrecognized authentication type"});
  std::optional<std::string_view> initial;
  if (space != std::string_view::npos) initial = argument.substr(space + 1);
  sasl_.emplace(*mechanism);
  ContinueAuth(sasl_->Start(initial));
}

void ServerProtocol::ContinueAuth(SaslStep step) {
  switch (step.kind) {
    case SaslStep::Kind::kChallenge:
      return Send({334, "", step.challenge});  // no enhanced code: RFC 4954 §4
    case SaslStep::Kind::kCancelled:
      sasl_.reset();
      return SendError({501, "5.0.0", "Authentication cancelled"});
    case SaslStep::Kind::kMalformed:
      sasl_.reset();
      return SendError({501, "5.5.2", "Cannot decode authentication response"});
    case SaslStep::Kind::kRefused:
      return FailAuth();
    case SaslStep::Kind::kCredentials:
      break;
  }
  sasl_.reset();
  const absl::Status verdict = authenticator_->Check(step.user, step.password);
  // Best effort: do not leave the password in freed memory.
  explicit_bzero(step.password.data(), step.password.size());
  if (verdict.ok()) {
    auth_user_ = std::move(step.user);
    return Send({235, "2.7.0", "Authentication successful"});
  }
  if (verdict.code() == absl::StatusCode::kUnauthenticated) return FailAuth();
  Send({454, "4.7.0", "Temporary authentication failure"});
}

// RFC 4954 §6: 535 5.7.8. Failures have their own limit, tighter than the
// error limit, because each one may be a password guess.
void ServerProtocol::FailAuth() {
  sasl_.reset();
  Send({535, "5.7.8", "Authentication credentials invalid"});
  if (++auth_failures_ >= config_.auth_failures_max) {
    Close({421, "4.7.0", config_.hostname + " Error: too many failed authentications"});
  }
}

}  // namespace ringmta::smtp
