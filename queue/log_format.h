// Constants of the physical log framing shared by the writer and the reader
// (docs/queue_format.md §2). Not here: logical records (records.h) or any I/O.
#ifndef RINGMTA_QUEUE_LOG_FORMAT_H_
#define RINGMTA_QUEUE_LOG_FORMAT_H_

#include <cstddef>
#include <cstdint>

namespace ringmta::queue {

// Blocks are the unit of resynchronisation: after damage the reader skips to
// the next multiple of this, where the writer guarantees a header starts.
inline constexpr size_t kBlockBytes = 32768;

// Header: masked crc (4) | length (2) | type (1) | segment (4).
inline constexpr size_t kHeaderCrcOffset = 0;
inline constexpr size_t kHeaderLengthOffset = 4;
inline constexpr size_t kHeaderTypeOffset = 6;
inline constexpr size_t kHeaderSegmentOffset = 7;
inline constexpr size_t kHeaderBytes = 11;
// The checksum covers type and segment (contiguous) and then the payload.
inline constexpr size_t kHeaderCrcCoveredBytes = kHeaderBytes - kHeaderTypeOffset;

// Largest payload of one fragment: a fragment never crosses a block.
inline constexpr size_t kFragmentBytesMax = kBlockBytes - kHeaderBytes;
static_assert(kFragmentBytesMax <= UINT16_MAX, "length is a 16-bit field");

enum class FragmentType : uint8_t {
  // Never written: zero-filled (preallocated) space reads as this.
  kZero = 0,
  kFull = 1,
  kFirst = 2,
  kMiddle = 3,
  kLast = 4,
};
inline constexpr uint8_t kFragmentTypeMaxKnown = 4;
// Types with this bit are single-fragment records of a later version that a
// reader which does not know them skips, instead of reporting damage.
inline constexpr uint8_t kIgnorableBit = 0x80;

}  // namespace ringmta::queue

#endif  // RINGMTA_QUEUE_LOG_FORMAT_H_
