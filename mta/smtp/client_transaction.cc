// ClientProtocol's mail transactions (RFC 5321 §3.3): MAIL, RCPT, DATA or
// BDAT, pipelined per RFC 2920 when offered, per-recipient results, and RSET
// after a transaction that did not run to its end.
#include <utility>

#include "mta/base/check.h"
#include "mta/smtp/client_commands.h"
#include "mta/smtp/client_limits.h"
#include "mta/smtp/client_protocol.h"

namespace ringmta::smtp {

void ClientProtocol::StartMessage(OutboundMessage message) {
  CHECK(phase_ == Phase::kReady);
  CHECK(ValidateOutboundMessage(message).ok());
  CHECK(!result_.has_value());  // the caller takes each result first
  const size_t count = message.recipients.size();
  MessageResult result;
  result.recipients.resize(count);
  for (size_t i = 0; i < count; ++i) result.recipients[i].index = static_cast<int>(i);

  if (std::optional<ServerReply> refusal = RefuseBeforeSending(message, caps_)) {
    for (RecipientResult& r : result.recipients) r.rcpt_reply = *refusal;
    result.final_reply = *std::move(refusal);
    result_ = std::move(result);
    PushAction(ClientAction::kMessageDone);
    PushAction(ClientAction::kReady);
    return;
  }
  Transaction& txn = txn_.emplace();
  txn.message = std::move(message);
  txn.result = std::move(result);
  txn.pipelined = caps_.pipelining && config_.use_pipelining;
  txn.bdat = caps_.chunking && config_.use_bdat;
  AppendMailFrom(txn.message, caps_, &output_);
  expected_.push_back(Expect::kMail);
  phase_ = Phase::kAwaitingReplies;
  if (!txn.pipelined) return;  // one command at a time, each after its reply
  // RFC 2920 §3.1: MAIL and RCPT may be grouped; DATA ends the group. With
  // BDAT the first chunk may join it (RFC 3030 §4.2), so ask for the body.
  while (txn.rcpts_sent < count) SendNextRcpt();
  if (txn.bdat) {
    StartBody();
  } else {
    Send("DATA", Expect::kData);
  }
}

void ClientProtocol::SendNextRcpt() {
  Transaction& txn = *txn_;
  AppendRcptTo(txn.message.recipients[txn.rcpts_sent++], caps_, &output_);
  expected_.push_back(Expect::kRcpt);
}

void ClientProtocol::StartBody() {
  phase_ = Phase::kSendingBody;
  PushAction(ClientAction::kNeedBody);
}

void ClientProtocol::HandleTransactionReply(Expect expect, ServerReply reply) {
  CHECK(txn_.has_value());
  switch (expect) {
    case Expect::kMail: OnMailReply(reply); break;
    case Expect::kRcpt: OnRcptReply(std::move(reply)); break;
    case Expect::kData: OnDataReply(std::move(reply)); break;
    default: OnChunkReply(expect, std::move(reply)); break;
  }
  if (phase_ == Phase::kClosed || !txn_) return;
  // The outcome was decided early and every reply is in: the server may
  // still hold MAIL (and RCPTs), which RSET clears before the next message.
  // The result waits for RSET's reply, so that after kMessageDone the
  // connection is always either ready or closed.
  if (txn_->failed && expected_.empty()) {
    Send("RSET", Expect::kRset);
    phase_ = Phase::kResetting;
  }
}

void ClientProtocol::OnMailReply(const ServerReply& reply) {
  Transaction& txn = *txn_;
  if (!reply.IsPositive()) {
    txn.mail_refused = true;  // its reply becomes every recipient's
    for (RecipientResult& r : txn.result.recipients) r.rcpt_reply = reply;
    FailTransaction(reply);
    return;
  }
  if (!txn.pipelined) SendNextRcpt();
}

void ClientProtocol::OnRcptReply(ServerReply reply) {
  Transaction& txn = *txn_;
  const size_t index = txn.rcpt_replies++;
  CHECK(index < txn.message.recipients.size());
  // After a refused MAIL the server answers RCPT with 503; MAIL's reply says more.
  RecipientResult& r = txn.result.recipients[index];
  r.rcpt_reply = txn.mail_refused ? txn.result.final_reply : std::move(reply);
  if (r.accepted()) ++txn.accepted;
  if (txn.rcpt_replies < txn.message.recipients.size()) {
    if (!txn.pipelined) SendNextRcpt();
    return;
  }
  AfterEnvelopeReplies();
}

// Every RCPT is answered. No recipient: no body (§3.3); a pipelined DATA is
// still in flight and its reply is handled by OnDataReply.
void ClientProtocol::AfterEnvelopeReplies() {
  Transaction& txn = *txn_;
  if (txn.failed) return;
  if (txn.accepted == 0) {
    FailTransaction(ServerReply());
    return;
  }
  if (txn.pipelined) return;  // DATA or the body is already on its way
  if (txn.bdat) {
    StartBody();
  } else {
    Send("DATA", Expect::kData);
  }
}

void ClientProtocol::OnDataReply(ServerReply reply) {
  Transaction& txn = *txn_;
  if (reply.IsIntermediate()) {
    if (txn.failed) {
      // RFC 2920 §3.1 asks a server to refuse DATA when no RCPT succeeded,
      // but some answer 354. Sending nothing would hang both sides, so we
      // end an empty message at once; its reply is drained, then RSET.
      output_.append(".\r\n");
      expected_.push_back(Expect::kDataEnd);
      return;
    }
    StartBody();
    return;
  }
  if (reply.IsPositive()) {
    ProtocolError("DATA answered with 2xx instead of 354");
    return;
  }
  FailTransaction(reply);
}

void ClientProtocol::OnChunkReply(Expect expect, ServerReply reply) {
  Transaction& txn = *txn_;
  if (expect == Expect::kBdat || expect == Expect::kBdatLast) --txn.chunks_in_flight;
  if (txn.failed) return;  // decided already; this reply only drains
  if (expect == Expect::kDataEnd || expect == Expect::kBdatLast) {
    // Whatever it says, the end of the data completes the transaction: the
    // server clears its buffers (RFC 5321 §4.1.1.4), so no RSET is needed.
    CHECK(expected_.empty());  // the end of the body is the last command sent
    txn.result.final_reply = std::move(reply);
    FinishTransaction();
    BecomeReady();
    return;
  }
  if (!reply.IsPositive()) {
    FailTransaction(reply);  // RFC 3030 §2: no more chunks after a refused one
    return;
  }
  if (phase_ == Phase::kAwaitingChunkReply) StartBody();
}

void ClientProtocol::SupplyBody(std::string_view piece, bool last) {
  CHECK(phase_ == Phase::kSendingBody);
  Transaction& txn = *txn_;
  if (txn.bdat) {
    SendBdatChunk(piece, last);
    return;
  }
  txn.data_encoder.Encode(piece, &output_);  // dot-stuffed, CRLF only (§4.5.2)
  if (!last) return;
  txn.data_encoder.Finish(&output_);
  expected_.push_back(Expect::kDataEnd);
  phase_ = Phase::kAwaitingFinalReply;
}

// One piece is one chunk: "BDAT <size>[ LAST]\r\n" and exactly <size> bytes
// (RFC 3030 §2). The last piece may be empty: "BDAT 0 LAST".
void ClientProtocol::SendBdatChunk(std::string_view piece, bool last) {
  Transaction& txn = *txn_;
  chunk_.clear();
  txn.bdat_encoder.Encode(piece, &chunk_);
  if (last) txn.bdat_encoder.Finish(&chunk_);
  if (chunk_.empty() && !last) return;  // e.g. a lone CR, held for the next piece
  output_.append("BDAT ");
  output_.append(std::to_string(chunk_.size()));
  output_.append(last ? " LAST\r\n" : "\r\n");
  output_.append(chunk_);
  expected_.push_back(last ? Expect::kBdatLast : Expect::kBdat);
  ++txn.chunks_in_flight;
  const size_t in_flight_max = txn.pipelined ? limits::kClientBdatChunksInFlightMax : 1;
  if (last) {
    phase_ = Phase::kAwaitingFinalReply;
  } else if (txn.chunks_in_flight >= in_flight_max) {
    phase_ = Phase::kAwaitingChunkReply;
  }
}

// The outcome is decided before the body's end: `decider` (if not empty)
// becomes the final reply unless one is set; no more body is sent.
void ClientProtocol::FailTransaction(const ServerReply& decider) {
  Transaction& txn = *txn_;
  if (!txn.failed && !decider.empty()) txn.result.final_reply = decider;
  txn.failed = true;
  if (phase_ != Phase::kAwaitingReplies) phase_ = Phase::kAwaitingReplies;
}

void ClientProtocol::FinishTransaction() {
  result_ = std::move(txn_->result);
  txn_.reset();
  PushAction(ClientAction::kMessageDone);
}

// The connection ends mid-transaction. Unanswered recipients, and accepted
// ones awaiting the final reply, take `reply` (a 421 or ours). If it is ours
// and the body's end was out, the server may have the message: uncertain.
void ClientProtocol::AbandonTransaction(const ServerReply& reply) {
  Transaction& txn = *txn_;
  const ServerReply& unanswered = txn.mail_refused ? txn.result.final_reply : reply;
  for (size_t i = txn.rcpt_replies; i < txn.result.recipients.size(); ++i) {
    txn.result.recipients[i].rcpt_reply = unanswered;
  }
  if (!txn.failed) {
    txn.result.final_reply = reply;
    txn.result.uncertain = reply.local && phase_ == Phase::kAwaitingFinalReply;
  }
  FinishTransaction();
}

}  // namespace ringmta::smtp
