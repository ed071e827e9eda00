// Fixed-width and varint encodings: exact bytes, round trips, and rejection of
// truncated, overlong and non-minimal varints.
#include "queue/coding.h"

#include <string>

#include "gtest/gtest.h"

namespace ringmta::queue {
namespace {

TEST(CodingTest, FixedIsLittleEndian) {
  std::string out;
  PutFixed16(&out, 0x0102);
  PutFixed32(&out, 0x03040506);
  PutFixed64(&out, 0x0708090a0b0c0d0eull);
  EXPECT_EQ(out, std::string("\x02\x01\x06\x05\x04\x03\x0e\x0d\x0c\x0b\x0a\x09\x08\x07", 14));
  EXPECT_EQ(DecodeFixed16(out.data()), 0x0102);
  EXPECT_EQ(DecodeFixed32(out.data() + 2), 0x03040506u);
  EXPECT_EQ(DecodeFixed64(out.data() + 6), 0x0708090a0b0c0d0eull);
}

TEST(CodingTest, VarintExactBytes) {
  std::string out;
  PutVarint(&out, 0);
  PutVarint(&out, 127);
  PutVarint(&out, 128);
  PutVarint(&out, 300);
  EXPECT_EQ(out, std::string("\x00\x7f\x80\x01\xac\x02", 6));
}

TEST(CodingTest, VarintRoundTripsEdgeValues) {
  for (uint64_t value : {uint64_t{0}, uint64_t{1}, uint64_t{127}, uint64_t{128},
                         uint64_t{16383}, uint64_t{16384}, uint64_t{1} << 32,
                         (uint64_t{1} << 63) - 1, uint64_t{1} << 63, ~uint64_t{0}}) {
    std::string out;
    PutVarint(&out, value);
    EXPECT_EQ(out.size(), VarintBytes(value));
    std::string_view in = out;
    uint64_t decoded = 12345;
    ASSERT_EQ(GetVarint(&in, &decoded), VarintResult::kOk) << value;
    EXPECT_EQ(decoded, value);
    EXPECT_TRUE(in.empty());
  }
}

TEST(CodingTest, VarintRejectsTruncated) {
  std::string_view in("\x80\x80", 2);
  uint64_t value;
  EXPECT_EQ(GetVarint(&in, &value), VarintResult::kTruncated);
  EXPECT_EQ(in.size(), 2u);  // Untouched on failure.
  std::string_view empty;
  EXPECT_EQ(GetVarint(&empty, &value), VarintResult::kTruncated);
}

TEST(CodingTest, VarintRejectsOverflow) {
  uint64_t value;
  std::string_view eleven("\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 11);
  EXPECT_EQ(GetVarint(&eleven, &value), VarintResult::kOverflow);
  std::string_view tenth_too_big("\xff\xff\xff\xff\xff\xff\xff\xff\xff\x02", 10);
  EXPECT_EQ(GetVarint(&tenth_too_big, &value), VarintResult::kOverflow);
}

TEST(CodingTest, VarintRejectsNonMinimal) {
  uint64_t value;
  std::string_view padded_zero("\x80\x00", 2);
  EXPECT_EQ(GetVarint(&padded_zero, &value), VarintResult::kNotMinimal);
  std::string_view padded_one("\x81\x80\x00", 3);
  EXPECT_EQ(GetVarint(&padded_one, &value), VarintResult::kNotMinimal);
}

}  // namespace
}  // namespace ringmta::queue
