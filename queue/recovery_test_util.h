// Writes real spool files for recovery tests, the benchmark and the dump's
// test: LogWriter + Encode* with synchronous pwrite into segments
// preallocated with zeros, as the spool lays them out. Test-only: no group
// commit, no io_uring, CHECKs instead of errors.
#ifndef RINGMTA_QUEUE_RECOVERY_TEST_UTIL_H_
#define RINGMTA_QUEUE_RECOVERY_TEST_UTIL_H_

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "mta/base/check.h"
#include "queue/index.h"
#include "queue/log_writer.h"
#include "queue/queue_limits.h"
#include "queue/records.h"
#include "queue/segment_scan.h"

namespace ringmta::queue::testing {

class SpoolFileWriter {
 public:
  SpoolFileWriter(std::string shard_directory, int shard,
                  uint64_t segment_bytes = kSegmentBytesMin, uint32_t first_segment = 1)
      : directory_(std::move(shard_directory)), shard_(shard), segment_bytes_(segment_bytes),
        next_segment_(first_segment) {
    std::filesystem::create_directories(directory_);
  }
  ~SpoolFileWriter() { Close(); }
  SpoolFileWriter(const SpoolFileWriter&) = delete;
  SpoolFileWriter& operator=(const SpoolFileWriter&) = delete;

  // Frames one record, starting a new segment when it does not fit.
  RecordSpan Append(std::initializer_list<std::string_view> parts) {
    size_t bytes = 0;
    for (std::string_view part : parts) bytes += part.size();
    if (writer_ == nullptr || !writer_->Fits(bytes)) Rotate();
    LogSpan span = writer_->Append(parts);
    if (writer_->pending_bytes() >= (size_t{4} << 20)) Flush();
    return {writer_->segment_number(), static_cast<uint32_t>(span.offset),
            static_cast<uint32_t>(span.end_offset)};
  }
  RecordSpan Append(std::string_view payload) { return Append({payload}); }

  // Seals the current segment (its rest stays zero) and starts the next.
  void Rotate() {
    Close();
    const uint32_t number = next_segment_++;
    path_ = directory_ + "/" + SegmentFileName(number);
    fd_ = open(path_.c_str(), O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600);
    CHECK(fd_ >= 0);
    CHECK(posix_fallocate(fd_, 0, static_cast<off_t>(segment_bytes_)) == 0);
    writer_ = std::make_unique<LogWriter>(number, segment_bytes_);
    writer_->Append(EncodeSegmentHeader({static_cast<uint16_t>(shard_), number, 1000}));
  }

  void Flush() {
    if (writer_ == nullptr) return;
    LogBatch batch = writer_->TakeBatch();
    size_t done = 0;
    while (done < batch.bytes.size()) {
      ssize_t n = pwrite(fd_, batch.bytes.data() + done, batch.bytes.size() - done,
                         static_cast<off_t>(batch.file_offset + done));
      CHECK(n > 0);
      done += static_cast<size_t>(n);
    }
  }

  void Close() {
    Flush();
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
    writer_.reset();
  }

  uint32_t segment() const { return writer_ ? writer_->segment_number() : 0; }
  // File offset just past the last framed record of the current segment.
  uint64_t offset() const { return writer_->offset(); }
  const std::string& path() const { return path_; }

 private:
  const std::string directory_;
  const int shard_;
  const uint64_t segment_bytes_;
  uint32_t next_segment_;
  std::string path_;
  int fd_ = -1;
  std::unique_ptr<LogWriter> writer_;
};

inline MessageBegin TestBegin(uint64_t id, int recipients = 1) {
  MessageBegin begin;
  begin.message_id = id;
  begin.received_ms = 1'700'000'000'000;
  begin.deadline_ms = begin.received_ms + 5 * 86'400'000;
  begin.sender = "sender" + std::to_string(id) + "@example.org";
  for (int i = 0; i < recipients; ++i) {
    begin.recipients.push_back({"rcpt" + std::to_string(i) + "@example.com", kNotifyFailure, ""});
  }
  return begin;
}

// Where a written message's records went.
struct WrittenMessage {
  RecordSpan begin;
  std::vector<RecordSpan> chunks;
  RecordSpan commit;
};

// Begin, the body in chunks of at most kBodyChunkBytesMax, and the commit.
inline WrittenMessage WriteMessage(SpoolFileWriter& out, const MessageBegin& begin,
                                   std::string_view body) {
  WrittenMessage written;
  written.begin = out.Append(EncodeMessageBegin(begin));
  BodyTally tally;
  for (size_t at = 0; at < body.size(); at += kBodyChunkBytesMax) {
    std::string_view data = body.substr(at, std::min(kBodyChunkBytesMax, body.size() - at));
    uint64_t index = tally.Add(data);
    written.chunks.push_back(
        out.Append({EncodeBodyChunkPrefix(begin.message_id, index, data.size()), data}));
  }
  written.commit = out.Append(EncodeMessageCommit(tally.Commit(begin.message_id)));
  return written;
}

inline RecipientOutcome TestOutcome(uint64_t id, uint32_t recipient, uint8_t code_class) {
  RecipientOutcome outcome;
  outcome.message_id = id;
  outcome.recipient = recipient;
  outcome.at_ms = 1'700'000'100'000;
  outcome.status = {code_class, 0, 0};
  outcome.remote_host = "mx.example.com";
  outcome.response = "ok";
  return outcome;
}

}  // namespace ringmta::queue::testing

#endif  // RINGMTA_QUEUE_RECOVERY_TEST_UTIL_H_
