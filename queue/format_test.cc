// The format end to end, without I/O: sessions stream interleaved messages
// into rotating segments; a replay decodes every record and checks each body
// against its commit (queue_format §4.5). Damage to one body chunk must
// quarantine that message only.
#include <algorithm>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "queue/log_test_util.h"
#include "queue/records.h"

namespace ringmta::queue {
namespace {

using testing::Payload;

struct Segment {
  uint32_t number;
  std::string image;
};

// Frames records into segments of kSegmentBytesMin, rotating when full.
class Appender {
 public:
  void Append(std::initializer_list<std::string_view> parts) {
    size_t bytes = 0;
    for (std::string_view part : parts) bytes += part.size();
    if (writer_ == nullptr || !writer_->Fits(bytes)) Rotate();
    writer_->Append(parts);
  }
  std::vector<Segment> Finish() {
    Seal();
    return std::move(segments_);
  }

 private:
  void Rotate() {
    Seal();
    uint32_t number = static_cast<uint32_t>(segments_.size() + 1);
    writer_ = std::make_unique<LogWriter>(number, kSegmentBytesMin);
    writer_->Append(EncodeSegmentHeader({0, number, 1000}));
  }
  void Seal() {
    if (writer_ == nullptr) return;
    segments_.push_back({writer_->segment_number(), writer_->TakeBatch().bytes});
  }
  std::unique_ptr<LogWriter> writer_;
  std::vector<Segment> segments_;
};

struct Replay {
  std::map<uint64_t, uint64_t> committed;  // id -> body bytes
  std::vector<uint64_t> quarantined;
  uint64_t damaged_regions = 0;
};

Replay ReplayAll(const std::vector<Segment>& segments) {
  Replay replay;
  std::map<uint64_t, BodyTally> open;
  std::map<uint64_t, bool> broken;
  for (const Segment& segment : segments) {
    testing::ReadResult read = testing::ReadImage(segment.image, kBlockBytes, segment.number);
    replay.damaged_regions += read.damage.size();
    for (const testing::ReadRecord& log_record : read.records) {
      absl::StatusOr<Record> record = DecodeRecord(log_record.payload);
      if (!record.ok()) {
        if (auto id = PeekMessageId(log_record.payload)) broken[*id] = true;
        continue;
      }
      if (auto* begin = std::get_if<MessageBegin>(&*record)) open[begin->message_id];
      if (auto* chunk = std::get_if<BodyChunk>(&*record)) {
        if (!open[chunk->message_id].AddChunk(*chunk).ok()) broken[chunk->message_id] = true;
      }
      if (auto* commit = std::get_if<MessageCommit>(&*record)) {
        if (broken[commit->message_id] || !open[commit->message_id].Verify(*commit).ok()) {
          replay.quarantined.push_back(commit->message_id);
        } else {
          replay.committed[commit->message_id] = commit->body_bytes;
        }
        open.erase(commit->message_id);
      }
    }
  }
  return replay;
}

// Twenty sessions stream bodies of up to 600 KB in 64 KiB chunks, taking
// turns chunk by chunk, so records of different messages interleave.
std::vector<Segment> StreamMessages(std::map<uint64_t, uint64_t>* sizes) {
  std::mt19937 random(99);
  Appender appender;
  struct Session {
    uint64_t id = 0;
    std::string body;
    size_t sent = 0;
    BodyTally tally;
    bool committed = false;
  };
  std::vector<Session> sessions;
  for (uint64_t id = 1; id <= 20; ++id) {
    Session& s = sessions.emplace_back();
    s.id = id;
    s.body = Payload(random() % 600000, id);
    (*sizes)[id] = s.body.size();
    MessageBegin begin;
    begin.message_id = id;
    begin.received_ms = 5000;
    begin.deadline_ms = 6000;
    begin.recipients.push_back({"rcpt@example.com", 0, ""});
    appender.Append({EncodeMessageBegin(begin)});
  }
  for (bool busy = true; busy;) {
    busy = false;
    for (Session& s : sessions) {
      if (s.committed) continue;
      busy = true;
      if (s.sent == s.body.size()) {
        appender.Append({EncodeMessageCommit(s.tally.Commit(s.id))});
        s.committed = true;
        continue;
      }
      std::string_view data =
          std::string_view(s.body).substr(s.sent, std::min(kBodyChunkBytesMax, s.body.size() - s.sent));
      uint64_t index = s.tally.Add(data);
      appender.Append({EncodeBodyChunkPrefix(s.id, index, data.size()), data});
      s.sent += data.size();
    }
  }
  return appender.Finish();
}

TEST(FormatTest, InterleavedStreamedMessagesReplayAcrossSegments) {
  std::map<uint64_t, uint64_t> sizes;
  std::vector<Segment> segments = StreamMessages(&sizes);
  EXPECT_GE(segments.size(), 2u);  // ~6 MB of bodies in 4 MiB segments, rotated.
  Replay replay = ReplayAll(segments);
  EXPECT_EQ(replay.committed, sizes);
  EXPECT_TRUE(replay.quarantined.empty());
  EXPECT_EQ(replay.damaged_regions, 0u);
}

TEST(FormatTest, DamagedBodyChunkQuarantinesOnlyItsMessage) {
  std::map<uint64_t, uint64_t> sizes;
  std::vector<Segment> segments = StreamMessages(&sizes);
  // Flip a byte in the middle of the first segment: one block is lost.
  segments[0].image[segments[0].image.size() / 2] ^= 1;
  Replay replay = ReplayAll(segments);
  EXPECT_GE(replay.damaged_regions, 1u);
  EXPECT_FALSE(replay.quarantined.empty());
  EXPECT_EQ(replay.committed.size() + replay.quarantined.size(), sizes.size());
  for (uint64_t id : replay.quarantined) EXPECT_EQ(replay.committed.count(id), 0u);
}

}  // namespace
}  // namespace ringmta::queue
