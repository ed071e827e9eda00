// Durable append throughput of one shard's spool: W concurrent writers each
// append a message (MessageBegin, body chunks, MessageCommit) and await its
// group commit, as inbound sessions do. Reports messages/s, MB/s and
// messages per fdatasync (group-commit efficiency). BM_Compaction: how fast
// the compactor re-appends live messages (durably) out of mostly-dead segments. Files go under
// $RINGMTA_BENCH_DIR (default /tmp), on whatever disk that is: the fdatasync
// cost is the disk's, so quote the machine with the figure.
#include <cstdlib>
#include <filesystem>
#include <string>

#include <benchmark/benchmark.h>

#include "mta/io/block_on.h"
#include "mta/io/operation.h"
#include "mta/io/reactor.h"
#include "queue/queue_limits.h"
#include "queue/records.h"
#include "queue/compactor.h"
#include "queue/segment_reader.h"
#include "queue/shard_queue.h"
#include "queue/spool.h"

namespace ringmta::queue {
namespace {

io::Task<void> Writer(Spool& spool, int64_t messages, size_t body_bytes, uint64_t first_id,
                      int64_t* done) {
  std::string body(body_bytes, 'm');
  for (int64_t i = 0; i < messages; ++i) {
    MessageBegin begin;
    begin.message_id = first_id + static_cast<uint64_t>(i);
    begin.received_ms = 1;
    begin.deadline_ms = 2;
    begin.sender = "sender@example.com";
    begin.recipients.push_back({"rcpt@example.org", 0, ""});
    (void)spool.Append({EncodeMessageBegin(begin)});
    BodyTally tally;
    for (size_t offset = 0; offset < body.size(); offset += kBodyChunkBytesMax) {
      std::string_view piece = std::string_view(body).substr(offset, kBodyChunkBytesMax);
      uint64_t index = tally.Add(piece);
      (void)spool.Append({EncodeBodyChunkPrefix(begin.message_id, index, piece.size()), piece});
      if (spool.write_behind_full()) co_await spool.WaitWriteBehind();
    }
    (void)spool.Append({EncodeMessageCommit(tally.Commit(begin.message_id))});
    absl::Status status = co_await spool.Commit();
    if (status.ok()) ++*done;
  }
}

void BM_DurableAppend(benchmark::State& state) {
  const size_t body_bytes = static_cast<size_t>(state.range(0));
  const int writers = static_cast<int>(state.range(1));
  auto reactor = io::Reactor::Create();
  if (!reactor.ok()) {
    state.SkipWithError("io_uring unavailable");
    return;
  }
  const char* base = std::getenv("RINGMTA_BENCH_DIR");
  std::string directory = std::string(base ? base : "/tmp") + "/ringmta-spool-benchmark";
  std::filesystem::remove_all(directory);
  SpoolOptions options;
  options.directory = directory;
  options.segment_bytes = uint64_t{256} << 20;
  auto spool = io::BlockOn(**reactor, Spool::Open(**reactor, options, 1));
  if (!spool.ok()) {
    state.SkipWithError(std::string(spool.status().message()).c_str());
    return;
  }
  // Enough messages per iteration that a round's fixed cost is amortised.
  const int64_t per_writer = std::max<int64_t>(1, (body_bytes >= 100'000 ? 400 : 4000) / writers);
  int64_t done = 0;
  uint64_t next_id = 1;
  uint64_t syncs_before = (*spool)->stats().fdatasyncs;
  for (auto _ : state) {
    io::TaskGroup tasks;
    for (int w = 0; w < writers; ++w) {
      Spawn(**reactor, tasks, Writer(**spool, per_writer, body_bytes, next_id, &done));
      next_id += static_cast<uint64_t>(per_writer);
    }
    while (!tasks.empty()) (*reactor)->RunOnce(-1);
  }
  uint64_t syncs = (*spool)->stats().fdatasyncs - syncs_before;
  state.counters["msgs/s"] = benchmark::Counter(static_cast<double>(done), benchmark::Counter::kIsRate);
  state.counters["MB/s"] = benchmark::Counter(static_cast<double>(done) * body_bytes / 1e6,
                                              benchmark::Counter::kIsRate);
  state.counters["msgs/fsync"] = syncs ? static_cast<double>(done) / syncs : 0;
  io::BlockOn(**reactor, (*spool)->Close());
  spool->reset();
  std::filesystem::remove_all(directory);
}
// (body bytes, concurrent writers)
BENCHMARK(BM_DurableAppend)
    ->Args({1024, 1})
    ->Args({1024, 50})
    ->Args({1024, 500})
    ->Args({100 * 1024, 1})
    ->Args({100 * 1024, 50})
    ->Args({100 * 1024, 500})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

// One compaction pass over 16 segments (4 MiB) of 100 KB messages where one
// message in ten stays queued: the MB/s of envelopes and bodies re-appended,
// group commits included.
void BM_Compaction(benchmark::State& state) {
  constexpr size_t kBody = 100 * 1024;
  constexpr int kMessages = 640;
  auto reactor = io::Reactor::Create();
  if (!reactor.ok()) {
    state.SkipWithError("io_uring unavailable");
    return;
  }
  const char* base = std::getenv("RINGMTA_BENCH_DIR");
  std::string directory = std::string(base ? base : "/tmp") + "/ringmta-compaction-benchmark";
  uint64_t copied = 0;
  for (auto _ : state) {
    state.PauseTiming();
    std::filesystem::remove_all(directory);
    ShardQueue queue;
    SegmentReader reader(**reactor);
    SpoolOptions options;
    options.directory = directory;
    options.segment_bytes = kSegmentBytesMin;
    options.on_segment_created = [&queue](uint32_t segment) { queue.index.TrackSegment(segment); };
    auto spool = io::BlockOn(**reactor, Spool::Open(**reactor, options, 1));
    if (!spool.ok()) {
      state.SkipWithError(std::string(spool.status().message()).c_str());
      return;
    }
    queue.spool = std::move(*spool);
    std::string body(kBody, 'm');
    for (int n = 1; n <= kMessages; ++n) {
      MessageBegin begin;
      begin.message_id = static_cast<uint64_t>(n);
      begin.received_ms = 1;
      begin.deadline_ms = 2;
      begin.sender = "sender@example.com";
      begin.recipients.push_back({"rcpt@example.org", 0, ""});
      MessageEntry entry;
      entry.id = begin.message_id;
      entry.sender = begin.sender;
      entry.recipients.push_back({"rcpt@example.org", 0, 0, RecipientState::kPending, 0});
      auto append = [&](std::initializer_list<std::string_view> parts) {
        for (;;) {
          auto location = queue.spool->Append(parts);
          if (location.ok()) return *location;
          (*reactor)->RunOnce(1);
        }
      };
      entry.begin = ToSpan(append({EncodeMessageBegin(begin)}));
      BodyTally tally;
      for (size_t offset = 0; offset < body.size(); offset += kBodyChunkBytesMax) {
        std::string_view piece = std::string_view(body).substr(offset, kBodyChunkBytesMax);
        uint64_t index = tally.Add(piece);
        entry.chunks.push_back(
            ToSpan(append({EncodeBodyChunkPrefix(entry.id, index, piece.size()), piece})));
      }
      entry.commit_segment = append({EncodeMessageCommit(tally.Commit(entry.id))}).segment;
      entry.body_bytes = body.size();
      queue.index.AddMessage(std::move(entry));
      if (n % 10 != 0) {
        uint32_t done = append({EncodeMessageDone({begin.message_id, 1, DoneReason::kAllFinal})}).segment;
        queue.index.RemoveMessage(begin.message_id, done);
      }
    }
    (void)io::BlockOn(**reactor, queue.spool->Commit());
    Compactor compactor(**reactor, queue, reader, [](uint64_t) { return false; });
    state.ResumeTiming();
    absl::Status status = io::BlockOn(**reactor, compactor.RunPass(queue.spool->current_segment()));
    state.PauseTiming();
    if (!status.ok()) state.SkipWithError(std::string(status.message()).c_str());
    copied += compactor.stats().bytes_copied;
    state.counters["moved/pass"] = static_cast<double>(compactor.stats().messages_moved);
    io::BlockOn(**reactor, queue.spool->Close());
    queue.spool.reset();
    reader.CloseAll();
    state.ResumeTiming();
  }
  state.counters["MB/s"] = benchmark::Counter(static_cast<double>(copied) / 1e6,
                                              benchmark::Counter::kIsRate);
  std::filesystem::remove_all(directory);
}
BENCHMARK(BM_Compaction)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace ringmta::queue
