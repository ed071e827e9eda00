// Writer framing, byte for byte, and round trips through the reader across
// block boundaries: empty, tiny, block-filling, trailer, 100 KB, 1 MiB and a
// seeded random mix read back whole and in pieces.
#include "queue/log_writer.h"

#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "queue/log_test_util.h"
#include "queue/records.h"

namespace ringmta::queue {
namespace {

using testing::kSegment;
using testing::Payload;
using testing::ReadImage;
using testing::ReadResult;
using testing::WriteImage;

// Writes `payloads`, reads them back whole and in one-block pieces, and
// checks every record, its location, and a clean end.
void ExpectRoundTrip(const std::vector<std::string>& payloads) {
  std::vector<LogSpan> spans;
  std::string image = WriteImage(payloads, &spans);
  for (size_t piece_bytes : {size_t{0}, kBlockBytes, 3 * kBlockBytes}) {
    ReadResult result = ReadImage(image, piece_bytes);
    ASSERT_EQ(result.records.size(), payloads.size()) << "piece " << piece_bytes;
    for (size_t i = 0; i < payloads.size(); ++i) {
      EXPECT_EQ(result.records[i].payload, payloads[i]) << "record " << i;
      EXPECT_EQ(result.records[i].offset, spans[i].offset) << "record " << i;
      EXPECT_EQ(result.records[i].end_offset, spans[i].end_offset) << "record " << i;
    }
    EXPECT_TRUE(result.damage.empty());
    EXPECT_EQ(result.end.offset, image.size());
    EXPECT_FALSE(result.end.torn);
    EXPECT_FALSE(result.end.tail.has_value());
  }
}

TEST(LogWriterTest, HeaderIsByteExact) {
  LogWriter writer(kSegment, kSegmentBytesMin);
  writer.Append("abc");
  std::string image = writer.TakeBatch().bytes;
  ASSERT_EQ(image.size(), kHeaderBytes + 3);
  uint32_t crc = crc32c::Value(std::string("\x01\x07\x00\x00\x00" "abc", 8));
  EXPECT_EQ(DecodeFixed32(image.data()), crc32c::Mask(crc));
  EXPECT_EQ(image.substr(4), std::string("\x03\x00\x01\x07\x00\x00\x00" "abc", 10));
}

// The worked example of docs/queue_format.md §5, byte for byte.
TEST(LogWriterTest, SpecExampleIsExact) {
  LogWriter writer(kSegment, kSegmentBytesMin);
  writer.Append(EncodeSegmentHeader({3, 7, 0x0102030405}));
  const unsigned char expected[27] = {0x96, 0xc3, 0x1a, 0x9b, 0x10, 0x00, 0x01, 0x07, 0x00,
                                      0x00, 0x00, 0x01, 0x01, 0x03, 0x00, 0x07, 0x00, 0x00,
                                      0x00, 0x05, 0x04, 0x03, 0x02, 0x01, 0x00, 0x00, 0x00};
  EXPECT_EQ(writer.TakeBatch().bytes,
            std::string(reinterpret_cast<const char*>(expected), sizeof(expected)));
  MessageBegin begin;
  begin.message_id = 1;
  begin.received_ms = 1000;
  begin.deadline_ms = 2000;
  begin.recipients.push_back({"a", 0, ""});
  LogSpan begin_span = writer.Append(EncodeMessageBegin(begin));
  LogSpan commit_span = writer.Append(EncodeMessageCommit(BodyTally().Commit(1)));
  EXPECT_EQ(begin_span.offset, 27u);
  EXPECT_EQ(begin_span.end_offset, 78u);
  EXPECT_EQ(commit_span.end_offset, 105u);

  LogWriter chunk_writer(kSegment, kSegmentBytesMin, 32000);
  std::string data(kBodyChunkBytesMax, 'b');
  LogSpan chunk = chunk_writer.Append({EncodeBodyChunkPrefix(1, 0, data.size()), data});
  std::string image = chunk_writer.TakeBatch().bytes;
  EXPECT_EQ(chunk.offset, 32000u);
  EXPECT_EQ(chunk.end_offset, 97583u);
  EXPECT_EQ(DecodeFixed16(image.data() + kHeaderLengthOffset), 757);
  EXPECT_EQ(DecodeFixed16(image.data() + 768 + kHeaderLengthOffset), 32757);
  EXPECT_EQ(DecodeFixed16(image.data() + 768 + kBlockBytes + kHeaderLengthOffset), 32036);
}

TEST(LogWriterTest, EmptyRecordIsOneFullHeader) {
  ExpectRoundTrip({""});
  EXPECT_EQ(WriteImage({""}).size(), kHeaderBytes);
}

TEST(LogWriterTest, OneByteRecord) { ExpectRoundTrip({"x"}); }

TEST(LogWriterTest, RecordExactlyFillsBlock) {
  std::vector<LogSpan> spans;
  std::string image = WriteImage({Payload(kFragmentBytesMax, 1), "next"}, &spans);
  EXPECT_EQ(spans[0].end_offset, kBlockBytes);
  EXPECT_EQ(spans[1].offset, kBlockBytes);  // No trailer, no empty fragment.
  EXPECT_EQ(static_cast<uint8_t>(image[kHeaderTypeOffset]), 1);  // FULL.
  ExpectRoundTrip({Payload(kFragmentBytesMax, 1), "next"});
}

TEST(LogWriterTest, HeaderDoesNotFitTrailerIsZeroPadded) {
  const size_t first = kFragmentBytesMax - kHeaderBytes + 1;  // Leaves 10 bytes.
  std::vector<LogSpan> spans;
  std::string image = WriteImage({Payload(first, 1), "next"}, &spans);
  EXPECT_EQ(spans[0].end_offset, kBlockBytes - 10);
  EXPECT_EQ(spans[1].offset, kBlockBytes);
  EXPECT_EQ(image.substr(kBlockBytes - 10, 10), std::string(10, '\0'));
  ExpectRoundTrip({Payload(first, 1), "next"});
}

TEST(LogWriterTest, ExactlyOneHeaderLeftGivesEmptyFirstFragment) {
  const size_t first = kFragmentBytesMax - kHeaderBytes;  // Leaves 11 bytes.
  std::vector<LogSpan> spans;
  std::string image = WriteImage({Payload(first, 1), "next"}, &spans);
  const size_t at = kBlockBytes - kHeaderBytes;
  EXPECT_EQ(spans[1].offset, at);
  EXPECT_EQ(DecodeFixed16(image.data() + at + kHeaderLengthOffset), 0);
  EXPECT_EQ(static_cast<uint8_t>(image[at + kHeaderTypeOffset]), 2);  // FIRST.
  EXPECT_EQ(static_cast<uint8_t>(image[kBlockBytes + kHeaderTypeOffset]), 4);  // LAST.
  ExpectRoundTrip({Payload(first, 1), "next"});
}

TEST(LogWriterTest, HundredKilobyteRecordSpansFourBlocks) {
  std::vector<LogSpan> spans;
  WriteImage({Payload(100 * 1000, 1)}, &spans);
  EXPECT_EQ(spans[0].end_offset, 100 * 1000 + 4 * kHeaderBytes);
  ExpectRoundTrip({"a", Payload(100 * 1000, 1), "b"});
}

TEST(LogWriterTest, LargestRecordRoundTrips) {
  ExpectRoundTrip({Payload(kLogRecordBytesMax, 1), Payload(1000, 2)});
}

TEST(LogWriterTest, RandomizedRoundTripInRandomBatchesAndPieces) {
  std::mt19937 random(20240611);
  std::vector<std::string> payloads;
  std::vector<LogSpan> spans;
  std::string image;
  LogWriter writer(kSegment, kSegmentBytesMax);
  for (int i = 0; i < 3000; ++i) {
    uint32_t kind = random() % 100;
    size_t bytes = kind < 60 ? random() % 200
                 : kind < 90 ? random() % 5000
                 : kind < 99 ? random() % 70000
                             : random() % kLogRecordBytesMax;
    payloads.push_back(Payload(bytes, i));
    spans.push_back(writer.Append(payloads.back()));
    if (random() % 7 == 0) {
      LogBatch batch = writer.TakeBatch();
      ASSERT_EQ(batch.file_offset, image.size());
      image += batch.bytes;
    }
  }
  image += writer.TakeBatch().bytes;
  for (size_t piece_bytes : {size_t{0}, kBlockBytes * (1 + random() % 40)}) {
    ReadResult result = ReadImage(image, piece_bytes);
    ASSERT_EQ(result.records.size(), payloads.size());
    for (size_t i = 0; i < payloads.size(); ++i) {
      ASSERT_EQ(result.records[i].payload, payloads[i]) << i;
      ASSERT_EQ(result.records[i].offset, spans[i].offset) << i;
    }
    EXPECT_TRUE(result.damage.empty());
    EXPECT_EQ(result.end.offset, image.size());
    EXPECT_FALSE(result.end.torn);
  }
}

TEST(LogWriterTest, PartsFrameLikeTheirConcatenation) {
  std::string head = Payload(40000, 1);
  std::string body = Payload(70000, 2);
  LogWriter parts(kSegment, kSegmentBytesMin);
  parts.Append({"", head, "", body, ""});
  EXPECT_EQ(parts.TakeBatch().bytes, WriteImage({head + body}));
}

TEST(LogWriterTest, BatchesAreContiguousAndRecycleBuffers) {
  LogWriter writer(kSegment, kSegmentBytesMin);
  writer.Append(Payload(50000, 1));
  LogBatch first = writer.TakeBatch();
  EXPECT_EQ(first.file_offset, 0u);
  EXPECT_EQ(writer.pending_bytes(), 0u);
  writer.Append("x");
  LogBatch second = writer.TakeBatch(std::move(first.bytes));
  EXPECT_EQ(second.file_offset, 50000 + 2 * kHeaderBytes);
  EXPECT_EQ(second.bytes.size(), kHeaderBytes + 1);
  EXPECT_EQ(writer.offset(), second.file_offset + second.bytes.size());
}

TEST(LogWriterTest, FitsStopsAtSegmentEnd) {
  const uint64_t start = kSegmentBytesMin - 100;  // 100 bytes left, mid-block.
  LogWriter writer(kSegment, kSegmentBytesMin, start);
  EXPECT_EQ(writer.FramedBytes(89), 100u);
  EXPECT_TRUE(writer.Fits(89));
  EXPECT_FALSE(writer.Fits(90));
  EXPECT_FALSE(writer.Fits(kLogRecordBytesMax + 1));
  LogSpan span = writer.Append(Payload(89, 1));
  EXPECT_EQ(span.end_offset, kSegmentBytesMin);
  EXPECT_FALSE(writer.Fits(0));
}

TEST(LogWriterTest, FramedBytesCountsTrailerPadding) {
  LogWriter writer(kSegment, kSegmentBytesMin, kBlockBytes - 5);
  EXPECT_EQ(writer.FramedBytes(0), 5 + kHeaderBytes);
  EXPECT_EQ(writer.Append("").offset, kBlockBytes);
}

TEST(LogWriterTest, ReadingFromARecordOffsetStartsThere) {
  std::vector<std::string> payloads = {Payload(30000, 1), Payload(5000, 2), Payload(40000, 3)};
  std::vector<LogSpan> spans;
  std::string image = WriteImage(payloads, &spans);
  ReadResult result = ReadImage(std::string_view(image).substr(spans[1].offset), kBlockBytes,
                                kSegment, spans[1].offset);
  ASSERT_EQ(result.records.size(), 2u);
  EXPECT_EQ(result.records[0].offset, spans[1].offset);
  EXPECT_EQ(result.records[1].payload, payloads[2]);
  EXPECT_EQ(result.end.offset, image.size());
}

TEST(LogWriterDeathTest, OversizedRecordIsABug) {
  LogWriter writer(kSegment, kSegmentBytesMin);
  std::string too_big(kLogRecordBytesMax + 1, 'x');
  EXPECT_DEATH(writer.Append(too_big), "kLogRecordBytesMax");
}

}  // namespace
}  // namespace ringmta::queue
