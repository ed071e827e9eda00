// The SMTP server state machine (RFC 5321 with PIPELINING, SIZE, 8BITMIME,
// ENHANCEDSTATUSCODES, SMTPUTF8, CHUNKING, DSN, STARTTLS): bytes in, replies
// and actions out; no sockets, no clock, no threads (DESIGN §3). Not here:
// TLS, timers, the queue, AUTH credentials or relay rules (behind seams).
// AUTH's SASL exchange is in server_auth.h.
#ifndef RINGMTA_MTA_SMTP_SERVER_PROTOCOL_H_
#define RINGMTA_MTA_SMTP_SERVER_PROTOCOL_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "mta/base/limits.h"
#include "mta/smtp/command.h"
#include "mta/smtp/data_codec.h"
#include "mta/smtp/envelope.h"
#include "mta/smtp/line_splitter.h"
#include "mta/smtp/message_sink.h"
#include "mta/smtp/reply.h"
#include "mta/smtp/server_auth.h"
#include "mta/smtp/smtp_limits.h"

namespace ringmta::smtp {

// Config may only narrow the bounds of mta/base/limits.h.
struct ServerConfig {
  std::string hostname = "localhost";  // in the greeting and EHLO reply
  uint64_t message_bytes_max = ringmta::limits::kMessageBytesMax;  // SIZE
  int recipients_max = ringmta::limits::kSmtpRecipientsMax;
  int errors_max = ringmta::limits::kSmtpErrorsMax;  // then 421 and close
  // Junk commands between two accepted messages; one more is 421 and close.
  int junk_commands_max = ringmta::limits::kSmtpJunkCommandsMax;
  int transactions_max = limits::kTransactionsPerConnectionMax;  // then 421
  size_t command_line_bytes_max = ringmta::limits::kSmtpCommandLineBytesMax;
  size_t text_line_bytes_max = ringmta::limits::kSmtpTextLineBytesMax;
  bool advertise_starttls = false;
  // AUTH PLAIN LOGIN (RFC 4954), when an Authenticator is also given.
  bool auth_enabled = false;
  // RFC 4954 §4 / RFC 4616 §6: PLAIN and LOGIN send the password in clear,
  // so AUTH is offered only under TLS unless this allows it.
  bool auth_plaintext_allowed = false;
  // The MSA role (RFC 6409 §4.3): MAIL needs a successful AUTH first.
  bool auth_required = false;
  int auth_failures_max = 3;  // failed AUTHs, then 421 and close
  // Bare CR/LF in DATA/BDAT, and bare LF ending a command (reject: 500).
  BareLinePolicy bare_line_policy = BareLinePolicy::kReject;
};

// The negotiated TLS parameters, for the Received: header (RFC 5321 §4.4
// allows them as a comment). Empty strings when the I/O layer has none.
struct TlsInfo {
  std::string version;  // "TLSv1.3"
  std::string cipher;   // "TLS_AES_256_GCM_SHA384"
};

struct PeerInfo {
  explicit PeerInfo(std::string address_in, bool tls_in = false, TlsInfo tls_info_in = {})
      : address(std::move(address_in)), tls(tls_in), tls_info(std::move(tls_info_in)) {}

  std::string address;  // client IP as text, for the Received: header
  bool tls = false;     // implicit TLS (port 465): no STARTTLS offered
  TlsInfo tls_info;     // its parameters, when tls
};

// What the I/O layer is waiting for, so it can apply that stage's timeout
// (RFC 5321 §4.5.3.2): a command line, or more octets of a message body.
enum class InputStage { kCommand, kBody };

// What the I/O layer must do besides sending output().
enum class Action {
  kNone,
  kCommit,    // make the begun message durable, then call OnCommitted
  kStartTls,  // send output(), then run the TLS handshake, then OnTlsEstablished
  kClose,     // send output(), then close the connection
};

// How the I/O layer drives it (one object per connection, one shard):
//
//   ServerProtocol server(config, &queue_sink, peer, &relay_policy);
//   server.Start();                       // then send output()
//   on bytes received:  n = server.Feed(buffer); keep buffer[n..] for later
//   after every call:   send output() and clear it; act on TakeAction():
//     kCommit   -> group-commit the message; later server.OnCommitted(status),
//                  send output(), and Feed the kept bytes again
//     kStartTls -> drop the kept bytes, handshake, server.OnTlsEstablished()
//     kClose    -> flush output(), close
//   Feed may also stop early because output() is over its bound: send it
//   and Feed the kept bytes again. Timers call OnTimeout; drain OnShutdown.
class ServerProtocol {
 public:
  // `sink`, `policy` (nullable: accept all) and `authenticator` (nullable:
  // no AUTH) must outlive this object.
  ServerProtocol(const ServerConfig& config, MessageSink* sink, PeerInfo peer,
                 RecipientPolicy* policy = nullptr, Authenticator* authenticator = nullptr);
  ~ServerProtocol();
  ServerProtocol(const ServerProtocol&) = delete;
  ServerProtocol& operator=(const ServerProtocol&) = delete;

  // Queues the 220 greeting. Call once, before Feed.
  void Start();
  // Consumes as many bytes as it can and returns how many. It stops early
  // while a commit is pending or output() is over its bound (send it, then
  // feed the rest again). After kStartTls or kClose it discards everything.
  size_t Feed(std::string_view bytes);
  // The commit requested by kCommit finished: 250, or 451/452 per status.
  void OnCommitted(const absl::Status& status);
  // The TLS handshake after STARTTLS succeeded: the session starts over and
  // needs a new EHLO (RFC 3207 §4.2). `info` goes into later envelopes.
  void OnTlsEstablished(const TlsInfo& info = {});
  void OnTimeout();   // 421 4.4.2 and close (RFC 5321 §4.5.3.2)
  void OnShutdown();  // 421 4.3.2 and close

  // Bytes to send; the caller erases what it sent.
  std::string& output() { return output_; }
  // The pending action (at most one), which is then cleared.
  Action TakeAction();
  bool closed() const { return phase_ == Phase::kClosed; }
  // Inside DATA or a BDAT chunk the next input is body, else a command.
  InputStage input_stage() const {
    return phase_ == Phase::kData || phase_ == Phase::kBdat ? InputStage::kBody
                                                            : InputStage::kCommand;
  }
  // Between MAIL and the end of the transaction (its reply, or RSET): a
  // drain lets it finish before saying 421.
  bool in_transaction() const {
    return in_transaction_ || phase_ == Phase::kData || phase_ == Phase::kBdat ||
           phase_ == Phase::kCommitPending;
  }
  // The identity a successful AUTH proved, or empty.
  const std::string& auth_user() const { return auth_user_; }

 private:
  enum class Phase { kCommand, kData, kBdat, kCommitPending, kTlsPending, kClosed };
  enum class Hello { kNone, kHelo, kEhlo };

  size_t FeedCommand(std::string_view bytes);
  size_t FeedData(std::string_view bytes);
  size_t FeedBdat(std::string_view bytes);
  void HandleLine(std::string_view line, bool bare_lf);
  void Dispatch(const Command& command);
  // Counts a command that moves no mail forward; false when that was one
  // too many and the session is closing.
  bool AcceptJunk();

  // Command handlers (server_commands.cc).
  void HandleHello(std::string_view argument, bool extended);
  void HandleMail(std::string_view argument);
  void HandleRcpt(std::string_view argument);
  void HandleData(std::string_view argument);
  void HandleBdat(std::string_view argument);
  void HandleStartTls(std::string_view argument);
  void HandleAuth(std::string_view argument);
  void ContinueAuth(SaslStep step);
  void FailAuth();
  bool AuthOffered() const;
  std::optional<Reply> CheckBdatAllowed();

  void AppendBody(std::string_view piece);
  void FinishBdatChunk();
  void EndMessage();
  void ResetTransaction();
  void AbortSink();
  void Send(const Reply& reply);
  void SendError(const Reply& reply);  // a client mistake: counts toward errors_max
  void Close(const Reply& reply);

  const ServerConfig config_;
  MessageSink* const sink_;
  RecipientPolicy* const policy_;
  Authenticator* const authenticator_;
  const PeerInfo peer_;
  LineSplitter splitter_;
  std::string output_;
  Phase phase_ = Phase::kCommand;
  Action action_ = Action::kNone;
  bool started_ = false;
  bool tls_ = false;
  TlsInfo tls_info_;
  Hello hello_ = Hello::kNone;
  std::string helo_name_;
  int errors_ = 0;
  int junk_commands_ = 0;  // since the last accepted message
  int transactions_ = 0;  // accepted MAIL commands

  // AUTH (RFC 4954): the exchange in progress, if any, and its outcome.
  std::optional<SaslExchange> sasl_;
  std::string auth_user_;
  int auth_failures_ = 0;

  // The mail transaction (RFC 5321 §3.3), from MAIL to its end or RSET.
  bool in_transaction_ = false;
  Envelope envelope_;
  bool sink_open_ = false;  // Begin succeeded; neither committed nor aborted
  bool rcpt_seen_ = false;  // any RCPT, accepted or not: picks 503 or 554
  bool used_bdat_ = false;  // DATA is out of sequence now (RFC 3030 §3)
  std::optional<DataDecoder> decoder_;
  uint64_t body_bytes_ = 0;
  bool size_exceeded_ = false;
  absl::Status sink_status_;

  // The BDAT chunk being read (RFC 3030 §2).
  uint64_t bdat_remaining_ = 0;
  uint64_t bdat_size_ = 0;
  bool bdat_last_ = false;
  std::optional<Reply> bdat_refusal_;  // read the chunk, discard it, send this
};

}  // namespace ringmta::smtp

#endif  // RINGMTA_MTA_SMTP_SERVER_PROTOCOL_H_
