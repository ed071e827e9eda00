// The submission (MSA, RFC 6409) side of accepting a message: a SessionSink
// wrapper that adds Message-ID: and Date: when the message lacks them
// (RFC 6409 §8.2, §8.3). It holds back the header section (bounded) until
// its end is seen, so the added fields go at the top, under Received:.
// Not here: AUTH (mta/smtp) or storage (the wrapped sink).
#ifndef RINGMTA_MTA_SERVER_MSA_SINK_H_
#define RINGMTA_MTA_SERVER_MSA_SINK_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "mta/server/session_sink.h"
#include "mta/smtp/header_scanner.h"

namespace ringmta::server {

// Header bytes held back while looking for the end of the section. Past it
// the section counts as complete and nothing is added: real header
// sections are a few KiB, and the hold must stay small per session.
inline constexpr size_t kMsaHeldBytesMax = 64 * 1024;

class MsaSink : public SessionSink {
 public:
  MsaSink(std::unique_ptr<SessionSink> inner, std::string hostname)
      : inner_(std::move(inner)), hostname_(std::move(hostname)) {}

  absl::Status Begin(const smtp::Envelope& envelope) override;
  absl::Status Append(std::string_view body_bytes) override;
  void Abort() override;
  io::Task<absl::Status> Commit() override;
  bool NeedsPacing() const override { return inner_->NeedsPacing(); }
  io::Task<void> Pace() override { return inner_->Pace(); }

  // The body is complete: releases what is held (Commit calls it first).
  absl::Status FinishHeaders();

 private:
  absl::Status Release();
  std::string AddedFields() const;

  std::unique_ptr<SessionSink> inner_;
  const std::string hostname_;
  smtp::HeaderScanner scanner_;
  bool holding_ = false;
  std::string held_;  // the body's first bytes, at most kMsaHeldBytesMax
  int64_t begun_ms_ = 0;
};

// Wraps another factory's sinks; the daemon uses it for submission ports.
class MsaSinkFactory : public SinkFactory {
 public:
  MsaSinkFactory(SinkFactory* inner, std::string hostname)
      : inner_(inner), hostname_(std::move(hostname)) {}
  std::unique_ptr<SessionSink> NewSink(io::Shard& shard) override {
    return std::make_unique<MsaSink>(inner_->NewSink(shard), hostname_);
  }

 private:
  SinkFactory* inner_;
  const std::string hostname_;
};

// "<ms.random@host>": unique without coordination between shards.
std::string NewMessageIdField(int64_t wall_ms, std::string_view hostname);
// RFC 5322 §3.3 date-time in UTC.
std::string FormatDateField(int64_t wall_ms);

}  // namespace ringmta::server

#endif  // RINGMTA_MTA_SERVER_MSA_SINK_H_
