// queue_dump: an operator's read-only view of a spool. Walks each shard's
// segments through the replay recovery uses (CRCs, records, damage, torn
// tail, live or dead), never writing a byte: recovery truncates, this does not.
// Not here: repairing, deleting or requeueing (that is ringctl's job).
//
// Usage: queue_dump SPOOL_DIR [--shard K] [--records] [--verify]
//   --records  one line per logical record
//   --verify   also read every queued message's records back at the
//              locations the index holds, as delivery will
// Exit: 0 clean (a torn tail after a crash is clean), 1 damage or
// quarantined messages found, 2 usage or I/O error.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "mta/base/log.h"
#include "mta/base/status.h"
#include "queue/index.h"
#include "queue/recovery.h"
#include "queue/segment_scan.h"
#include "tools/queue_dump/record_text.h"

namespace ringmta::queue {
namespace {

struct Options {
  std::string spool;
  int shard = -1;  // All shards.
  bool records = false;
  bool verify = false;
};

struct SegmentCounts {
  uint64_t damage = 0;
};

// Prints records as the replay sees them and counts damage per segment.
class DumpObserver : public ReplayObserver {
 public:
  explicit DumpObserver(bool records) : records_(records) {}
  void Record(uint32_t segment, const LogRecord& record,
              const absl::StatusOr<queue::Record>& decoded) override {
    if (records_) std::printf("  %s\n", RecordLine(segment, record, decoded).c_str());
  }
  void Damage(const ReplayDamage& damage) override {
    ++counts_[damage.segment].damage;
    std::printf("  DAMAGE segment %u offset %llu (%llu bytes): %s%s\n", damage.segment,
                static_cast<unsigned long long>(damage.offset),
                static_cast<unsigned long long>(damage.bytes),
                SanitizePeerText(damage.kind, 300).c_str(),
                damage.message_id == 0
                    ? ""
                    : (" [message " + std::to_string(damage.message_id) + " quarantined]").c_str());
  }
  void SegmentEnd(const SegmentFile& file, const SegmentScan& scan) override {
    scans_.emplace_back(file.number, scan);
  }
  const std::vector<std::pair<uint32_t, SegmentScan>>& scans() const { return scans_; }
  uint64_t damage(uint32_t segment) const {
    auto it = counts_.find(segment);
    return it == counts_.end() ? 0 : it->second.damage;
  }

 private:
  const bool records_;
  absl::flat_hash_map<uint32_t, SegmentCounts> counts_;
  std::vector<std::pair<uint32_t, SegmentScan>> scans_;
};

void PrintSegments(const DumpObserver& observer, const RecoveryResult& result,
                   const QueueIndex& index) {
  for (const auto& [number, scan] : observer.scans()) {
    const bool dead = std::find(result.dead_segments.begin(), result.dead_segments.end(),
                                number) != result.dead_segments.end();
    std::string end = "clean end";
    if (scan.end.offset < scan.file_bytes) {
      end = scan.end.torn ? "torn tail" : "zero tail";
      if (scan.end.tail) end += std::string(" (") + std::string(LogProblemName(scan.end.tail->problem)) + ")";
    }
    std::printf(
        "segment %s: %llu bytes, %llu records, log ends at %llu, %s, %llu damaged, "
        "%u live messages%s\n",
        SegmentFileName(number).c_str(), static_cast<unsigned long long>(scan.file_bytes),
        static_cast<unsigned long long>(scan.stats.records),
        static_cast<unsigned long long>(scan.end.offset), end.c_str(),
        static_cast<unsigned long long>(observer.damage(number)),
        index.SegmentLiveMessages(number), dead ? ", dead" : "");
  }
}

// The records at the index's spans must be this message's, intact, with the
// chunks in order and adding up to its body size.
absl::Status VerifyMessage(const std::string& shard_directory, const MessageEntry& entry) {
  auto read = [&](const RecordSpan& span) {
    return ReadRecordAt(shard_directory + "/" + SegmentFileName(span.segment), span.segment,
                        span.offset, span.end_offset);
  };
  ASSIGN_OR_RETURN(std::string begin_payload, read(entry.begin));
  absl::StatusOr<Record> begin = DecodeRecord(begin_payload);
  if (!begin.ok() || !std::holds_alternative<MessageBegin>(*begin) ||
      std::get<MessageBegin>(*begin).message_id != entry.id) {
    return absl::DataLossError("the MessageBegin location holds something else");
  }
  BodyTally tally;
  for (size_t i = 0; i < entry.chunks.size(); ++i) {
    ASSIGN_OR_RETURN(std::string payload, read(entry.chunks[i]));
    absl::StatusOr<Record> chunk = DecodeRecord(payload);
    if (!chunk.ok() || !std::holds_alternative<BodyChunk>(*chunk) ||
        std::get<BodyChunk>(*chunk).message_id != entry.id) {
      return absl::DataLossError("chunk " + std::to_string(i) + " location holds something else");
    }
    RETURN_IF_ERROR(tally.AddChunk(std::get<BodyChunk>(*chunk)));
  }
  if (!entry.quarantined && tally.bytes() != entry.body_bytes) {
    return absl::DataLossError("chunks add up to " + std::to_string(tally.bytes()) + " bytes");
  }
  return absl::OkStatus();
}

// Re-reads each queued message's MessageBegin and body chunks at the spans
// the index holds. Returns the number of messages that failed.
uint64_t VerifyLocations(const std::string& shard_directory, const QueueIndex& index) {
  uint64_t failed = 0;
  index.ForEach([&](const MessageEntry& entry) {
    if (entry.begin.segment == 0) return;  // Quarantined without envelope.
    absl::Status status = VerifyMessage(shard_directory, entry);
    if (!status.ok()) {
      ++failed;
      std::printf("  VERIFY message %llu: %s\n", static_cast<unsigned long long>(entry.id),
                  SanitizePeerText(std::string(status.message()), 300).c_str());
    }
  });
  return failed;
}

// Returns true if the shard is clean; *error on I/O errors.
bool DumpShard(const std::string& shard_directory, int shard, const Options& options,
               bool* error) {
  std::printf("shard %d: %s\n", shard, shard_directory.c_str());
  QueueIndex index;
  DumpObserver observer(options.records);
  absl::StatusOr<RecoveryResult> result = ReplayShard(shard_directory, shard, &index, &observer);
  if (!result.ok()) {
    std::printf("  ERROR %s\n", SanitizePeerText(result.status().ToString(), 300).c_str());
    *error = true;
    return false;
  }
  PrintSegments(observer, *result, index);
  uint64_t verify_failures = options.verify ? VerifyLocations(shard_directory, index) : 0;
  for (uint64_t id : result->quarantined_ids) {
    std::printf("  QUARANTINED message %llu\n", static_cast<unsigned long long>(id));
  }
  std::printf(
      "shard %d: %u segments, %llu records, %llu messages (%llu bytes), %zu quarantined, "
      "%llu abandoned, %llu damaged regions (%llu bytes), next segment %u%s\n",
      shard, result->segments_scanned, static_cast<unsigned long long>(result->records_replayed),
      static_cast<unsigned long long>(result->messages),
      static_cast<unsigned long long>(result->queued_bytes), result->quarantined_ids.size(),
      static_cast<unsigned long long>(result->abandoned),
      static_cast<unsigned long long>(result->damaged_regions),
      static_cast<unsigned long long>(result->bytes_dropped), result->next_segment,
      options.verify ? (", " + std::to_string(verify_failures) + " failed verification").c_str()
                     : "");
  return result->clean() && verify_failures == 0;
}

bool ParseOptions(int argc, char** argv, Options* options) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--records") {
      options->records = true;
    } else if (arg == "--verify") {
      options->verify = true;
    } else if (arg == "--shard" && i + 1 < argc) {
      char* end = nullptr;
      long shard = std::strtol(argv[++i], &end, 10);
      if (*argv[i] == '\0' || *end != '\0' || shard < 0 || shard >= 128) return false;
      options->shard = static_cast<int>(shard);
    } else if (!arg.empty() && arg[0] != '-' && options->spool.empty()) {
      options->spool = arg;
    } else {
      return false;
    }
  }
  return !options->spool.empty();
}

int Main(int argc, char** argv) {
  Options options;
  if (!ParseOptions(argc, argv, &options)) {
    std::fprintf(stderr, "usage: queue_dump SPOOL_DIR [--shard K] [--records] [--verify]\n");
    return 2;
  }
  SetLogLevel(LogLevel::kError);  // Findings go to stdout, once.
  std::error_code ec;
  if (!std::filesystem::is_directory(options.spool, ec)) {
    std::fprintf(stderr, "queue_dump: %s is not a directory\n", options.spool.c_str());
    return 2;
  }
  bool clean = true, error = false;
  for (int shard = 0; shard < 128; ++shard) {
    if (options.shard >= 0 && shard != options.shard) continue;
    std::string directory = ShardDirectory(options.spool, shard);
    if (!std::filesystem::is_directory(directory, ec)) continue;
    clean = DumpShard(directory, shard, options, &error) && clean;
  }
  if (error) return 2;
  return clean ? 0 : 1;
}

}  // namespace
}  // namespace ringmta::queue

int main(int argc, char** argv) { return ringmta::queue::Main(argc, argv); }
