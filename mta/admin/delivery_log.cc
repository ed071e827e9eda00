#include "mta/admin/delivery_log.h"

#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_format.h"
#include "mta/admin/json_writer.h"
#include "mta/base/check.h"
#include "mta/base/clock.h"
#include "mta/base/log.h"
#include "mta/base/status.h"
#include "mta/io/operation.h"

namespace ringmta::admin {
namespace {

constexpr int kOpenFlags = O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC;
// Readable by the operator's group (log shippers), not by everyone: the log
// names senders and recipients.
constexpr mode_t kFileMode = 0640;
// Bounds for text that came from the network or the envelope.
constexpr size_t kAddressBytesMax = 512;
constexpr size_t kHostBytesMax = 255;
constexpr size_t kResponseBytesMax = 1024;

// RFC 3339 UTC with milliseconds: what log shippers parse without help.
std::string Timestamp(int64_t unix_ms) {
  time_t seconds = static_cast<time_t>(unix_ms / 1000);
  tm utc{};
  gmtime_r(&seconds, &utc);
  return absl::StrFormat("%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900, utc.tm_mon + 1,
                         utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                         static_cast<int>(unix_ms % 1000));
}

std::string QueueId(uint64_t id) { return absl::StrFormat("%016X", id); }

const char* EventName(OutcomeEventKind kind) {
  if (kind == OutcomeEventKind::kDelivered) return "delivered";
  if (kind == OutcomeEventKind::kBounced) return "bounced";
  if (kind == OutcomeEventKind::kExpired) return "expired";
  return "deferred";
}

void OptionalString(JsonLine& line, std::string_view name, std::string_view value,
                    size_t bytes_max) {
  if (value.empty()) {
    line.Null(name);
  } else {
    line.String(name, value, bytes_max);
  }
}

}  // namespace

std::string FormatReceived(const ReceivedEvent& event, int64_t now_ms) {
  JsonLine line;
  line.String("ts", Timestamp(now_ms))
      .String("event", "received")
      .String("id", QueueId(event.message_id))
      .String("sender", event.sender, kAddressBytesMax)
      .Uint("recipients", event.recipients)
      .Uint("size", event.size_bytes)
      .String("client", event.client_address, kHostBytesMax)
      .String("helo", event.client_helo, kHostBytesMax);
  OptionalString(line, "auth", event.auth_user, kAddressBytesMax);
  OptionalString(line, "tls", event.tls, kHostBytesMax);
  return line.Finish();
}

std::string FormatOutcome(const OutcomeEvent& event, int64_t now_ms) {
  JsonLine line;
  line.String("ts", Timestamp(now_ms))
      .String("event", EventName(event.kind))
      .String("id", QueueId(event.message_id))
      .String("recipient", event.recipient, kAddressBytesMax);
  OptionalString(line, "destination", event.destination, kAddressBytesMax);
  OptionalString(line, "remote_host", event.remote_host, kHostBytesMax);
  OptionalString(line, "tls", event.tls, kHostBytesMax);
  if (event.reply_code > 0) {
    line.Int("code", event.reply_code);
  } else {
    line.Null("code");
  }
  OptionalString(line, "status", event.enhanced_status, 16);
  line.String("response", event.response, kResponseBytesMax)
      .Uint("attempt", event.attempt)
      .Int("queue_time_ms", event.queue_time_ms);
  if (event.delivery_time_ms >= 0) {
    line.Int("delivery_time_ms", event.delivery_time_ms);
  } else {
    line.Null("delivery_time_ms");
  }
  if (event.kind == OutcomeEventKind::kDeferred) {
    line.String("retry_at", Timestamp(event.retry_at_ms)).Bool("uncertain", event.uncertain);
  }
  return line.Finish();
}

ShardDeliveryLog::ShardDeliveryLog(DeliveryLog& log, io::Reactor& reactor, ShardStats& stats,
                                   size_t buffer_bytes_max)
    : log_(log), reactor_(reactor), stats_(stats), buffer_bytes_max_(buffer_bytes_max) {}

ShardDeliveryLog::~ShardDeliveryLog() {
  // Drain() ran in the stop hook, so nothing is in flight.
  CHECK(tasks_.empty());
  if (fd_ >= 0) ::close(fd_);
}

absl::Status ShardDeliveryLog::Open() {
  generation_ = log_.generation();
  fd_ = ::open(log_.path().c_str(), kOpenFlags, kFileMode);
  if (fd_ < 0) return ErrnoToStatus(errno, "open delivery log " + log_.path());
  return absl::OkStatus();
}

void ShardDeliveryLog::OnReceived(const ReceivedEvent& event) {
  Append(FormatReceived(event, WallNowMs()));
}

void ShardDeliveryLog::OnOutcome(const OutcomeEvent& event) {
  Append(FormatOutcome(event, WallNowMs()));
}

void ShardDeliveryLog::Append(std::string line) {
  if (pending_.size() + line.size() > buffer_bytes_max_) {
    stats_.Count(Counter::kDeliveryLogLinesDropped);
    return;
  }
  pending_.append(line);
  if (writer_running_) return;
  writer_running_ = true;
  // Starts on the next ready pass: every line of this loop turn joins the
  // same write.
  io::Spawn(reactor_, tasks_, WriteLoop());
}

io::Task<void> ShardDeliveryLog::ReopenIfAsked() {
  uint64_t generation = log_.generation();
  if (generation == generation_ && fd_ >= 0) co_return;
  generation_ = generation;
  int32_t opened = co_await io::OpenAt(reactor_, AT_FDCWD, log_.path().c_str(), kOpenFlags,
                                       kFileMode);
  if (opened < 0) {
    // Keep writing to the old file rather than lose lines; the next
    // SIGHUP tries again.
    stats_.Count(Counter::kDeliveryLogWriteErrors);
    Log(LogLevel::kError, "cannot reopen delivery log %s: %s", log_.path(), std::strerror(-opened));
    co_return;
  }
  if (fd_ >= 0) (void)co_await io::Close(reactor_, fd_);
  fd_ = opened;
}

io::Task<void> ShardDeliveryLog::WriteLoop() {
  while (!pending_.empty()) {
    co_await ReopenIfAsked();
    writing_.clear();
    writing_.swap(pending_);
    std::string_view rest = writing_;
    while (!rest.empty() && fd_ >= 0) {
      // Offset -1: at the file position, which O_APPEND keeps at the end.
      int32_t written = co_await io::WriteAt(reactor_, fd_, rest, static_cast<uint64_t>(-1));
      if (written == -EINTR || written == -EAGAIN) continue;
      if (written <= 0) {
        stats_.Count(Counter::kDeliveryLogWriteErrors);
        Log(LogLevel::kError, "delivery log %s: write failed: %s", log_.path(),
            std::strerror(written < 0 ? -written : EIO));
        break;  // this batch is lost; later lines try again
      }
      rest.remove_prefix(static_cast<size_t>(written));
    }
  }
  writer_running_ = false;
}

void ShardDeliveryLog::Drain() {
  while (!tasks_.empty()) reactor_.RunOnce(-1);
}

}  // namespace ringmta::admin
