// CRC32C two ways: the SSE4.2 crc32 instruction (8 bytes per step), and
// slicing-by-8 tables built at compile time for CPUs without it. The choice is
// made once, on first use, from cpuid.
#include "queue/crc32c.h"

#include <array>
#include <cstddef>
#include <cstring>

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

namespace ringmta::queue::crc32c {
namespace {

// The Castagnoli polynomial 0x1EDC6F41, bit-reversed (the CRC is reflected).
constexpr uint32_t kPolynomialReflected = 0x82f63b78u;

using Tables = std::array<std::array<uint32_t, 256>, 8>;

// tables[0] advances the CRC by one byte; tables[k] by a byte followed by k
// zero bytes, so eight lookups advance it by a whole 64-bit word.
constexpr Tables MakeTables() {
  Tables tables{};
  for (uint32_t byte = 0; byte < 256; ++byte) {
    uint32_t crc = byte;
    for (int bit = 0; bit < 8; ++bit) {
      crc = (crc >> 1) ^ ((crc & 1) ? kPolynomialReflected : 0);
    }
    tables[0][byte] = crc;
  }
  for (size_t k = 1; k < 8; ++k) {
    for (size_t byte = 0; byte < 256; ++byte) {
      uint32_t previous = tables[k - 1][byte];
      tables[k][byte] = (previous >> 8) ^ tables[0][previous & 0xff];
    }
  }
  return tables;
}

constexpr Tables kTables = MakeTables();

inline uint64_t LoadLittleEndian64(const unsigned char* p) {
  uint64_t word;
  std::memcpy(&word, p, sizeof(word));
  static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "x86-64 and arm64 LE only");
  return word;
}

using ExtendFunction = uint32_t (*)(uint32_t, std::string_view);

ExtendFunction ChooseImplementation() {
  return internal::HardwareAvailable() ? internal::ExtendHardware
                                       : internal::ExtendPortable;
}

}  // namespace

namespace internal {

uint32_t ExtendPortable(uint32_t crc, std::string_view data) {
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
  size_t left = data.size();
  uint32_t state = ~crc;
  while (left >= 8) {
    uint64_t word = LoadLittleEndian64(p) ^ state;
    state = kTables[7][word & 0xff] ^ kTables[6][(word >> 8) & 0xff] ^
            kTables[5][(word >> 16) & 0xff] ^ kTables[4][(word >> 24) & 0xff] ^
            kTables[3][(word >> 32) & 0xff] ^ kTables[2][(word >> 40) & 0xff] ^
            kTables[1][(word >> 48) & 0xff] ^ kTables[0][word >> 56];
    p += 8;
    left -= 8;
  }
  for (; left > 0; --left, ++p) {
    state = (state >> 8) ^ kTables[0][(state ^ *p) & 0xff];
  }
  return ~state;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) uint32_t ExtendHardware(uint32_t crc,
                                                         std::string_view data) {
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
  size_t left = data.size();
  uint64_t state = ~crc;
  while (left >= 8) {
    state = _mm_crc32_u64(state, LoadLittleEndian64(p));
    p += 8;
    left -= 8;
  }
  auto state32 = static_cast<uint32_t>(state);
  for (; left > 0; --left, ++p) state32 = _mm_crc32_u8(state32, *p);
  return ~state32;
}

bool HardwareAvailable() { return __builtin_cpu_supports("sse4.2"); }
#else
uint32_t ExtendHardware(uint32_t crc, std::string_view data) {
  return ExtendPortable(crc, data);
}
bool HardwareAvailable() { return false; }
#endif

}  // namespace internal

uint32_t Extend(uint32_t crc, std::string_view data) {
  static const ExtendFunction implementation = ChooseImplementation();
  return implementation(crc, data);
}

}  // namespace ringmta::queue::crc32c
