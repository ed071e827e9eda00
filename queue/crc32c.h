// CRC32C (Castagnoli, as in iSCSI, RFC 3720 §12.1) for the queue's record
// checksums: SSE4.2 when the CPU has it, slicing-by-8 tables otherwise.
// Not a general hashing facility, and not the body integrity of TLS or SMTP.
#ifndef RINGMTA_QUEUE_CRC32C_H_
#define RINGMTA_QUEUE_CRC32C_H_

#include <cstdint>
#include <string_view>

namespace ringmta::queue::crc32c {

// Given crc = Value(a), returns Value(a ‖ data). Extend(0, data) == Value(data).
uint32_t Extend(uint32_t crc, std::string_view data);

inline uint32_t Value(std::string_view data) { return Extend(0, data); }

// The log stores checksums masked, so that a payload which embeds a header
// (with its checksum) does not checksum in a degenerate way (queue_format §2.2).
inline constexpr uint32_t kMaskDelta = 0xa282ead8u;

inline constexpr uint32_t Mask(uint32_t crc) {
  return ((crc >> 15) | (crc << 17)) + kMaskDelta;
}

inline constexpr uint32_t Unmask(uint32_t masked) {
  uint32_t rotated = masked - kMaskDelta;
  return (rotated >> 17) | (rotated << 15);
}

namespace internal {
// Both implementations, exposed so tests can check each against the vectors.
uint32_t ExtendPortable(uint32_t crc, std::string_view data);
// Requires HardwareAvailable().
uint32_t ExtendHardware(uint32_t crc, std::string_view data);
bool HardwareAvailable();
}  // namespace internal

}  // namespace ringmta::queue::crc32c

#endif  // RINGMTA_QUEUE_CRC32C_H_
