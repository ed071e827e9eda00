// One test per kind of damage the reader must classify (queue_format §3):
// where the log ends, what is reported as mid-log damage, and which records
// survive. Round trips live in log_writer_test.cc.
#include "queue/log_reader.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "queue/log_test_util.h"

namespace ringmta::queue {
namespace {

using testing::Fragment;
using testing::kSegment;
using testing::PadToBlock;
using testing::Payload;
using testing::ReadImage;
using testing::ReadResult;
using testing::WriteImage;

constexpr uint8_t kFull = 1, kFirst = 2, kMiddle = 3, kLast = 4;

// Ten 10,000-byte records: 0-2 lie in block 0, 3 runs from block 0 into 1.
std::vector<std::string> TenRecords() {
  std::vector<std::string> payloads;
  for (uint32_t i = 0; i < 10; ++i) payloads.push_back(Payload(10000, i));
  return payloads;
}

// Expects exactly the records with these indices, in order.
void ExpectSurvivors(const ReadResult& result, const std::vector<std::string>& payloads,
                     const std::vector<size_t>& survivors) {
  ASSERT_EQ(result.records.size(), survivors.size());
  for (size_t i = 0; i < survivors.size(); ++i) {
    EXPECT_EQ(result.records[i].payload, payloads[survivors[i]]) << "survivor " << i;
  }
}

TEST(LogReaderTest, EndOfDataAtRecordBoundaryIsClean) {
  ReadResult result = ReadImage(WriteImage({"a", "b"}));
  EXPECT_EQ(result.records.size(), 2u);
  EXPECT_EQ(result.end.offset, 2 * (kHeaderBytes + 1));
  EXPECT_FALSE(result.end.torn);
  EXPECT_FALSE(result.end.tail.has_value());
}

TEST(LogReaderTest, ZeroFilledPreallocatedTailIsCleanEnd) {
  std::vector<LogSpan> spans;
  std::string image = WriteImage({"a", Payload(50000, 1)}, &spans);
  image.resize(kSegmentBytesMin, '\0');
  ReadResult result = ReadImage(image, 8 * kBlockBytes);
  EXPECT_EQ(result.records.size(), 2u);
  EXPECT_TRUE(result.damage.empty());
  EXPECT_EQ(result.end.offset, spans[1].end_offset);
  EXPECT_FALSE(result.end.torn);
  ASSERT_TRUE(result.end.tail.has_value());
  EXPECT_EQ(result.end.tail->problem, LogProblem::kZeroType);
  EXPECT_EQ(result.end.tail->bytes, kSegmentBytesMin - spans[1].end_offset);
}

TEST(LogReaderTest, TruncatedHeaderEndsLogBeforeIt) {
  std::vector<LogSpan> spans;
  std::string image = WriteImage({"a", "b", "c"}, &spans);
  image.resize(spans[2].offset + 5);
  ReadResult result = ReadImage(image);
  EXPECT_EQ(result.records.size(), 2u);
  EXPECT_EQ(result.end.offset, spans[2].offset);
  EXPECT_TRUE(result.end.torn);
  EXPECT_EQ(result.end.tail->problem, LogProblem::kTruncatedHeader);
  EXPECT_TRUE(result.damage.empty());
}

TEST(LogReaderTest, TruncatedPayloadEndsLogBeforeIt) {
  std::vector<LogSpan> spans;
  std::string image = WriteImage({"a", "b", "cdefgh"}, &spans);
  image.resize(spans[2].offset + kHeaderBytes + 3);
  ReadResult result = ReadImage(image);
  EXPECT_EQ(result.records.size(), 2u);
  EXPECT_EQ(result.end.offset, spans[2].offset);
  EXPECT_TRUE(result.end.torn);
  EXPECT_EQ(result.end.tail->problem, LogProblem::kTruncatedPayload);
}

TEST(LogReaderTest, ChecksumMismatchMidLogSkipsToNextBlockAndReports) {
  std::vector<std::string> payloads = TenRecords();
  std::vector<LogSpan> spans;
  std::string image = WriteImage(payloads, &spans);
  image[spans[0].offset + kHeaderBytes + 100] ^= 1;
  ReadResult result = ReadImage(image);
  // Block 0 is lost with record 3, whose LAST in block 1 is then an orphan.
  ExpectSurvivors(result, payloads, {4, 5, 6, 7, 8, 9});
  ASSERT_EQ(result.damage.size(), 1u);
  EXPECT_EQ(result.damage[0].offset, 0u);
  EXPECT_EQ(result.damage[0].bytes, spans[4].offset);
  EXPECT_EQ(result.damage[0].problem, LogProblem::kChecksumMismatch);
  EXPECT_EQ(result.damage[0].problem_offset, 0u);
  EXPECT_EQ(result.stats.bytes_dropped, spans[4].offset);
  EXPECT_EQ(result.end.offset, image.size());
  EXPECT_FALSE(result.end.torn);
}

TEST(LogReaderTest, ChecksumMismatchInLastRecordIsTornTail) {
  std::vector<std::string> payloads = TenRecords();
  std::vector<LogSpan> spans;
  std::string image = WriteImage(payloads, &spans);
  image[spans[9].offset + kHeaderBytes + 9999] ^= 0x40;
  ReadResult result = ReadImage(image);
  EXPECT_EQ(result.records.size(), 9u);
  EXPECT_TRUE(result.damage.empty());
  EXPECT_EQ(result.end.offset, spans[9].offset);
  EXPECT_TRUE(result.end.torn);
  EXPECT_EQ(result.end.tail->problem, LogProblem::kChecksumMismatch);
}

TEST(LogReaderTest, ImpossibleLengthIsDamage) {
  std::vector<std::string> payloads = TenRecords();
  std::vector<LogSpan> spans;
  std::string image = WriteImage(payloads, &spans);
  EncodeFixed16(image.data() + spans[1].offset + kHeaderLengthOffset, 40000);
  ReadResult result = ReadImage(image);
  ExpectSurvivors(result, payloads, {0, 4, 5, 6, 7, 8, 9});
  ASSERT_EQ(result.damage.size(), 1u);
  EXPECT_EQ(result.damage[0].offset, spans[1].offset);
  EXPECT_EQ(result.damage[0].problem, LogProblem::kBadLength);
}

TEST(LogReaderTest, StaleBytesFromEarlierUseOfFileEndTheLog) {
  // The file held segment 3; segment 7 then rewrote its start with records of
  // the same sizes, so an intact old header follows the new data.
  std::vector<std::string> old_payloads = TenRecords();
  std::string image = WriteImage(old_payloads, nullptr, 3);
  std::vector<LogSpan> spans;
  std::string fresh = WriteImage({Payload(10000, 100), Payload(10000, 101)}, &spans);
  image.replace(0, fresh.size(), fresh);
  ReadResult result = ReadImage(image);
  ASSERT_EQ(result.records.size(), 2u);
  EXPECT_EQ(result.records[1].payload, Payload(10000, 101));
  EXPECT_TRUE(result.damage.empty());
  EXPECT_EQ(result.end.offset, spans[1].end_offset);
  EXPECT_TRUE(result.end.torn);
  EXPECT_EQ(result.end.tail->problem, LogProblem::kStaleSegment);
}

TEST(LogReaderTest, StaleBlockMidLogIsDamageNotRecords) {
  std::vector<std::string> payloads = TenRecords();
  std::vector<LogSpan> spans;
  std::string image = WriteImage(payloads, &spans);
  std::string old_image = WriteImage(TenRecords(), nullptr, 3);
  image.replace(kBlockBytes, kBlockBytes, old_image.substr(kBlockBytes, kBlockBytes));
  ReadResult result = ReadImage(image);
  ASSERT_EQ(result.damage.size(), 1u);
  EXPECT_EQ(result.damage[0].problem, LogProblem::kStaleSegment);
  EXPECT_EQ(result.damage[0].offset, spans[3].offset);  // The record cut by it.
  EXPECT_EQ(result.damage[0].bytes, spans[7].offset - spans[3].offset);
  ExpectSurvivors(result, payloads, {0, 1, 2, 7, 8, 9});
}

TEST(LogReaderTest, ChecksumCoversSegmentNumber) {
  std::string image = Fragment(kFull, "abc");
  EncodeFixed32(image.data() + kHeaderSegmentOffset, kSegment + 1);
  ReadResult result = ReadImage(image);
  EXPECT_TRUE(result.records.empty());
  EXPECT_EQ(result.end.tail->problem, LogProblem::kChecksumMismatch);
}

TEST(LogReaderTest, ZeroedBlockMidLogIsDamage) {
  std::vector<std::string> payloads = TenRecords();
  std::vector<LogSpan> spans;
  std::string image = WriteImage(payloads, &spans);
  std::fill(image.begin() + kBlockBytes, image.begin() + 2 * kBlockBytes, '\0');
  ReadResult result = ReadImage(image);
  ASSERT_EQ(result.damage.size(), 1u);
  EXPECT_EQ(result.damage[0].problem, LogProblem::kZeroType);
  EXPECT_EQ(result.damage[0].offset, spans[3].offset);
  EXPECT_EQ(result.damage[0].problem_offset, kBlockBytes);
  ExpectSurvivors(result, payloads, {0, 1, 2, 7, 8, 9});
}

TEST(LogReaderTest, MissingLastFragmentAtEndIsTornTail) {
  std::vector<LogSpan> spans;
  std::string image = WriteImage({"a", Payload(100000, 1)}, &spans);
  image.resize(3 * kBlockBytes);  // Keeps FIRST and two MIDDLEs, loses LAST.
  ReadResult result = ReadImage(image);
  EXPECT_EQ(result.records.size(), 1u);
  EXPECT_EQ(result.end.offset, spans[1].offset);
  EXPECT_TRUE(result.end.torn);
  EXPECT_EQ(result.end.tail->problem, LogProblem::kMissingLastFragment);
  EXPECT_EQ(result.end.tail->problem_offset, 3 * kBlockBytes);
}

TEST(LogReaderTest, MissingLastFragmentMidLogIsDamage) {
  std::string image = Fragment(kFirst, "ab") + Fragment(kFull, "cd");
  ReadResult result = ReadImage(image);
  ASSERT_EQ(result.records.size(), 1u);
  EXPECT_EQ(result.records[0].payload, "cd");
  EXPECT_EQ(result.records[0].offset, kHeaderBytes + 2);
  ASSERT_EQ(result.damage.size(), 1u);
  EXPECT_EQ(result.damage[0].problem, LogProblem::kMissingLastFragment);
  EXPECT_EQ(result.damage[0].offset, 0u);
  EXPECT_EQ(result.damage[0].bytes, kHeaderBytes + 2);
}

TEST(LogReaderTest, FirstFollowedByFirstDropsTheEarlierOne) {
  std::string image = Fragment(kFirst, "ab") + Fragment(kFirst, "cd") + Fragment(kLast, "ef");
  ReadResult result = ReadImage(image);
  ASSERT_EQ(result.records.size(), 1u);
  EXPECT_EQ(result.records[0].payload, "cdef");
  ASSERT_EQ(result.damage.size(), 1u);
  EXPECT_EQ(result.damage[0].problem, LogProblem::kMissingLastFragment);
}

TEST(LogReaderTest, OrphanFragmentIsDamage) {
  std::string image = Fragment(kMiddle, "ab") + Fragment(kLast, "cd") + Fragment(kFull, "ef");
  ReadResult result = ReadImage(image);
  ASSERT_EQ(result.records.size(), 1u);
  ASSERT_EQ(result.damage.size(), 1u);
  EXPECT_EQ(result.damage[0].problem, LogProblem::kOrphanFragment);
  EXPECT_EQ(result.damage[0].bytes, 2 * (kHeaderBytes + 2));
}

TEST(LogReaderTest, UnknownTypeSkipsToNextBlock) {
  std::string image = Fragment(5, "future") + Fragment(kFull, "lost");
  PadToBlock(&image);
  image += Fragment(kFull, "kept");
  ReadResult result = ReadImage(image);
  ASSERT_EQ(result.records.size(), 1u);
  EXPECT_EQ(result.records[0].payload, "kept");
  ASSERT_EQ(result.damage.size(), 1u);
  EXPECT_EQ(result.damage[0].problem, LogProblem::kUnknownType);
  EXPECT_EQ(result.damage[0].bytes, kBlockBytes);
}

TEST(LogReaderTest, IgnorableTypeIsSkippedEvenInsideAFragmentedRecord) {
  std::string image = Fragment(kFirst, "ab") + Fragment(kIgnorableBit | 9, "hint") +
                      Fragment(kLast, "cd") + Fragment(kIgnorableBit | 1, "");
  ReadResult result = ReadImage(image);
  ASSERT_EQ(result.records.size(), 1u);
  EXPECT_EQ(result.records[0].payload, "abcd");
  EXPECT_TRUE(result.damage.empty());
  EXPECT_EQ(result.stats.ignored_records, 2u);
  EXPECT_EQ(result.end.offset, image.size());
}

TEST(LogReaderTest, RecordTooLargeIsDamage) {
  std::string image = Fragment(kFirst, Payload(kFragmentBytesMax, 1));
  while (image.size() <= kLogRecordBytesMax + kBlockBytes) {
    image += Fragment(kMiddle, Payload(kFragmentBytesMax, 2));
  }
  image += Fragment(kLast, "end");
  PadToBlock(&image);
  image += Fragment(kFull, "after");
  ReadResult result = ReadImage(image, 4 * kBlockBytes);
  ASSERT_EQ(result.records.size(), 1u);
  EXPECT_EQ(result.records[0].payload, "after");
  ASSERT_EQ(result.damage.size(), 1u);
  EXPECT_EQ(result.damage[0].problem, LogProblem::kRecordTooLarge);
  EXPECT_EQ(result.damage[0].offset, 0u);
}

TEST(LogReaderTest, DamageThenZeroTailIsReportedAndEndsClean) {
  std::vector<std::string> payloads = TenRecords();
  std::vector<LogSpan> spans;
  std::string image = WriteImage(payloads, &spans);
  image[spans[5].offset + kHeaderBytes] ^= 1;
  image.resize(kSegmentBytesMin, '\0');
  ReadResult result = ReadImage(image, kBlockBytes);
  EXPECT_EQ(result.damage.size(), 1u);
  EXPECT_EQ(result.end.offset, spans[9].end_offset);
  EXPECT_FALSE(result.end.torn);
}

TEST(LogReaderTest, DamageAcrossPiecesMatchesWholeRead) {
  std::vector<std::string> payloads = TenRecords();
  std::string image = WriteImage(payloads);
  image[40000] ^= 0x10;
  ReadResult whole = ReadImage(image);
  ReadResult pieces = ReadImage(image, kBlockBytes);
  ASSERT_EQ(whole.records.size(), pieces.records.size());
  ASSERT_EQ(whole.damage.size(), 1u);
  ASSERT_EQ(pieces.damage.size(), 1u);
  EXPECT_EQ(whole.damage[0].offset, pieces.damage[0].offset);
  EXPECT_EQ(whole.damage[0].bytes, pieces.damage[0].bytes);
  EXPECT_EQ(whole.end.offset, pieces.end.offset);
}

TEST(LogReaderTest, NullReporterStillCountsDamage) {
  std::string image = Fragment(kLast, "x") + Fragment(kFull, "y");
  LogReader reader(kSegment, nullptr);
  reader.Feed(image);
  reader.Finish();
  LogRecord record;
  ASSERT_EQ(reader.Next(&record), LogReader::Step::kRecord);
  EXPECT_EQ(record.payload, "y");
  EXPECT_EQ(reader.Next(&record), LogReader::Step::kEnd);
  EXPECT_EQ(reader.stats().damaged_regions, 1u);
  EXPECT_EQ(reader.stats().bytes_dropped, kHeaderBytes + 1);
}

TEST(LogReaderTest, DamageDescribesItself) {
  LogDamage damage{100, 32668, LogProblem::kChecksumMismatch, 120};
  EXPECT_EQ(damage.ToString(),
            "32668 bytes dropped at offset 100: checksum mismatch at offset 120");
}

TEST(LogReaderDeathTest, PieceEndingInsideABlockMustBeLast) {
  std::string image = WriteImage({"a"});
  std::vector<LogDamage> damage;
  testing::CollectingReporter reporter(&damage);
  LogReader reader(kSegment, &reporter);
  reader.Feed(image);
  LogRecord record;
  ASSERT_EQ(reader.Next(&record), LogReader::Step::kRecord);
  ASSERT_EQ(reader.Next(&record), LogReader::Step::kNeedInput);
  EXPECT_DEATH(reader.Feed(image), "kBlockBytes");
}

}  // namespace
}  // namespace ringmta::queue
