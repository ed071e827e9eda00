// Bounds of the queue's on-disk format, each with the reason for its value
// (they may move into mta/base/limits.h). Not here: tunables such as the
// segment size a spool uses, which only has to lie within these bounds.
#ifndef RINGMTA_QUEUE_QUEUE_LIMITS_H_
#define RINGMTA_QUEUE_QUEUE_LIMITS_H_

#include <cstddef>
#include <cstdint>

#include "mta/base/limits.h"

namespace ringmta::queue {

// Largest logical record: bounds the reader's reassembly buffer. The largest
// record is a MessageBegin with 1000 recipients at their maximum lengths
// (~770 KB, static_assert in records.cc); bodies go in chunks, not here.
inline constexpr size_t kLogRecordBytesMax = size_t{1} << 20;
// Body bytes per BodyChunk: each streaming session buffers one chunk, so this
// times the sessions in DATA is the memory bodies cost before they hit disk.
inline constexpr size_t kBodyChunkBytesMax = size_t{64} << 10;
// Bodies we store; the SMTP layer advertises and enforces a smaller SIZE.
inline constexpr uint64_t kMessageBytesMax = ringmta::limits::kMessageBytesMax;
// Chunks are never empty, so a body has at most one chunk per byte.
inline constexpr uint64_t kBodyChunksMax = kMessageBytesMax;
// Segment files: small enough that compaction copies little at a time, large
// enough that every record fits and the file count stays low.
inline constexpr uint64_t kSegmentBytesMin = uint64_t{4} << 20;
inline constexpr uint64_t kSegmentBytesMax = uint64_t{1} << 30;
static_assert(kSegmentBytesMin >= 2 * kLogRecordBytesMax,
              "an empty segment must hold the largest framed record");

// Compaction (queue/compactor.h). A sealed segment is compacted when
// re-appending every live message that has a record in it costs at most this
// share of the segment: each byte copied then frees at least another, and
// segments that stay hold at least about half live data, so the spool stays
// within about 2x its live data plus the current and spare segments.
inline constexpr uint64_t kCompactCostPercentMax = 50;
// Bytes one compaction pass copies at most (then it waits for the next
// sweep): bounds the disk bandwidth compaction takes from acceptance.
inline constexpr uint64_t kCompactPassBytesMax = uint64_t{64} << 20;
// Bytes copied between the group commits that make copies durable: bounds
// how long the messages being moved wait to be dispatched (they may not be
// read for delivery meanwhile).
inline constexpr uint64_t kCompactBatchBytesMax = uint64_t{4} << 20;
// Messages in one such batch: bounds the fdatasync-free work between commits
// when messages are tiny.
inline constexpr size_t kCompactBatchMessagesMax = 1024;

// Envelope strings (RFC 5321 §4.5.3.1.3: a path is at most 256 octets).
inline constexpr size_t kAddressBytesMax = 256;
// RFC 3461 §4.4: ENVID is at most 100 characters.
inline constexpr size_t kEnvidBytesMax = 100;
// RFC 3461 §4.2: ORCPT is at most 500 characters.
inline constexpr size_t kOrcptBytesMax = 500;
// "[IPv6:ffff:...:ffff]:65535" with room to spare.
inline constexpr size_t kClientAddressBytesMax = 64;
// A domain name is at most 255 octets (RFC 1035 §2.3.4); HELO, remote host.
inline constexpr size_t kHostBytesMax = 255;
// SASL identities have no RFC bound; 255 covers real user names.
inline constexpr size_t kAuthUserBytesMax = 255;
// Reply text kept for logs and DSN Diagnostic-Code; callers truncate longer
// multi-line replies, which are rarely informative past the first lines.
inline constexpr size_t kResponseBytesMax = 1024;
// Delivery attempts per recipient: with backoff capped at hours and a 5-day
// lifetime there are dozens; 65535 only catches a runaway counter.
inline constexpr uint32_t kAttemptsMax = 65535;
// Last millisecond of year 9999: rejects garbage times that decode as huge.
inline constexpr int64_t kWallMsMax = 253402300799999;

}  // namespace ringmta::queue

#endif  // RINGMTA_QUEUE_QUEUE_LIMITS_H_
