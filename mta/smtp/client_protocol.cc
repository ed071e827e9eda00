// ClientProtocol's input loop, reply dispatch and session setup: greeting,
// EHLO/HELO, STARTTLS, AUTH, RSET, QUIT and closing. Mail transactions live
// in client_transaction.cc.
#include "mta/smtp/client_protocol.h"

#include <utility>

#include "mta/base/check.h"
#include "mta/smtp/client_commands.h"
#include "mta/smtp/client_limits.h"

namespace ringmta::smtp {

ClientProtocol::ClientProtocol(const ClientConfig& config)
    : config_(config), parser_(config.reply_limits), tls_(config.implicit_tls) {
  // The name goes into EHLO verbatim; config validation keeps it sane.
  CHECK(!config_.ehlo_name.empty() && config_.ehlo_name.size() <= limits::kDomainBytesMax);
  CHECK(config_.ehlo_name.find_first_of(" \r\n") == std::string::npos);
  if (config_.credentials) {
    CHECK(!config_.credentials->username.empty());
    CHECK(config_.credentials->username.size() <= limits::kClientCredentialBytesMax);
    CHECK(config_.credentials->password.size() <= limits::kClientCredentialBytesMax);
  }
  expected_.push_back(Expect::kGreeting);
}

void ClientProtocol::Feed(std::string_view bytes) {
  while (!bytes.empty()) {
    // RFC 3207 §6: whatever arrived with or after the 220 to STARTTLS could
    // have been injected by a man in the middle; it is never acted upon.
    if (phase_ == Phase::kClosed || phase_ == Phase::kTlsHandshake) return;
    const ReplyParser::Step step = parser_.Feed(bytes);
    bytes.remove_prefix(step.consumed);
    if (step.kind == ReplyParser::Step::Kind::kError) {
      ProtocolError(ReplyErrorName(step.error));
      return;
    }
    if (step.kind == ReplyParser::Step::Kind::kReply) HandleReply(parser_.TakeReply());
  }
}

ClientAction ClientProtocol::TakeAction() {
  while (!actions_.empty()) {
    const ClientAction action = actions_.front();
    actions_.pop_front();
    if (action == ClientAction::kReady && phase_ != Phase::kReady) continue;
    if (action == ClientAction::kNeedBody && phase_ != Phase::kSendingBody) continue;
    return action;
  }
  return ClientAction::kNone;
}

void ClientProtocol::PushAction(ClientAction action) {
  // At most: kNeedBody, kMessageDone, kReady, kClose from one Feed.
  CHECK(actions_.size() < 8);
  actions_.push_back(action);
}

void ClientProtocol::Send(std::string_view command, Expect expect) {
  output_.append(command);
  output_.append("\r\n");
  expected_.push_back(expect);
}

void ClientProtocol::HandleReply(ServerReply reply) {
  if (expected_.empty()) {
    // RFC 5321 §3.8: a server may send 421 and close at any time, e.g. to
    // an idle pooled connection. Anything else unasked-for is garbage.
    if (reply.code == 421) {
      Close(CloseReason::kServerClosing, std::move(reply), false);
    } else {
      ProtocolError("unsolicited reply");
    }
    return;
  }
  const Expect expect = expected_.front();
  expected_.pop_front();
  if (reply.code == 421 && expect != Expect::kGreeting && expect != Expect::kQuit) {
    Close(CloseReason::kServerClosing, std::move(reply), false);
    return;
  }
  // 3yz only answers DATA (354, §4.3.2) and SASL challenges (334, RFC 4954).
  const bool intermediate_allowed = expect == Expect::kData ||
                                    expect == Expect::kAuthLoginUser ||
                                    expect == Expect::kAuthLoginPassword;
  if (reply.IsIntermediate() && !intermediate_allowed) {
    ProtocolError("unexpected 3xx reply");
    return;
  }
  switch (expect) {
    case Expect::kMail:
    case Expect::kRcpt:
    case Expect::kData:
    case Expect::kDataEnd:
    case Expect::kBdat:
    case Expect::kBdatLast:
      HandleTransactionReply(expect, std::move(reply));
      break;
    default:
      HandleSessionReply(expect, std::move(reply));
      break;
  }
}

void ClientProtocol::HandleSessionReply(Expect expect, ServerReply reply) {
  switch (expect) {
    case Expect::kGreeting:
      OnGreeting(std::move(reply));
      break;
    case Expect::kEhlo:
    case Expect::kHelo:
      OnHello(expect, std::move(reply));
      break;
    case Expect::kStartTls:
      OnStartTlsReply(std::move(reply));
      break;
    case Expect::kAuthLoginUser:
    case Expect::kAuthLoginPassword:
    case Expect::kAuth:
      OnAuthReply(expect, std::move(reply));
      break;
    case Expect::kRset:
      if (txn_) FinishTransaction();  // its outcome was decided before RSET
      // A server that will not reset cannot be trusted with the next message.
      if (reply.IsPositive()) {
        BecomeReady();
      } else {
        Close(CloseReason::kServerClosing, std::move(reply), true);
      }
      break;
    case Expect::kQuit:
      Close(CloseReason::kQuit, std::move(reply), false);
      break;
    default:
      CHECK(false);  // transaction replies never come here
  }
}

// RFC 5321 §3.1: a 554 (or any non-2xx) greeting means "not here"; the
// client should QUIT. After 421 the server closes by itself (§3.8).
void ClientProtocol::OnGreeting(ServerReply reply) {
  if (!reply.IsPositive()) {
    const bool quit = reply.code != 421;
    Close(CloseReason::kHostRefused, std::move(reply), quit);
    return;
  }
  Send("EHLO " + config_.ehlo_name, Expect::kEhlo);
  phase_ = Phase::kAwaitingHello;
}

// RFC 5321 §3.2: a server that does not know EHLO answers 5xx (typically
// 500 or 502); HELO then gives plain SMTP without extensions.
void ClientProtocol::OnHello(Expect expect, ServerReply reply) {
  if (reply.IsPositive()) {
    caps_ = expect == Expect::kEhlo ? ParseEhloReply(reply) : ServerCapabilities();
    AfterHello();
  } else if (expect == Expect::kEhlo && reply.IsPermanent()) {
    Send("HELO " + config_.ehlo_name, Expect::kHelo);
  } else {
    Close(CloseReason::kHostRefused, std::move(reply), true);
  }
}

void ClientProtocol::AfterHello() {
  const bool want_tls = config_.want_starttls || config_.require_starttls;
  if (!tls_ && want_tls && caps_.starttls) {
    Send("STARTTLS", Expect::kStartTls);
    phase_ = Phase::kAwaitingStartTls;
    return;
  }
  if (!tls_ && config_.require_starttls) {
    Close(CloseReason::kTlsUnavailable,
          LocalReply(454, "4.7.10", "TLS required but STARTTLS not offered"), true);
    return;
  }
  StartAuthOrReady();
}

void ClientProtocol::OnStartTlsReply(ServerReply reply) {
  if (reply.IsPositive()) {  // 220 (RFC 3207 §4): handshake now
    phase_ = Phase::kTlsHandshake;
    parser_.Reset();
    PushAction(ClientAction::kStartTls);
  } else if (config_.require_starttls) {
    Close(CloseReason::kTlsUnavailable, std::move(reply), true);
  } else {
    StartAuthOrReady();  // opportunistic TLS: 454 means go on in clear
  }
}

void ClientProtocol::OnTlsEstablished() {
  CHECK(phase_ == Phase::kTlsHandshake);
  tls_ = true;
  // RFC 3207 §4.2: forget all we learned in clear and ask again.
  parser_.Reset();
  caps_ = ServerCapabilities();
  Send("EHLO " + config_.ehlo_name, Expect::kEhlo);
  phase_ = Phase::kAwaitingHello;
}

void ClientProtocol::StartAuthOrReady() {
  if (!config_.credentials) {
    BecomeReady();
    return;
  }
  const ClientCredentials& credentials = *config_.credentials;
  if (config_.auth_requires_tls && !tls_) {
    Close(CloseReason::kAuthFailed,
          LocalReply(454, "4.7.0", "Will not send credentials without TLS"), true);
    return;
  }
  phase_ = Phase::kAwaitingAuth;
  if (caps_.auth_plain) {  // one round trip with the initial response (RFC 4954 §4)
    AppendAuthPlain(credentials.username, credentials.password, &output_);
    expected_.push_back(Expect::kAuth);
  } else if (caps_.auth_login) {
    Send("AUTH LOGIN", Expect::kAuthLoginUser);
  } else {
    Close(CloseReason::kAuthFailed,
          LocalReply(454, "4.7.0", "Server offers neither AUTH PLAIN nor LOGIN"), true);
  }
}

// AUTH LOGIN: 334 asks for the user name, then 334 for the password, each
// sent base64-encoded (the challenge texts are not interpreted; servers
// differ). 235 ends any exchange (RFC 4954 §6); 4xx/5xx refuse it.
void ClientProtocol::OnAuthReply(Expect expect, ServerReply reply) {
  const ClientCredentials& credentials = *config_.credentials;
  if (reply.IsIntermediate()) {
    const bool user = expect == Expect::kAuthLoginUser;
    AppendBase64Line(user ? credentials.username : credentials.password, &output_);
    expected_.push_back(user ? Expect::kAuthLoginPassword : Expect::kAuth);
  } else if (!reply.IsPositive()) {
    Close(CloseReason::kAuthFailed, std::move(reply), true);
  } else if (expect != Expect::kAuth) {
    ProtocolError("AUTH accepted before the credentials were sent");
  } else {
    authenticated_ = true;
    BecomeReady();
  }
}

void ClientProtocol::BecomeReady() {
  phase_ = Phase::kReady;
  PushAction(ClientAction::kReady);
}

void ClientProtocol::Quit() {
  CHECK(phase_ == Phase::kReady);
  Send("QUIT", Expect::kQuit);
  phase_ = Phase::kQuitting;
}

void ClientProtocol::Close(CloseReason reason, ServerReply reply, bool send_quit) {
  if (phase_ == Phase::kClosed) return;
  if (txn_) AbandonTransaction(reply);
  if (send_quit) output_.append("QUIT\r\n");
  phase_ = Phase::kClosed;
  expected_.clear();
  close_reason_ = reason;
  close_reply_ = std::move(reply);
  PushAction(ClientAction::kClose);
}

// No QUIT: after garbage the server's state is unknown, and the host is
// treated as failed anyway (X.5.0: other protocol status, RFC 3463 §3.6).
void ClientProtocol::ProtocolError(std::string_view what) {
  protocol_error_ = what;
  Close(CloseReason::kProtocolError, LocalReply(451, "4.5.0", "Protocol error from server"),
        false);
}

void ClientProtocol::OnTransportFailure(TransportFailure failure) {
  if (phase_ == Phase::kClosed) return;
  output_.clear();  // nothing more can be sent
  ServerReply reply;
  switch (failure) {
    case TransportFailure::kTimeout:
      reply = LocalReply(451, "4.4.2", "Timed out waiting for the server");
      break;
    case TransportFailure::kConnectionLost:
      reply = LocalReply(451, "4.4.2", "Connection lost");
      break;
    case TransportFailure::kSendFailed:
      reply = LocalReply(451, "4.4.2", "Connection lost while sending");
      // The end of the body was queued but never left: the server cannot
      // have the message, so it is a plain deferral, not "uncertain".
      if (phase_ == Phase::kAwaitingFinalReply) phase_ = Phase::kSendingBody;
      break;
    case TransportFailure::kTlsFailed:
      reply = LocalReply(454, "4.7.0", "TLS handshake failed");
      break;
  }
  Close(CloseReason::kTransportFailure, std::move(reply), false);
}

std::optional<MessageResult> ClientProtocol::TakeMessageResult() {
  return std::exchange(result_, std::nullopt);
}

}  // namespace ringmta::smtp
