// ServerProtocol's input loop, body streaming, message end and lifecycle
// events. The command handlers live in server_commands.cc.
#include "mta/smtp/server_protocol.h"

#include <algorithm>

#include "mta/base/check.h"
#include "mta/smtp/smtp_limits.h"

namespace ringmta::smtp {

ServerProtocol::ServerProtocol(const ServerConfig& config, MessageSink* sink, PeerInfo peer,
                               RecipientPolicy* policy, Authenticator* authenticator)
    : config_(config),
      sink_(sink),
      policy_(policy),
      authenticator_(authenticator),
      peer_(std::move(peer)),
      splitter_(config.command_line_bytes_max),
      tls_(peer_.tls),
      tls_info_(peer_.tls_info) {
  CHECK(sink_ != nullptr);
  // The hostname goes into replies verbatim; config validation keeps it sane.
  CHECK(!config_.hostname.empty() && config_.hostname.size() <= limits::kDomainBytesMax);
  CHECK(config_.hostname.find_first_of("\r\n") == std::string::npos);
  CHECK(config_.recipients_max >= 1 && config_.errors_max >= 1);
  CHECK(config_.junk_commands_max >= 1 &&
        config_.junk_commands_max <= ringmta::limits::kSmtpJunkCommandsMax);
  CHECK(config_.auth_failures_max >= 1);
  CHECK(config_.transactions_max >= 1 &&
        config_.transactions_max <= limits::kTransactionsPerConnectionMax);
  CHECK(config_.command_line_bytes_max <= ringmta::limits::kSmtpCommandLineBytesMax);
  CHECK(config_.text_line_bytes_max <= ringmta::limits::kSmtpTextLineBytesMax);
  CHECK(config_.message_bytes_max <= ringmta::limits::kMessageBytesMax);
}

ServerProtocol::~ServerProtocol() {
  if (sink_open_) sink_->Abort();
}

void ServerProtocol::Start() {
  CHECK(!started_);
  started_ = true;
  // No enhanced code: ENHANCEDSTATUSCODES is not negotiated yet (RFC 2034 §3).
  Send({220, "", config_.hostname + " ESMTP ringmta"});
}

Action ServerProtocol::TakeAction() {
  const Action action = action_;
  action_ = Action::kNone;
  return action;
}

size_t ServerProtocol::Feed(std::string_view bytes) {
  CHECK(started_);
  size_t used = 0;
  while (used < bytes.size()) {
    const std::string_view rest = bytes.substr(used);
    switch (phase_) {
      case Phase::kClosed:
      case Phase::kTlsPending:
        // RFC 3207 §6: plaintext pipelined behind STARTTLS could be injected
        // by a man in the middle, so it is discarded, never acted upon.
        return bytes.size();
      case Phase::kCommitPending:
        return used;  // the 250 must wait for durability; so does what follows
      case Phase::kCommand:
        if (output_.size() >= limits::kServerOutputBytesMax) return used;
        used += FeedCommand(rest);
        break;
      case Phase::kData:
        used += FeedData(rest);
        break;
      case Phase::kBdat:
        used += FeedBdat(rest);
        break;
    }
  }
  return used;
}

size_t ServerProtocol::FeedCommand(std::string_view bytes) {
  const LineSplitter::Event event = splitter_.Next(bytes);
  switch (event.kind) {
    case LineSplitter::Event::Kind::kNone:
      break;
    case LineSplitter::Event::Kind::kTooLong:
      sasl_.reset();  // a line too long ends an AUTH exchange too
      SendError({500, "5.5.2", "Line too long"});  // RFC 5321 §4.5.3.1.10
      break;
    case LineSplitter::Event::Kind::kLine:
      HandleLine(event.line, event.bare_lf);
      break;
  }
  return event.consumed;
}

size_t ServerProtocol::FeedData(std::string_view bytes) {
  const size_t used =
      decoder_->Decode(bytes, [this](std::string_view piece) { AppendBody(piece); });
  if (decoder_->defect() != BodyDefect::kNone) AbortSink();
  if (decoder_->done()) EndMessage();
  return used;
}

size_t ServerProtocol::FeedBdat(std::string_view bytes) {
  const size_t take = static_cast<size_t>(std::min<uint64_t>(bdat_remaining_, bytes.size()));
  if (!bdat_refusal_) {
    const size_t used = decoder_->Decode(bytes.substr(0, take),
                                         [this](std::string_view piece) { AppendBody(piece); });
    CHECK(used == take);  // raw framing never stops early
    if (decoder_->defect() != BodyDefect::kNone) AbortSink();
  }
  bdat_remaining_ -= take;
  if (bdat_remaining_ == 0) FinishBdatChunk();
  return take;
}

// Size is enforced while streaming (RFC 1870 §6): past the limit nothing more
// is passed on, the rest is read and dropped, and the end gets 552.
void ServerProtocol::AppendBody(std::string_view piece) {
  if (!sink_open_ || size_exceeded_) return;
  body_bytes_ += piece.size();
  if (body_bytes_ > config_.message_bytes_max) {
    size_exceeded_ = true;
    AbortSink();
    return;
  }
  sink_status_ = sink_->Append(piece);
  if (!sink_status_.ok()) AbortSink();
}

void ServerProtocol::AbortSink() {
  if (!sink_open_) return;
  sink_open_ = false;
  sink_->Abort();
}

void ServerProtocol::FinishBdatChunk() {
  phase_ = Phase::kCommand;
  if (bdat_refusal_) {
    const Reply refusal = *std::move(bdat_refusal_);
    bdat_refusal_.reset();
    if (in_transaction_) ResetTransaction();
    if (refusal.code == 503 || refusal.code == 501) {
      SendError(refusal);
    } else {
      Send(refusal);
    }
    return;
  }
  if (bdat_last_) {
    decoder_->Finish([this](std::string_view piece) { AppendBody(piece); });
    EndMessage();
    return;
  }
  if (decoder_->defect() != BodyDefect::kNone || size_exceeded_ || !sink_status_.ok()) {
    EndMessage();  // RFC 3030 §4.2: fail this chunk; the transaction is over
    return;
  }
  Send({250, "2.0.0", std::to_string(bdat_size_) + " octets received"});
}

// The body is complete (end marker or BDAT LAST): refuse it, or hand it to
// the commit and wait. Either way the transaction ends here.
void ServerProtocol::EndMessage() {
  std::optional<Reply> refusal;
  switch (decoder_->defect()) {
    case BodyDefect::kNone:
      break;
    case BodyDefect::kBareCr:
    case BodyDefect::kBareLf:
      // SMTP smuggling defence: refuse, never pass on (RFC 5321 §2.3.8).
      refusal = Reply{550, "5.6.0", "Message contains bare CR or LF"};
      break;
    case BodyDefect::kNul:
      refusal = Reply{550, "5.6.0", "Message contains NUL characters"};
      break;
    case BodyDefect::kLineTooLong:
      refusal = Reply{550, "5.6.0", "Message line too long"};  // §4.5.3.1.6
      break;
  }
  if (!refusal && size_exceeded_) refusal = Reply{552, "5.3.4", "Message size exceeds fixed limit"};
  if (!refusal && !sink_status_.ok()) refusal = ReplyForStatus(sink_status_);
  if (refusal) {
    ResetTransaction();
    phase_ = Phase::kCommand;
    Send(*refusal);
    return;
  }
  CHECK(sink_open_);
  sink_open_ = false;  // the commit owns the message now
  phase_ = Phase::kCommitPending;
  action_ = Action::kCommit;
}

void ServerProtocol::OnCommitted(const absl::Status& status) {
  if (phase_ == Phase::kClosed) return;  // timed out or shut down meanwhile
  CHECK(phase_ == Phase::kCommitPending);
  ResetTransaction();
  phase_ = Phase::kCommand;
  if (status.ok()) {
    junk_commands_ = 0;  // the client is doing real work: a fresh allowance
    Send({250, "2.0.0", "Message accepted for delivery"});
  } else {
    Send(ReplyForStatus(status));
  }
}

void ServerProtocol::OnTlsEstablished(const TlsInfo& info) {
  CHECK(phase_ == Phase::kTlsPending);
  tls_ = true;
  tls_info_ = info;
  hello_ = Hello::kNone;  // RFC 3207 §4.2: forget everything from before TLS
  helo_name_.clear();
  auth_user_.clear();
  sasl_.reset();
  ResetTransaction();
  splitter_.Reset();
  phase_ = Phase::kCommand;
}

void ServerProtocol::OnTimeout() {
  if (phase_ == Phase::kClosed) return;
  Close({421, "4.4.2", config_.hostname + " Error: timeout exceeded"});
}

void ServerProtocol::OnShutdown() {
  if (phase_ == Phase::kClosed) return;
  Close({421, "4.3.2", config_.hostname + " Service shutting down"});
}

void ServerProtocol::ResetTransaction() {
  AbortSink();
  in_transaction_ = false;
  rcpt_seen_ = false;
  envelope_ = Envelope();
  used_bdat_ = false;
  decoder_.reset();
  body_bytes_ = 0;
  size_exceeded_ = false;
  sink_status_ = absl::OkStatus();
}

void ServerProtocol::Send(const Reply& reply) { AppendReply(reply, &output_); }

void ServerProtocol::SendError(const Reply& reply) {
  Send(reply);
  if (++errors_ >= config_.errors_max) {
    Close({421, "4.7.0", config_.hostname + " Error: too many errors"});
  }
}

void ServerProtocol::Close(const Reply& reply) {
  // A commit requested but not yet taken by the I/O layer will never run.
  if (action_ == Action::kCommit) sink_->Abort();
  ResetTransaction();
  Send(reply);
  phase_ = Phase::kClosed;
  action_ = Action::kClose;
}

}  // namespace ringmta::smtp
