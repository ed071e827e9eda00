// Little-endian fixed-width integers and LEB128 varints, the only integer
// encodings in the queue format (docs/queue_format.md §4.1). Decoders here
// are total: they report failure instead of reading past their input.
// Not here: record layouts (records.cc) or error messages.
#ifndef RINGMTA_QUEUE_CODING_H_
#define RINGMTA_QUEUE_CODING_H_

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace ringmta::queue {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "memcpy is the LE encoding only on little-endian hosts");

inline void EncodeFixed16(char* out, uint16_t value) { std::memcpy(out, &value, 2); }
inline void EncodeFixed32(char* out, uint32_t value) { std::memcpy(out, &value, 4); }
inline void EncodeFixed64(char* out, uint64_t value) { std::memcpy(out, &value, 8); }

inline uint16_t DecodeFixed16(const char* in) {
  uint16_t value;
  std::memcpy(&value, in, 2);
  return value;
}
inline uint32_t DecodeFixed32(const char* in) {
  uint32_t value;
  std::memcpy(&value, in, 4);
  return value;
}
inline uint64_t DecodeFixed64(const char* in) {
  uint64_t value;
  std::memcpy(&value, in, 8);
  return value;
}

inline void PutFixed16(std::string* out, uint16_t value) {
  char buffer[2];
  EncodeFixed16(buffer, value);
  out->append(buffer, 2);
}
inline void PutFixed32(std::string* out, uint32_t value) {
  char buffer[4];
  EncodeFixed32(buffer, value);
  out->append(buffer, 4);
}
inline void PutFixed64(std::string* out, uint64_t value) {
  char buffer[8];
  EncodeFixed64(buffer, value);
  out->append(buffer, 8);
}

inline constexpr size_t kVarintBytesMax = 10;

inline size_t VarintBytes(uint64_t value) {
  size_t bytes = 1;
  while (value >= 0x80) {
    value >>= 7;
    ++bytes;
  }
  return bytes;
}

inline void PutVarint(std::string* out, uint64_t value) {
  char buffer[kVarintBytesMax];
  size_t n = 0;
  while (value >= 0x80) {
    buffer[n++] = static_cast<char>((value & 0x7f) | 0x80);
    value >>= 7;
  }
  buffer[n++] = static_cast<char>(value);
  out->append(buffer, n);
}

enum class VarintResult { kOk, kTruncated, kOverflow, kNotMinimal };

// Parses a varint at the front of `*in` and advances past it on success. Only
// the shortest encoding of each value is accepted, so every value has exactly
// one encoding and a record's bytes are a function of its fields.
inline VarintResult GetVarint(std::string_view* in, uint64_t* value) {
  uint64_t result = 0;
  for (size_t i = 0; i < kVarintBytesMax; ++i) {
    if (i == in->size()) return VarintResult::kTruncated;
    auto byte = static_cast<uint8_t>((*in)[i]);
    if (i == kVarintBytesMax - 1 && byte > 1) return VarintResult::kOverflow;
    result |= uint64_t{byte & 0x7fu} << (7 * i);
    if ((byte & 0x80) == 0) {
      if (byte == 0 && i > 0) return VarintResult::kNotMinimal;
      in->remove_prefix(i + 1);
      *value = result;
      return VarintResult::kOk;
    }
  }
  return VarintResult::kOverflow;
}

}  // namespace ringmta::queue

#endif  // RINGMTA_QUEUE_CODING_H_
