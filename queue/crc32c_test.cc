// CRC32C against published vectors (RFC 3720 §B.4 and the "123456789" check
// value), both implementations, and a bit-at-a-time reference on random data.
#include "queue/crc32c.h"

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace ringmta::queue::crc32c {
namespace {

// The definition itself, one bit at a time: slow and obviously right.
uint32_t ReferenceValue(std::string_view data) {
  uint32_t state = 0xffffffffu;
  for (unsigned char byte : data) {
    state ^= byte;
    for (int bit = 0; bit < 8; ++bit) state = (state >> 1) ^ ((state & 1) ? 0x82f63b78u : 0);
  }
  return ~state;
}

struct Vector {
  std::string data;
  uint32_t crc;
};

std::vector<Vector> KnownVectors() {
  std::string ascending(32, '\0');
  std::string descending(32, '\0');
  for (int i = 0; i < 32; ++i) {
    ascending[i] = static_cast<char>(i);
    descending[i] = static_cast<char>(31 - i);
  }
  // RFC 3720 §B.4: an iSCSI SCSI Read (10) command PDU.
  const unsigned char read_pdu[48] = {
      0x01, 0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
      0x00, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00,
      0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x18, 0x28, 0x00, 0x00, 0x00,
      0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
  return {
      {"", 0x00000000u},
      {"123456789", 0xe3069283u},
      {std::string(32, '\0'), 0x8a9136aau},
      {std::string(32, '\xff'), 0x62a8ab43u},
      {ascending, 0x46dd794eu},
      {descending, 0x113fdb5cu},
      {std::string(reinterpret_cast<const char*>(read_pdu), sizeof(read_pdu)), 0xd9963a56u},
  };
}

TEST(Crc32cTest, KnownVectors) {
  for (const Vector& v : KnownVectors()) {
    EXPECT_EQ(Value(v.data), v.crc) << "size " << v.data.size();
    EXPECT_EQ(internal::ExtendPortable(0, v.data), v.crc);
    EXPECT_EQ(ReferenceValue(v.data), v.crc);
  }
}

TEST(Crc32cTest, HardwareMatchesVectors) {
  if (!internal::HardwareAvailable()) GTEST_SKIP() << "no SSE4.2 on this CPU";
  for (const Vector& v : KnownVectors()) {
    EXPECT_EQ(internal::ExtendHardware(0, v.data), v.crc) << "size " << v.data.size();
  }
}

TEST(Crc32cTest, ImplementationsAgreeOnRandomDataAtEveryLengthAndAlignment) {
  std::mt19937 random(42);
  std::string data(300, '\0');
  for (char& c : data) c = static_cast<char>(random());
  for (size_t start = 0; start < 9; ++start) {
    for (size_t size = 0; start + size <= data.size(); size += 7) {
      std::string_view piece(data.data() + start, size);
      uint32_t expected = ReferenceValue(piece);
      ASSERT_EQ(internal::ExtendPortable(0, piece), expected);
      if (internal::HardwareAvailable()) {
        ASSERT_EQ(internal::ExtendHardware(0, piece), expected);
      }
      ASSERT_EQ(Value(piece), expected);
    }
  }
}

TEST(Crc32cTest, ExtendEqualsValueOfConcatenation) {
  std::string data = "hello, queue: the quick brown fox jumps over the lazy dog";
  for (size_t split = 0; split <= data.size(); ++split) {
    std::string_view a(data.data(), split);
    std::string_view b(data.data() + split, data.size() - split);
    EXPECT_EQ(Extend(Value(a), b), Value(data)) << "split " << split;
  }
}

TEST(Crc32cTest, MaskChangesValueAndUnmaskRestoresIt) {
  for (uint32_t crc : {0u, 1u, 0xe3069283u, 0xffffffffu, 0x80000000u}) {
    EXPECT_NE(Mask(crc), crc);
    EXPECT_NE(Mask(Mask(crc)), Mask(crc));
    EXPECT_EQ(Unmask(Mask(crc)), crc);
    EXPECT_EQ(Unmask(Unmask(Mask(Mask(crc)))), crc);
  }
}

}  // namespace
}  // namespace ringmta::queue::crc32c
