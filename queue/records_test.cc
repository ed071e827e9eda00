// Logical records: exact bytes, round trips of every type (minimal and at
// every bound), a malformed-input test per rule, seeded random corruption
// that must never crash, and the body completeness rule (BodyTally).
#include "queue/records.h"

#include <random>
#include <string>

#include "gtest/gtest.h"
#include "queue/coding.h"
#include "queue/crc32c.h"
#include "queue/queue_limits.h"

namespace ringmta::queue {
namespace {

MessageBegin SmallBegin() {
  MessageBegin begin;
  begin.message_id = 1;
  begin.received_ms = 1000;
  begin.deadline_ms = 2000;
  begin.recipients.push_back({"a", 0, ""});
  return begin;
}

MessageBegin FullBegin() {
  MessageBegin begin;
  begin.message_id = 0x1122334455667788ull;
  begin.received_ms = 1'700'000'000'000;
  begin.deadline_ms = begin.received_ms + 5 * 86'400'000;
  begin.smtputf8 = true;
  begin.body_type = BodyType::k8BitMime;
  begin.ret = DsnRet::kHeaders;
  begin.declared_size = 123456;
  begin.sender = "bounces@example.org";
  begin.envid = "QQ314159";
  begin.client_address = "[2001:db8::1]:40000";
  begin.client_helo = "mail.example.org";
  begin.auth_user = "alice";
  begin.recipients.push_back({"bob@example.com", kNotifySuccess | kNotifyFailure,
                              "rfc822;bob@example.com"});
  begin.recipients.push_back({"carol@example.net", kNotifyNever, ""});
  return begin;
}

RecipientOutcome Outcome(uint8_t code_class) {
  return RecipientOutcome{42, 1, 1'700'000'000'000, {code_class, 1, 1}, "mx.example.com",
                          "550 5.1.1 <bob@example.com>: user unknown"};
}

template <typename T>
T RoundTrip(const std::string& bytes) {
  absl::StatusOr<Record> decoded = DecodeRecord(bytes);
  EXPECT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_TRUE(std::holds_alternative<T>(*decoded));
  EXPECT_EQ(EncodeRecord(*decoded), bytes);  // Canonical: decode-encode is identity.
  return std::get<T>(*decoded);
}

void ExpectDataLoss(std::string_view bytes, std::string_view needle) {
  absl::StatusOr<Record> decoded = DecodeRecord(bytes);
  ASSERT_FALSE(decoded.ok()) << "expected failure containing: " << needle;
  EXPECT_EQ(decoded.status().code(), absl::StatusCode::kDataLoss);
  std::string message(decoded.status().message());
  EXPECT_NE(message.find(needle), std::string::npos) << message;
}

TEST(RecordsTest, SegmentHeaderBytesAreExact) {
  std::string bytes = EncodeSegmentHeader({3, 7, 0x0102030405});
  EXPECT_EQ(bytes, std::string("\x01\x01\x03\x00\x07\x00\x00\x00\x05\x04\x03\x02\x01\x00\x00\x00",
                               16));
  SegmentHeader header = RoundTrip<SegmentHeader>(bytes);
  EXPECT_EQ(header.shard, 3);
  EXPECT_EQ(header.segment, 7u);
}

TEST(RecordsTest, MessageMovedBytesAreExact) {
  std::string bytes = EncodeMessageMoved({0x0a, 0x0b});
  EXPECT_EQ(bytes, std::string("\x09\x01\x0a\0\0\0\0\0\0\0\x0b\0\0\0\0\0\0\0", 18));
  EXPECT_EQ(RoundTrip<MessageMoved>(bytes).message_id, 0x0au);
  EXPECT_EQ(PeekMessageId(bytes), 0x0au);
  ExpectDataLoss(bytes + "x", "MessageMoved");
  ExpectDataLoss(std::string("\x09\x01\0\0\0\0\0\0\0\0\x0b\0\0\0\0\0\0\0", 18), "message_id");
}

TEST(RecordsTest, MessageDoneBytesAreExact) {
  std::string bytes = EncodeMessageDone({0x0a, 0x0b, DoneReason::kExpired});
  EXPECT_EQ(bytes, std::string("\x08\x01\x0a\0\0\0\0\0\0\0\x0b\0\0\0\0\0\0\0\x02", 19));
  EXPECT_EQ(RoundTrip<MessageDone>(bytes).reason, DoneReason::kExpired);
}

TEST(RecordsTest, MessageBeginRoundTrips) {
  MessageBegin begin = RoundTrip<MessageBegin>(EncodeMessageBegin(FullBegin()));
  EXPECT_EQ(begin.message_id, 0x1122334455667788ull);
  EXPECT_TRUE(begin.smtputf8);
  EXPECT_EQ(begin.body_type, BodyType::k8BitMime);
  EXPECT_EQ(begin.ret, DsnRet::kHeaders);
  EXPECT_EQ(begin.sender, "bounces@example.org");
  EXPECT_EQ(begin.client_address, "[2001:db8::1]:40000");
  ASSERT_EQ(begin.recipients.size(), 2u);
  EXPECT_EQ(begin.recipients[0].orcpt, "rfc822;bob@example.com");
  EXPECT_EQ(begin.recipients[1].notify, kNotifyNever);
  EXPECT_EQ(EncodeMessageBegin(SmallBegin()).size(), 40u);
}

TEST(RecordsTest, LargestMessageBeginFitsOneLogRecord) {
  MessageBegin begin = SmallBegin();
  begin.sender = std::string(kAddressBytesMax, 's');
  begin.envid = std::string(kEnvidBytesMax, 'e');
  begin.client_address = std::string(kClientAddressBytesMax, 'c');
  begin.client_helo = std::string(kHostBytesMax, 'h');
  begin.auth_user = std::string(kAuthUserBytesMax, 'u');
  begin.recipients.assign(limits::kSmtpRecipientsMax,
                          {std::string(kAddressBytesMax, 'r'), kNotifyDelay,
                           std::string(kOrcptBytesMax, 'o')});
  std::string bytes = EncodeMessageBegin(begin);
  EXPECT_LE(bytes.size(), kLogRecordBytesMax);
  EXPECT_EQ(RoundTrip<MessageBegin>(bytes).recipients.size(), limits::kSmtpRecipientsMax);
}

TEST(RecordsTest, BodyChunkRoundTripsAndPrefixFramesTheSameBytes) {
  std::string data(kBodyChunkBytesMax, 'x');
  std::string bytes = EncodeBodyChunk({9, 3, data});
  EXPECT_EQ(bytes, EncodeBodyChunkPrefix(9, 3, data.size()) + data);
  BodyChunk chunk = RoundTrip<BodyChunk>(bytes);
  EXPECT_EQ(chunk.chunk_index, 3u);
  EXPECT_EQ(chunk.data, data);
  EXPECT_EQ(chunk.data.data(), bytes.data() + bytes.size() - data.size());  // A view.
}

TEST(RecordsTest, CommitAndOutcomesRoundTrip) {
  MessageCommit commit = RoundTrip<MessageCommit>(EncodeMessageCommit({5, 100, 0xdeadbeef, 2}));
  EXPECT_EQ(commit.body_crc32c, 0xdeadbeefu);
  RoundTrip<MessageCommit>(EncodeMessageCommit({5, 0, 0, 0}));
  RecipientDelivered delivered = RoundTrip<RecipientDelivered>(
      EncodeRecipientDelivered({Outcome(2)}));
  EXPECT_EQ(delivered.outcome.remote_host, "mx.example.com");
  RecipientDeferred deferred = RoundTrip<RecipientDeferred>(
      EncodeRecipientDeferred({Outcome(4), 3, 1'700'000'600'000}));
  EXPECT_EQ(deferred.attempts, 3u);
  EXPECT_EQ(deferred.retry_at_ms, 1'700'000'600'000);
  RecipientFailed failed = RoundTrip<RecipientFailed>(EncodeRecipientFailed({Outcome(5)}));
  EXPECT_EQ(failed.outcome.status.subject, 1);
  EXPECT_EQ(failed.outcome.response, Outcome(5).response);
}

TEST(RecordsTest, EveryTruncationIsDataLossNotACrash) {
  for (const std::string& bytes :
       {EncodeSegmentHeader({1, 2, 3}), EncodeMessageBegin(FullBegin()),
        EncodeBodyChunk({1, 0, "abc"}), EncodeMessageCommit({1, 3, 7, 1}),
        EncodeRecipientDeferred({Outcome(4), 1, 1'700'000'000'000}),
        EncodeMessageDone({1, 2, DoneReason::kDeleted})}) {
    for (size_t size = 0; size < bytes.size(); ++size) {
      EXPECT_EQ(DecodeRecord(bytes.substr(0, size)).status().code(), absl::StatusCode::kDataLoss)
          << "type " << int{bytes[0]} << " size " << size;
    }
  }
}

TEST(RecordsTest, TrailingBytesAreDataLoss) {
  ExpectDataLoss(EncodeMessageDone({1, 2, DoneReason::kAllFinal}) + "x", "1 trailing bytes");
}

TEST(RecordsTest, UnknownTypeAndVersionAreDataLoss) {
  ExpectDataLoss(std::string("\x00\x01", 2), "unknown record type 0");
  ExpectDataLoss(std::string("\x0a\x01", 2), "unknown record type 10");
  std::string bytes = EncodeMessageDone({1, 2, DoneReason::kAllFinal});
  bytes[1] = 2;
  ExpectDataLoss(bytes, "MessageDone: version 2 not supported");
}

// SmallBegin's bytes: 26 flags, 27 body_type, 28 ret, 35 recipient count,
// 36 address length, 37 address, 38 notify, 39 orcpt length.
TEST(RecordsTest, MalformedMessageBeginIsDataLoss) {
  const std::string good = EncodeMessageBegin(SmallBegin());
  auto with = [&](size_t at, char byte) {
    std::string bytes = good;
    bytes[at] = byte;
    return bytes;
  };
  ExpectDataLoss(with(26, 2), "flags: unknown bits");
  ExpectDataLoss(with(27, 4), "body_type: unknown");
  ExpectDataLoss(with(28, 3), "ret: unknown");
  ExpectDataLoss(with(38, kNotifyNever | kNotifySuccess), "recipient 0: notify");
  ExpectDataLoss(with(38, 0x10), "notify: bad set");
  ExpectDataLoss(with(2, 0).replace(2, 8, 8, '\0'), "message_id: zero");
  std::string no_recipients = good.substr(0, 35) + std::string(1, '\0');
  ExpectDataLoss(no_recipients, "recipients: count 0");
  std::string empty_address = good.substr(0, 36) + std::string("\0\0\0", 3);
  ExpectDataLoss(empty_address, "recipient 0: address: empty");
  std::string long_address = good.substr(0, 36);
  PutVarint(&long_address, kAddressBytesMax + 1);
  long_address += std::string(kAddressBytesMax + 1, 'a') + std::string("\0\0", 2);
  ExpectDataLoss(long_address, "recipient address: 257 exceeds 256");
  std::string too_many = good.substr(0, 35);
  PutVarint(&too_many, limits::kSmtpRecipientsMax + 1);
  ExpectDataLoss(too_many, "recipient_count: 1001 exceeds 1000");
  std::string late = good;
  EncodeFixed64(late.data() + 10, 3000);  // received after the deadline
  ExpectDataLoss(late, "deadline_ms: before received_ms");
  std::string negative = good;
  EncodeFixed64(negative.data() + 18, ~uint64_t{0});
  ExpectDataLoss(negative, "deadline_ms: time -1 out of range");
}

TEST(RecordsTest, NonMinimalVarintIsDataLoss) {
  std::string bytes = EncodeMessageCommit({1, 3, 7, 1});
  std::string padded = bytes.substr(0, 10) + std::string("\x83\x00", 2) + bytes.substr(11);
  ExpectDataLoss(padded, "body_bytes: varint not in shortest form");
}

TEST(RecordsTest, MalformedBodyChunkIsDataLoss) {
  std::string empty = EncodeBodyChunkPrefix(1, 0, 1).substr(0, 11) + std::string(1, '\0');
  ExpectDataLoss(empty, "data: empty");
  std::string huge = EncodeBodyChunkPrefix(1, 0, 1).substr(0, 11);
  PutVarint(&huge, kBodyChunkBytesMax + 1);
  huge += std::string(kBodyChunkBytesMax + 1, 'x');
  ExpectDataLoss(huge, "data: 65537 exceeds 65536");
  std::string short_data = EncodeBodyChunk({1, 0, "abcdef"});
  ExpectDataLoss(short_data.substr(0, short_data.size() - 1), "data: needs 6 bytes, 5 left");
}

TEST(RecordsTest, MalformedCommitIsDataLoss) {
  ExpectDataLoss(EncodeMessageCommit({1, 3, 7, 1}).substr(0, 15) + std::string("\x00", 1),
                 "chunk_count: 0 chunks cannot hold 3 bytes");
  std::string many = EncodeMessageCommit({1, 3, 7, 1});
  many.back() = 4;  // More chunks than bytes: chunks are never empty.
  ExpectDataLoss(many, "4 chunks cannot hold 3 bytes");
}

TEST(RecordsTest, MalformedOutcomesAreDataLoss) {
  std::string delivered = EncodeRecipientDelivered({Outcome(2)});
  std::string bad_class = delivered;
  bad_class[19] = 5;  // 2 type/version + 8 id + 1 recipient + 8 at_ms.
  ExpectDataLoss(bad_class, "RecipientDelivered: status: 5.1.1 not allowed here");
  std::string failed = EncodeRecipientFailed({Outcome(5)});
  failed[19] = 2;
  ExpectDataLoss(failed, "RecipientFailed: status: 2.1.1");
  std::string deferred = EncodeRecipientDeferred({Outcome(4), 1, 1'700'000'000'000});
  std::string zero_attempts = deferred;
  zero_attempts[deferred.size() - 9] = 0;
  ExpectDataLoss(zero_attempts, "attempts: 0");
  std::string early = deferred;
  EncodeFixed64(early.data() + deferred.size() - 8, 1);
  ExpectDataLoss(early, "retry_at_ms: before at_ms");
  std::string done = EncodeMessageDone({1, 2, DoneReason::kAllFinal});
  done.back() = 4;
  ExpectDataLoss(done, "MessageDone: reason: unknown");
  std::string header = EncodeSegmentHeader({1, 2, 3});
  header[2] = static_cast<char>(limits::kShardsMax);
  ExpectDataLoss(header, "SegmentHeader: shard: too large");
}

TEST(RecordsTest, RandomCorruptionNeverCrashes) {
  std::mt19937 random(7);
  const std::string records[] = {EncodeMessageBegin(FullBegin()),
                                 EncodeRecipientDeferred({Outcome(4), 2, 1'700'000'000'001}),
                                 EncodeBodyChunk({3, 1, "body bytes"})};
  int rejected = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string bytes = records[i % 3];
    for (int flips = 1 + random() % 3; flips > 0; --flips) {
      bytes[random() % bytes.size()] ^= static_cast<char>(1 + random() % 255);
    }
    absl::StatusOr<Record> decoded = DecodeRecord(bytes);
    if (!decoded.ok()) {
      ++rejected;
      EXPECT_EQ(decoded.status().code(), absl::StatusCode::kDataLoss);
    } else {
      EXPECT_EQ(EncodeRecord(*decoded), bytes);  // Whatever decodes is valid and canonical.
    }
  }
  EXPECT_GT(rejected, 1000);
}

TEST(RecordsTest, PeekMessageIdNamesTheMessageOfABrokenRecord) {
  std::string bytes = EncodeRecipientFailed({Outcome(5)});
  bytes.resize(bytes.size() - 3);
  EXPECT_FALSE(DecodeRecord(bytes).ok());
  EXPECT_EQ(PeekMessageId(bytes), 42u);
  EXPECT_EQ(PeekMessageId(EncodeSegmentHeader({1, 2, 3})), std::nullopt);
  EXPECT_EQ(PeekMessageId("\x02\x01\x05"), std::nullopt);
}

TEST(BodyTallyTest, WriterAndReaderAgreeOnACompleteBody) {
  BodyTally writer;
  std::string body;
  uint64_t index = 0;
  for (std::string_view chunk : {"Subject: hi\r\n", "\r\nhello\r\n", "bye\r\n"}) {
    EXPECT_EQ(writer.Add(chunk), index++);
    body += chunk;
  }
  MessageCommit commit = writer.Commit(77);
  EXPECT_EQ(commit.body_bytes, body.size());
  EXPECT_EQ(commit.body_crc32c, crc32c::Value(body));
  EXPECT_EQ(commit.chunk_count, 3u);
  BodyTally reader;
  EXPECT_TRUE(reader.AddChunk({77, 0, "Subject: hi\r\n"}).ok());
  EXPECT_TRUE(reader.AddChunk({77, 1, "\r\nhello\r\n"}).ok());
  EXPECT_TRUE(reader.AddChunk({77, 2, "bye\r\n"}).ok());
  EXPECT_TRUE(reader.Verify(commit).ok());
}

TEST(BodyTallyTest, GapRepeatAndAlteredBodyAreDataLoss) {
  BodyTally reader;
  ASSERT_TRUE(reader.AddChunk({1, 0, "a"}).ok());
  EXPECT_EQ(reader.AddChunk({1, 2, "c"}).code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(reader.AddChunk({1, 0, "a"}).code(), absl::StatusCode::kDataLoss);
  ASSERT_TRUE(reader.AddChunk({1, 1, "X"}).ok());
  BodyTally writer;
  writer.Add("a");
  writer.Add("b");
  absl::Status status = reader.Verify(writer.Commit(1));
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(std::string(status.message()).find("commit says 2 chunks, 2 bytes"), std::string::npos);
}

TEST(BodyTallyTest, EmptyBodyCommitsWithNoChunks) {
  MessageCommit commit = BodyTally().Commit(5);
  EXPECT_EQ(commit.chunk_count, 0u);
  EXPECT_TRUE(BodyTally().Verify(commit).ok());
  RoundTrip<MessageCommit>(EncodeMessageCommit(commit));
}

TEST(RecordsDeathTest, EncodingInvalidRecordIsABug) {
  MessageBegin begin = SmallBegin();
  begin.recipients.clear();
  EXPECT_DEATH(EncodeMessageBegin(begin), "recipients: count 0");
}

}  // namespace
}  // namespace ringmta::queue
