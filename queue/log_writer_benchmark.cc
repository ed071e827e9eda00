// Throughput of the pure log format: framing records with LogWriter (1 KB and
// 100 KB payloads), reading them back with LogReader, and CRC32C itself.
// Run: bazel run -c opt //queue:log_writer_benchmark
#include <memory>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "queue/crc32c.h"
#include "queue/log_reader.h"
#include "queue/log_writer.h"
#include "queue/queue_limits.h"

namespace ringmta::queue {
namespace {

constexpr uint32_t kSegment = 1;
// Batches handed to the I/O layer about this often, as group commit would.
constexpr size_t kBatchBytes = size_t{1} << 20;

class NullReporter : public LogReporter {
 public:
  void Damage(const LogDamage&) override {}
};

void BM_WriterAppend(benchmark::State& state) {
  const std::string payload(static_cast<size_t>(state.range(0)), 'x');
  auto writer = std::make_unique<LogWriter>(kSegment, kSegmentBytesMax);
  std::string recycled;
  for (auto _ : state) {
    if (!writer->Fits(payload.size())) {
      writer = std::make_unique<LogWriter>(kSegment, kSegmentBytesMax);
    }
    writer->Append(payload);
    if (writer->pending_bytes() >= kBatchBytes) {
      LogBatch batch = writer->TakeBatch(std::move(recycled));
      benchmark::DoNotOptimize(batch.bytes.data());
      recycled = std::move(batch.bytes);
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * payload.size()));
}
BENCHMARK(BM_WriterAppend)->Arg(1000)->Arg(100 * 1000);

// A 64 MiB segment image of records of the given size.
std::string SegmentImage(size_t record_bytes) {
  LogWriter writer(kSegment, kSegmentBytesMax);
  const std::string payload(record_bytes, 'y');
  while (writer.offset() < (uint64_t{64} << 20)) writer.Append(payload);
  return writer.TakeBatch().bytes;
}

void BM_ReaderRead(benchmark::State& state) {
  const std::string image = SegmentImage(static_cast<size_t>(state.range(0)));
  NullReporter reporter;
  uint64_t records = 0;
  for (auto _ : state) {
    LogReader reader(kSegment, &reporter);
    reader.Feed(image);
    reader.Finish();
    LogRecord record;
    while (reader.Next(&record) == LogReader::Step::kRecord) {
      benchmark::DoNotOptimize(record.payload.data());
      ++records;
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * image.size()));
  state.counters["records/s"] = benchmark::Counter(static_cast<double>(records),
                                                   benchmark::Counter::kIsRate);
}
BENCHMARK(BM_ReaderRead)->Arg(1000)->Arg(100 * 1000)->Unit(benchmark::kMillisecond);

void BM_Crc32c(benchmark::State& state) {
  const std::string data(static_cast<size_t>(state.range(0)), 'z');
  for (auto _ : state) benchmark::DoNotOptimize(crc32c::Value(data));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * data.size()));
}
BENCHMARK(BM_Crc32c)->Arg(1000)->Arg(32768);

}  // namespace
}  // namespace ringmta::queue
