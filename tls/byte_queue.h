// A FIFO of bytes for a session's plaintext and ciphertext: append at the
// back, consume from the front, give memory back when drained. Unbounded by
// itself; TlsSession enforces the limits in tls/tls_limits.h.
#ifndef RINGMTA_TLS_BYTE_QUEUE_H_
#define RINGMTA_TLS_BYTE_QUEUE_H_

#include <string>
#include <string_view>

#include "mta/base/check.h"
#include "tls/tls_limits.h"

namespace ringmta::tls {

class ByteQueue {
 public:
  std::string_view view() const {
    return std::string_view(bytes_).substr(head_);
  }
  size_t size() const { return bytes_.size() - head_; }
  bool empty() const { return size() == 0; }

  void Append(const char* data, size_t length) { bytes_.append(data, length); }

  // Room for `length` more bytes at the back; Shrink what was not filled.
  char* Extend(size_t length) {
    size_t old_size = bytes_.size();
    bytes_.resize(old_size + length);
    return bytes_.data() + old_size;
  }
  void Shrink(size_t length) {
    CHECK(length <= size());
    bytes_.resize(bytes_.size() - length);
  }

  void Consume(size_t length) {
    CHECK(length <= size());
    head_ += length;
    if (head_ == bytes_.size()) {
      Reset();
    } else if (head_ >= bytes_.size() / 2) {
      // Invariant: the dead prefix never exceeds the live bytes, so compaction
      // costs at most one copy of each byte.
      bytes_.erase(0, head_);
      head_ = 0;
    }
  }

  // Appends everything to *out and empties the queue; a swap when possible.
  void MoveTo(std::string* out) {
    if (out->empty() && head_ == 0) {
      out->swap(bytes_);
    } else {
      out->append(bytes_, head_, std::string::npos);
    }
    Reset();
  }

 private:
  void Reset() {
    head_ = 0;
    bytes_.clear();
    // An idle connection keeps little: 16k of them live on one shard.
    if (bytes_.capacity() > limits::kIdleBufferBytesMax) bytes_.shrink_to_fit();
  }

  std::string bytes_;
  size_t head_ = 0;
};

}  // namespace ringmta::tls

#endif  // RINGMTA_TLS_BYTE_QUEUE_H_
