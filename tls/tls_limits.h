// Every bound the tls/ package enforces, each with the reason for its value.
// Not here: bounds shared with other packages (mta/base/limits.h owns those).
#ifndef RINGMTA_TLS_TLS_LIMITS_H_
#define RINGMTA_TLS_TLS_LIMITS_H_

#include <cstddef>

namespace ringmta::tls::limits {

// Largest plaintext in one TLS record (RFC 8446 §5.1, RFC 5246 §6.2.1).
inline constexpr size_t kRecordPlaintextBytesMax = 16384;
// Ciphertext a record may add beyond its plaintext: header plus the expansion
// RFC 8446 §5.2 allows (256); generous for the AEAD suites we negotiate
// (22-29 bytes), so Write never overshoots the output bound.
inline constexpr size_t kRecordOverheadBytesMax = 5 + 256;

// Decrypted bytes a session holds before Feed stops taking ciphertext. At
// least one record, so progress is always possible; four records keep bulk
// DATA flowing without a consumer turn per record.
inline constexpr size_t kPlaintextInBytesMax = 4 * kRecordPlaintextBytesMax;
static_assert(kPlaintextInBytesMax >= kRecordPlaintextBytesMax);

// Ciphertext queued for the peer before Write accepts no more plaintext and
// Feed stops taking input: a slow reader pushes back on us instead of making
// us buffer without end. 16 records: a handful of socket sends.
inline constexpr size_t kCiphertextOutBytesMax =
    16 * (kRecordPlaintextBytesMax + kRecordOverheadBytesMax);
// Slack above that bound for what BoringSSL writes on its own (handshake
// flights with a certificate chain, KeyUpdate replies, alerts). Past it the
// peer is making us write without reading: the session fails.
inline constexpr size_t kCiphertextOutSlackBytes = 64 * 1024;

// Buffer capacity a drained session keeps: an idle connection must be cheap
// (16k of them per shard), a busy one should not reallocate every record.
inline constexpr size_t kIdleBufferBytesMax = 2 * kRecordPlaintextBytesMax;

// A certificate chain or key file is a few KiB; anything near this is a
// configuration mistake, not a certificate.
inline constexpr size_t kPemFileBytesMax = 1 << 20;
// CA bundles hold a few hundred roots (Debian's is ~220 KiB).
inline constexpr size_t kCaBundleBytesMax = 16 << 20;

// Host names (RFC 1035 §2.3.4: 255 octets on the wire, 253 as text).
inline constexpr size_t kHostNameBytesMax = 253;

// Resumable sessions a ClientContext remembers, one per next-hop host: a
// shard rarely talks to more distinct MX hosts than this in a session lifetime.
inline constexpr size_t kClientSessionCacheEntriesMax = 4096;
// Sessions a server context caches for TLS 1.2 session-id resumption (tickets
// need no server state); ~1 KiB each.
inline constexpr long kServerSessionCacheEntriesMax = 20000;

// Hosts a shard remembers as "TLS handshake fails, use cleartext" under the
// may policy. Broken TLS stacks are a small minority of MX hosts; past this,
// expired entries are swept and, if none expired, a host simply is not
// remembered (its next connection tries TLS again: slower, never wrong).
inline constexpr size_t kCleartextFallbackHostsMax = 4096;

// Bytes of OpenSSL error text kept in a failure reason: enough for a few
// "error:...:SSL routines:..." entries, bounded because peers influence them.
inline constexpr size_t kFailureReasonBytesMax = 512;

}  // namespace ringmta::tls::limits

#endif  // RINGMTA_TLS_TLS_LIMITS_H_
