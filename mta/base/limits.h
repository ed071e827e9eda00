// Every bound ringmta enforces, in one place, each with the reason for its value.
// Config may narrow these (never widen them); static_asserts tie related bounds.
// Not here: tunables without a safety role (those live with their component).
#ifndef RINGMTA_MTA_BASE_LIMITS_H_
#define RINGMTA_MTA_BASE_LIMITS_H_

#include <cstddef>
#include <cstdint>

namespace ringmta::limits {

// ---- Shards and the ring ----
// Two cores here, 128 on the largest boxes we would run on. Mailboxes are
// per ordered shard pair, so their memory grows with the square of this.
inline constexpr int kShardsMax = 128;
// Submission queue depth per shard: enough for a loop turn of sends, recvs and
// file writes; GetSqe flushes and retries when it runs out, so it is not a cap
// on concurrency, only on batching.
inline constexpr uint32_t kRingEntries = 1024;
// CQ at 4x SQ (DESIGN §2): multishot accept/recv post many CQEs per SQE and
// the CQ must never overflow.
inline constexpr uint32_t kRingCqEntries = 4 * kRingEntries;
// Provided receive buffers per shard: count x size bounds the memory a shard
// spends on unread network input; -ENOBUFS past it is backpressure.
inline constexpr uint32_t kRecvBufferCount = 1024;
inline constexpr uint32_t kRecvBufferBytes = 4096;
static_assert((kRecvBufferCount & (kRecvBufferCount - 1)) == 0,
              "io_uring buffer rings need a power-of-two entry count");
// Buffers one connection may hold before its multishot recv is paused, so a
// single fast sender cannot take every buffer from the others.
inline constexpr uint32_t kRecvBuffersPerSocketMax = 16;
static_assert(kRecvBuffersPerSocketMax * 8 <= kRecvBufferCount,
              "at least eight connections must be able to fill their share");

// ---- Connections ----
// Concurrent inbound connections per shard: each costs a coroutine frame,
// an fd and some buffers; past it the connection gets 421 and is closed.
inline constexpr int kConnectionsPerShardMax = 16384;
// Listening addresses (--listen is repeatable).
inline constexpr int kListenersMax = 16;

// ---- Cross-shard mailboxes ----
// Slots per SPSC mailbox between two shards; a full mailbox is backpressure
// to the sender, never an allocation. 1024 x 24 B = 24 KiB per pair, so 64
// shards spend 100 MB on mailboxes; more slots would not buy throughput,
// since the receiver drains a batch every loop turn.
inline constexpr uint32_t kMailboxSlots = 1024;
// Messages taken from one mailbox per loop turn, so one busy sender cannot
// starve the shard's own I/O.
inline constexpr uint32_t kMailboxDrainBatchMax = 256;

// ---- Timers ----
// Timer wheel resolution: SMTP timeouts are seconds to minutes; 1 ms is
// finer than anything we schedule and keeps the wheel small.
inline constexpr int64_t kTimerTickMs = 1;
// Longest delay the wheel accepts: retries are capped at days (queue
// lifetime defaults to 5 days), so 2^32 ms (49 days) covers everything.
inline constexpr int64_t kTimerDelayMsMax = (int64_t{1} << 32) - 1;

// ---- SMTP (RFC 5321 §4.5.3.1) ----
// Command line including CRLF (§4.5.3.1.4).
inline constexpr size_t kSmtpCommandLineBytesMax = 512;
// Text line including CRLF (§4.5.3.1.6).
inline constexpr size_t kSmtpTextLineBytesMax = 1000;
// Recipients per message: the RFC asks servers to accept at least 100 (§4.5.3.1.8).
inline constexpr int kSmtpRecipientsMax = 1000;
inline constexpr int kSmtpRecipientsMin = 100;
static_assert(kSmtpRecipientsMax >= kSmtpRecipientsMin);
// Protocol errors and unknown commands before 421 and disconnect (Postfix
// uses 20 hard errors; junk is cheaper to tolerate less of).
inline constexpr int kSmtpErrorsMax = 20;
// Junk commands (NOOP, RSET, VRFY, EXPN, HELP, unknown verbs) between two
// accepted messages before 421 and disconnect. Legitimate clients send a
// handful; a flood of them only holds a connection slot (Postfix: 100).
inline constexpr int kSmtpJunkCommandsMax = 100;
// Server timeouts, one per stage (RFC 5321 §4.5.3.2), each applied to every
// wait for input in that stage. Waiting for a command: §4.5.3.2.7 asks for
// at least 5 minutes.
inline constexpr int64_t kSmtpServerCommandTimeoutMs = 5 * 60 * 1000;
// Waiting for the next block of DATA or BDAT octets: the server-side
// counterpart of the client's 3-minute data block timeout (§4.5.3.2.5).
inline constexpr int64_t kSmtpServerDataBlockTimeoutMs = 3 * 60 * 1000;
// The whole TLS handshake (STARTTLS or implicit TLS): two round trips and a
// signature take seconds even on slow links; a client that stalls in it
// holds a connection slot and has said nothing we could answer.
inline constexpr int64_t kSmtpServerTlsHandshakeTimeoutMs = 60 * 1000;
// Config may narrow the timeouts down to this, no further: below a second,
// ordinary network jitter would cut off honest clients.
inline constexpr int64_t kSmtpServerTimeoutMsMin = 1000;
static_assert(kSmtpServerDataBlockTimeoutMs <= kSmtpServerCommandTimeoutMs);
// Message size we ever accept; config narrows it (advertised via SIZE).
inline constexpr size_t kMessageBytesMax = 256u << 20;

// ---- Delivery, per destination ----
// Rate limits (0 = unlimited): one shard cannot send messages or open
// connections faster than this, so a larger value could never bind and is
// surely a typo.
inline constexpr int64_t kDestinationMessagesPerSecondMax = 100'000;
inline constexpr int64_t kDestinationConnectionsPerSecondMax = 10'000;
// Messages over one outbound connection before it is closed and another
// made, as the server side allows 100k transactions per connection.
inline constexpr int kDestinationMessagesPerConnectionMax = 100'000;
// Idle destinations are forgotten after a configurable time: at least a
// second (a forgotten destination's rate buckets restart full, which is
// harmless once they would have refilled, within one second), at most a day
// (the table must stay bounded by the destinations actually in use).
inline constexpr int64_t kDestinationForgetMsMin = 1000;
inline constexpr int64_t kDestinationForgetMsMax = 86'400'000;

// ---- Queue ----
// Framed but unwritten log bytes a shard lets pile up before sessions that
// stream bodies are paced, in write-behind batches (1 MiB each by default,
// so 4 MiB a shard): writes start at one batch, but while a round's
// fdatasync runs the committer cannot write, and with a one-batch limit
// every large-message session stalled for the sync (100 KB x 200 sessions
// spent ~40% of their time paced). Small, because it is memory per shard.
inline constexpr size_t kSpoolPaceWriteBehindBatches = 4;

// ---- Process ----
// Bytes of peer text copied into a log line (Postfix truncates likewise):
// logs stay readable and a peer cannot flood them.
inline constexpr size_t kLogPeerTextBytesMax = 100;
// Directory depth walked when the spool is handed to server.user: the
// spool is spool/shard-K/files; anything deeper is not ours, and a bound
// keeps a hostile tree from exhausting descriptors.
inline constexpr int kSpoolTreeDepthMax = 8;

// ---- Metrics and delivery log (mta/admin) ----
// Route keys a shard tracks for per-destination metrics; later routes count
// as "other". Bounded so a relay that meets millions of MX sites keeps a
// fixed memory and a scrape of fixed size (~20 KB per shard).
inline constexpr size_t kMetricsDestinationSlots = 128;
// A route key longer than this is cut in metric labels (MX site keys list
// every MX host; a label value should stay readable).
inline constexpr size_t kMetricsDestinationKeyBytesMax = 120;
// Destinations shown with their own label at most (admin.metrics_destinations_max
// narrows it): Prometheus series are cheap, but not unbounded.
inline constexpr int kMetricsDestinationsShownMax = 100;
static_assert(kMetricsDestinationsShownMax <= static_cast<int>(kMetricsDestinationSlots));
// An HTTP request to the metrics port: a scrape is one short GET line and a
// few headers; anything longer is not a scraper.
inline constexpr size_t kMetricsRequestBytesMax = 8192;
// How long one metrics connection may take to send its request or read the
// answer: the server handles one connection at a time, so a stalled client
// delays the next scrape by at most this.
inline constexpr int64_t kMetricsIoTimeoutMs = 2000;
// Delivery-log bytes a shard holds while a write is in flight; past it,
// lines are dropped and counted (a stuck disk must never stop acceptance).
inline constexpr size_t kDeliveryLogBufferBytesMax = size_t{4} << 20;
// One delivery-log line at most; peer text in it is cut well below this.
inline constexpr size_t kDeliveryLogLineBytesMax = 8192;

}  // namespace ringmta::limits

#endif  // RINGMTA_MTA_BASE_LIMITS_H_
