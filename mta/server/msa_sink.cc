#include "mta/server/msa_sink.h"

#include <sys/random.h>

#include <cinttypes>
#include <cstdio>
#include <ctime>

#include "mta/base/clock.h"
#include "mta/base/status.h"

namespace ringmta::server {

std::string NewMessageIdField(int64_t wall_ms, std::string_view hostname) {
  // 64 random bits make a collision between shards or restarts negligible;
  // a failed getrandom (never expected) still leaves the time and address.
  uint64_t random = 0;
  if (getrandom(&random, sizeof random, 0) != sizeof random) {
    random = reinterpret_cast<uintptr_t>(&random) ^ static_cast<uint64_t>(MonotonicNowNs());
  }
  char local[64];
  std::snprintf(local, sizeof local, "%" PRId64 ".%016" PRIx64, wall_ms, random);
  return "Message-ID: <" + std::string(local) + "@" + std::string(hostname) + ">\r\n";
}

std::string FormatDateField(int64_t wall_ms) {
  const time_t seconds = static_cast<time_t>(wall_ms / 1000);
  tm utc;
  gmtime_r(&seconds, &utc);
  char text[64];
  strftime(text, sizeof text, "Date: %a, %d %b %Y %H:%M:%S +0000\r\n", &utc);
  return text;
}

absl::Status MsaSink::Begin(const smtp::Envelope& envelope) {
  scanner_ = smtp::HeaderScanner();
  held_.clear();
  holding_ = true;
  begun_ms_ = WallNowMs();
  return inner_->Begin(envelope);
}

absl::Status MsaSink::Append(std::string_view body_bytes) {
  if (!holding_) return inner_->Append(body_bytes);
  const size_t header_part = scanner_.Feed(body_bytes);
  if (!scanner_.done() && held_.size() + body_bytes.size() > kMsaHeldBytesMax) {
    // Too long to hold: pass it on as it is, adding nothing.
    holding_ = false;
    RETURN_IF_ERROR(inner_->Append(held_));
    held_.clear();
    return inner_->Append(body_bytes);
  }
  held_.append(body_bytes.data(), header_part);
  if (!scanner_.done()) return absl::OkStatus();
  RETURN_IF_ERROR(Release());
  const std::string_view rest = body_bytes.substr(header_part);
  return rest.empty() ? absl::OkStatus() : inner_->Append(rest);
}

std::string MsaSink::AddedFields() const {
  std::string fields;
  if (!scanner_.has_message_id()) fields += NewMessageIdField(begun_ms_, hostname_);
  if (!scanner_.has_date()) fields += FormatDateField(begun_ms_);
  return fields;
}

// Writes the added fields, the held header fields and the held start of
// whatever ended the section. When text followed the headers with no
// empty line, one is put in, so the text stays body under the new fields.
absl::Status MsaSink::Release() {
  holding_ = false;
  std::string top = AddedFields();
  const size_t header_bytes = static_cast<size_t>(scanner_.header_bytes());
  top.append(held_, 0, header_bytes);
  if (scanner_.end() == smtp::HeaderScanner::End::kNonHeaderLine) top += "\r\n";
  top.append(held_, header_bytes, std::string::npos);
  held_.clear();
  return inner_->Append(top);
}

absl::Status MsaSink::FinishHeaders() {
  if (!holding_) return absl::OkStatus();
  scanner_.Finish();
  return Release();
}

void MsaSink::Abort() {
  holding_ = false;
  held_.clear();
  inner_->Abort();
}

io::Task<absl::Status> MsaSink::Commit() {
  absl::Status released = FinishHeaders();
  if (!released.ok()) {
    inner_->Abort();
    co_return released;
  }
  co_return co_await inner_->Commit();
}

}  // namespace ringmta::server
