// The SMTP client state machine for one outbound connection carrying many
// messages (RFC 5321 with EHLO/HELO, STARTTLS, AUTH PLAIN/LOGIN, PIPELINING,
// SIZE, 8BITMIME, SMTPUTF8, DSN, CHUNKING): server bytes in, bytes to send,
// actions and per-recipient results out (DESIGN §3). Not here: sockets, TLS,
// timers, DNS, retry policy (mta/relay's outbound session owns those).
#ifndef RINGMTA_MTA_SMTP_CLIENT_PROTOCOL_H_
#define RINGMTA_MTA_SMTP_CLIENT_PROTOCOL_H_

#include <deque>
#include <optional>
#include <string>
#include <string_view>

#include "mta/smtp/client_body.h"
#include "mta/smtp/client_capabilities.h"
#include "mta/smtp/client_message.h"
#include "mta/smtp/data_codec.h"
#include "mta/smtp/reply_parser.h"

namespace ringmta::smtp {

struct ClientCredentials {
  std::string username;  // 1..kClientCredentialBytesMax bytes
  std::string password;  // 0..kClientCredentialBytesMax bytes
};

struct ClientConfig {
  std::string ehlo_name = "localhost";  // our name in EHLO/HELO
  bool want_starttls = false;     // STARTTLS when offered; else go on in clear
  bool require_starttls = false;  // no TLS -> close (kTlsUnavailable)
  bool implicit_tls = false;      // the connection is TLS already (port 465)
  bool use_pipelining = true;     // RFC 2920 when offered
  bool use_bdat = true;           // BDAT (RFC 3030) when CHUNKING is offered
  std::optional<ClientCredentials> credentials;  // AUTH to a smarthost
  // Credentials never cross a connection that is not TLS: a man in the
  // middle could strip STARTTLS from the EHLO reply and read them.
  bool auth_requires_tls = true;
  ReplyParserOptions reply_limits;
};

// What the I/O layer must do next besides sending output().
enum class ClientAction {
  kNone,
  kStartTls,     // send output(), run the TLS handshake, call OnTlsEstablished
  kNeedBody,     // SupplyBody while phase() == kSendingBody, sending output()
  kMessageDone,  // TakeMessageResult() holds the outcome; kReady or kClose follows
  kReady,        // StartMessage or Quit may be called
  kClose,        // send output(), then close; close_reason() says why
};

enum class CloseReason {
  kNone,
  kQuit,              // we sent QUIT (Quit()) and the server answered
  kHostRefused,       // greeting or EHLO/HELO refused: try the next MX host
  kTlsUnavailable,    // require_starttls, but STARTTLS not offered or refused
  kAuthFailed,        // AUTH refused or impossible (close_reply() says which)
  kServerClosing,     // 421 (RFC 5321 §3.8), or a refused RSET
  kProtocolError,     // garbage or an unexpected reply: treat the host as failed
  kTransportFailure,  // OnTransportFailure: timeout, lost connection, TLS failure
};

// kSendFailed: writing failed, so what was queued (the final dot among it)
// did not all leave; kConnectionLost: the peer went away while we waited.
enum class TransportFailure { kTimeout, kConnectionLost, kSendFailed, kTlsFailed };

// Driving it (one object per connection, on one shard):
//   ClientProtocol client(config);       // after connect; wait for the greeting
//   on bytes received (decrypted):  client.Feed(bytes)   (consumes everything)
//   after every call: send output() and clear it; then act on each TakeAction()
//   until kNone: kStartTls -> handshake, OnTlsEstablished / OnTransportFailure;
//   kReady -> StartMessage(next) or Quit(); kNeedBody -> while phase() is
//   kSendingBody: SupplyBody(piece, last) and send output(); kMessageDone ->
//   TakeMessageResult(); kClose -> send output(), close.
//   Timers are the caller's: on expiry call OnTransportFailure(kTimeout);
//   phase() == kAwaitingFinalReply then means "delivery uncertain".
class ClientProtocol {
 public:
  enum class Phase {
    kAwaitingGreeting,
    kAwaitingHello,       // EHLO or HELO sent
    kAwaitingStartTls,    // STARTTLS sent
    kTlsHandshake,        // the I/O layer runs the handshake
    kAwaitingAuth,        // AUTH exchange in progress
    kReady,               // idle between messages
    kAwaitingReplies,     // MAIL/RCPT/DATA replies (or those left after a failure)
    kSendingBody,         // the caller streams the body with SupplyBody
    kAwaitingChunkReply,  // BDAT: too many chunks unanswered; wait
    kAwaitingFinalReply,  // the end of the body is sent; its reply decides
    kResetting,           // RSET sent after a failed message; its result follows
    kQuitting,            // QUIT sent
    kClosed,
  };

  explicit ClientProtocol(const ClientConfig& config);
  ClientProtocol(const ClientProtocol&) = delete;
  ClientProtocol& operator=(const ClientProtocol&) = delete;

  // Consumes all of `bytes`. Bytes after a STARTTLS 220, during the
  // handshake or after close are discarded (RFC 3207 §6).
  void Feed(std::string_view bytes);
  // Bytes to send; the caller erases what it sent.
  std::string& output() { return output_; }
  // The next action, oldest first; kNone when there is none. Never stale: a
  // kReady or kNeedBody overtaken by later input is dropped.
  ClientAction TakeAction();
  Phase phase() const { return phase_; }
  bool ready_for_message() const { return phase_ == Phase::kReady; }

  // Starts a mail transaction (phase kReady; `message` must pass
  // ValidateOutboundMessage). A message this server cannot take intact
  // (RefuseBeforeSending) ends at once with kMessageDone and sends nothing.
  void StartMessage(OutboundMessage message);
  // The next piece of the body (phase kSendingBody); `last` ends it. DATA
  // dot-stuffs and terminates it; BDAT sends each piece as one chunk. Bare
  // CR or LF in a piece goes out as CRLF (the queue stores CRLF bodies).
  void SupplyBody(std::string_view piece, bool last);
  // The handshake after kStartTls succeeded: EHLO again (RFC 3207 §4.2).
  void OnTlsEstablished();
  // The connection failed under us; ends any message and closes.
  void OnTransportFailure(TransportFailure failure);
  // Sends QUIT (phase kReady); kClose follows the server's answer.
  void Quit();

  std::optional<MessageResult> TakeMessageResult();
  const ServerCapabilities& capabilities() const { return caps_; }
  bool tls() const { return tls_; }
  bool authenticated() const { return authenticated_; }
  CloseReason close_reason() const { return close_reason_; }
  // The reply behind close_reason() (ours if `local`; the 221 for kQuit).
  const ServerReply& close_reply() const { return close_reply_; }
  // For kProtocolError: what was wrong, our text (never peer bytes).
  std::string_view protocol_error() const { return protocol_error_; }

 private:
  // The reply each command sent is waiting for, in order (RFC 2920 §3.2).
  enum class Expect {
    kGreeting, kEhlo, kHelo, kStartTls, kAuthLoginUser, kAuthLoginPassword, kAuth,
    kMail, kRcpt, kData, kDataEnd, kBdat, kBdatLast, kRset, kQuit,
  };

  // One message from StartMessage to its result.
  struct Transaction {
    // User-provided so std::optional can see it is constructible inside this
    // class (clang checks before the member initialisers are parsed).
    Transaction() {}
    OutboundMessage message;
    MessageResult result;
    bool pipelined = false;
    bool bdat = false;
    size_t rcpts_sent = 0;
    size_t rcpt_replies = 0;
    size_t accepted = 0;
    bool mail_refused = false;
    bool failed = false;  // outcome decided early: no more body; RSET after the replies
    size_t chunks_in_flight = 0;
    DataEncoder data_encoder;
    BdatEncoder bdat_encoder;
  };

  // Session setup (client_protocol.cc).
  void HandleReply(ServerReply reply);
  void HandleSessionReply(Expect expect, ServerReply reply);
  void OnGreeting(ServerReply reply);
  void OnHello(Expect expect, ServerReply reply);
  void AfterHello();
  void OnStartTlsReply(ServerReply reply);
  void StartAuthOrReady();
  void OnAuthReply(Expect expect, ServerReply reply);
  void BecomeReady();
  void Send(std::string_view command, Expect expect);
  void Close(CloseReason reason, ServerReply reply, bool send_quit);
  void ProtocolError(std::string_view what);
  void PushAction(ClientAction action);

  // Mail transactions (client_transaction.cc).
  void HandleTransactionReply(Expect expect, ServerReply reply);
  void OnMailReply(const ServerReply& reply);
  void OnRcptReply(ServerReply reply);
  void AfterEnvelopeReplies();
  void OnDataReply(ServerReply reply);
  void OnChunkReply(Expect expect, ServerReply reply);
  void FailTransaction(const ServerReply& reply);
  void SendNextRcpt();
  void StartBody();
  void SendBdatChunk(std::string_view piece, bool last);
  void FinishTransaction();
  void AbandonTransaction(const ServerReply& reply);

  const ClientConfig config_;
  ReplyParser parser_;
  std::string output_;
  std::deque<Expect> expected_;
  std::deque<ClientAction> actions_;
  Phase phase_ = Phase::kAwaitingGreeting;
  ServerCapabilities caps_;
  bool tls_ = false;
  bool authenticated_ = false;
  std::optional<Transaction> txn_;
  std::optional<MessageResult> result_;
  CloseReason close_reason_ = CloseReason::kNone;
  ServerReply close_reply_;
  std::string_view protocol_error_;
  std::string chunk_;  // BDAT chunk being framed; reused to save allocations
};

}  // namespace ringmta::smtp

#endif  // RINGMTA_MTA_SMTP_CLIENT_PROTOCOL_H_
