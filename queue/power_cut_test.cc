// Power cut: the real spool writes through a storage that keeps, per file,
// what is durable (synced) apart from what is only written; at a random
// operation the power goes: pending writes are lost (all, a prefix with the
// next one torn, or random 4 KiB pages of them), files whose directory entry
// was never synced vanish, and every later operation fails. The surviving
// bytes are laid out as real files and real recovery runs on them: every
// message whose Commit() returned OK (the "250") must come back intact.
// Many seeded iterations.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <variant>
#include <vector>

#include <gtest/gtest.h>

#include "mta/base/clock.h"
#include "mta/io/operation.h"
#include "mta/io/test_util.h"
#include "queue/index.h"
#include "queue/queue_limits.h"
#include "queue/records.h"
#include "queue/recovery.h"
#include "queue/segment_scan.h"
#include "queue/segment_storage.h"
#include "queue/spool.h"

namespace ringmta::queue {
namespace {

enum class CutMode { kLoseAll, kPrefixTorn, kRandomPages };

// An in-memory file system that models what a power cut keeps.
class LossyStorage : public SegmentStorage {
 public:
  LossyStorage(uint64_t cut_after_ops, CutMode mode, uint64_t seed)
      : cut_after_ops_(cut_after_ops), mode_(mode), random_(seed) {}

  io::Task<int32_t> OpenDirectory(const std::string& path) override {
    if (Down()) co_return -EIO;
    co_return kDirectoryFd;
  }
  io::Task<int32_t> Create(const std::string& path) override {
    if (Down()) co_return -EIO;
    for (const auto& [fd, file] : files_) {
      if (file.path == path && !file.unlinked) co_return -EEXIST;
    }
    const int fd = next_fd_++;
    files_[fd].path = path;
    co_return fd;
  }
  io::Task<int32_t> Allocate(int fd, uint64_t bytes) override {
    if (Down()) co_return -EIO;
    File& file = files_.at(fd);
    file.size = std::max(file.size, bytes);
    co_return 0;
  }
  io::Task<int32_t> WriteAt(int fd, std::string_view data, uint64_t offset) override {
    if (Down()) co_return -EIO;
    File& file = files_.at(fd);
    file.pending.push_back({offset, std::string(data)});
    file.size = std::max(file.size, offset + data.size());
    co_return static_cast<int32_t>(data.size());
  }
  io::Task<int32_t> DataSync(int fd) override {
    if (Down()) co_return -EIO;
    File& file = files_.at(fd);
    for (const Write& write : file.pending) Apply(file.durable, write.offset, write.bytes);
    file.pending.clear();
    file.durable_size = file.size;
    co_return 0;
  }
  io::Task<int32_t> SyncDirectory(int) override {
    if (Down()) co_return -EIO;
    for (auto& [fd, file] : files_) file.entry_durable = !file.unlinked;
    co_return 0;
  }
  io::Task<int32_t> Close(int) override { co_return Down() ? -EIO : 0; }
  void Unlink(const std::string& path) override {
    if (Down()) return;
    for (auto& [fd, file] : files_) {
      if (file.path == path) file.unlinked = true;
    }
  }

  bool cut() const { return cut_; }

  // Writes what survived the cut into `directory` as real files.
  void Materialize(const std::string& directory) {
    CHECK(cut_);
    std::filesystem::create_directories(directory);
    for (const auto& [fd, file] : survivors_) {
      int out = open((directory + "/" + std::filesystem::path(file.path).filename().string()).c_str(),
                     O_CREAT | O_EXCL | O_WRONLY, 0600);
      CHECK(out >= 0);
      CHECK(ftruncate(out, static_cast<off_t>(file.durable_size)) == 0);
      // Sparse: only the pages that are not all zeros.
      const std::string& bytes = file.durable;
      for (size_t at = 0; at < bytes.size(); at += kPageBytes) {
        const size_t n = std::min<size_t>(kPageBytes, bytes.size() - at);
        if (bytes.find_first_not_of('\0', at) >= at + n) continue;
        CHECK(pwrite(out, bytes.data() + at, n, static_cast<off_t>(at)) == static_cast<ssize_t>(n));
      }
      close(out);
    }
  }

 private:
  struct Write {
    uint64_t offset;
    std::string bytes;
  };
  struct File {
    std::string path;
    std::string durable;  // The synced bytes from offset 0; beyond its end: zeros.
    std::vector<Write> pending;
    uint64_t size = 0;
    uint64_t durable_size = 0;
    bool entry_durable = false;
    bool unlinked = false;
  };
  static constexpr int kDirectoryFd = 3;
  static constexpr uint64_t kPageBytes = 4096;

  // Counts operations; the one numbered cut_after_ops_ finds the power gone.
  bool Down() {
    if (cut_) return true;
    if (++ops_ < cut_after_ops_) return false;
    PowerCut();
    return true;
  }

  void PowerCut() {
    cut_ = true;
    for (auto& [fd, file] : files_) {
      if (!file.entry_durable) continue;  // The file itself is gone.
      File kept = file;
      kept.pending.clear();
      if (mode_ == CutMode::kPrefixTorn && !file.pending.empty()) {
        std::uniform_int_distribution<size_t> prefix(0, file.pending.size() - 1);
        const size_t whole = prefix(random_);
        for (size_t i = 0; i < whole; ++i) Keep(kept, file.pending[i].offset, file.pending[i].bytes);
        const Write& torn = file.pending[whole];
        std::uniform_int_distribution<size_t> cut_at(0, torn.bytes.size());
        Keep(kept, torn.offset, torn.bytes.substr(0, cut_at(random_)));
      } else if (mode_ == CutMode::kRandomPages) {
        std::bernoulli_distribution keep(0.5);
        for (const Write& write : file.pending) {
          uint64_t at = write.offset;
          while (at < write.offset + write.bytes.size()) {
            const uint64_t page_end = std::min<uint64_t>((at / kPageBytes + 1) * kPageBytes,
                                                         write.offset + write.bytes.size());
            if (keep(random_)) {
              Keep(kept, at, write.bytes.substr(at - write.offset, page_end - at));
            }
            at = page_end;
          }
        }
      }
      survivors_[fd] = std::move(kept);
    }
  }
  static void Keep(File& file, uint64_t offset, const std::string& bytes) {
    Apply(file.durable, offset, bytes);
    file.durable_size = std::max(file.durable_size, offset + bytes.size());
  }

  static void Apply(std::string& durable, uint64_t offset, const std::string& bytes) {
    if (bytes.empty()) return;
    if (durable.size() < offset + bytes.size()) durable.resize(offset + bytes.size(), '\0');
    durable.replace(offset, bytes.size(), bytes);
  }

  const uint64_t cut_after_ops_;
  const CutMode mode_;
  std::mt19937_64 random_;
  uint64_t ops_ = 0;
  bool cut_ = false;
  int next_fd_ = 10;
  std::map<int, File> files_;
  std::map<int, File> survivors_;
};

struct Acked {
  std::string body;
};

class PowerCutTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto reactor = io::Reactor::Create();
    ASSERT_TRUE(reactor.ok()) << reactor.status();
    reactor_ = std::move(*reactor);
    root_ = std::string(getenv("TEST_TMPDIR") ? getenv("TEST_TMPDIR") : "/tmp") + "/power-cut";
  }

  // One writer: messages of random sizes until a commit fails.
  static io::Task<void> Writer(Spool* spool, uint64_t first_id, uint64_t seed,
                               std::map<uint64_t, Acked>* acked) {
    std::mt19937_64 random(seed);
    std::uniform_int_distribution<size_t> size(1, 3 * kBodyChunkBytesMax + 100);
    for (uint64_t id = first_id;; ++id) {
      MessageBegin begin;
      begin.message_id = id;
      begin.received_ms = 1'700'000'000'000;
      begin.deadline_ms = begin.received_ms + 1000;
      begin.sender = "s@example.org";
      begin.recipients.push_back({"r@example.com", 0, ""});
      std::string body(size(random), static_cast<char>('a' + id % 26));
      body.replace(0, std::min<size_t>(body.size(), 20), std::to_string(id).substr(0, 20));
      const uint64_t epoch = spool->epoch();
      bool appended = false;
      for (int attempt = 0; attempt < 50 && !appended; ++attempt) {
        appended = spool->Append({EncodeMessageBegin(begin)}).ok();
        if (!appended) co_await io::Sleep(spool_reactor(), nullptr, 1);
      }
      if (!appended) co_return;
      BodyTally tally;
      bool failed = false;
      for (size_t at = 0; at < body.size() && !failed; at += kBodyChunkBytesMax) {
        std::string_view data =
            std::string_view(body).substr(at, std::min(kBodyChunkBytesMax, body.size() - at));
        const uint64_t index = tally.Add(data);
        failed = !spool->Append({EncodeBodyChunkPrefix(id, index, data.size()), data}).ok();
        if (!failed && spool->write_behind_full()) co_await spool->WaitWriteBehind();
      }
      if (failed || !spool->Append({EncodeMessageCommit(tally.Commit(id))}).ok()) co_return;
      absl::Status status = co_await spool->Commit();
      if (!status.ok() || spool->epoch() != epoch) co_return;
      (*acked)[id] = Acked{std::move(body)};  // The "250".
    }
  }
  static io::Reactor& spool_reactor() { return *current_reactor_; }

  // Runs a workload until the power cut, then recovers; returns the number
  // of acknowledged messages checked.
  size_t Iteration(uint64_t seed) {
    std::mt19937_64 random(seed);
    const auto mode = static_cast<CutMode>(random() % 3);
    const uint64_t cut_after = 5 + random() % 400;
    LossyStorage storage(cut_after, mode, seed);
    const std::string root = root_ + "-" + std::to_string(seed);
    std::filesystem::remove_all(root);
    SpoolOptions options;
    options.directory = root;
    options.segment_bytes = kSegmentBytesMin;
    options.write_behind_bytes = 128 << 10;
    options.storage = &storage;
    current_reactor_ = reactor_.get();

    std::map<uint64_t, Acked> acked;
    std::unique_ptr<Spool> spool;
    bool opened = false;
    io::Spawn(*reactor_, tasks_, [](io::Reactor* reactor, SpoolOptions options,
                                    std::unique_ptr<Spool>* out, bool* opened) -> io::Task<void> {
      auto spool = co_await Spool::Open(*reactor, options, 1);
      if (spool.ok()) *out = std::move(*spool);
      *opened = true;
    }(reactor_.get(), options, &spool, &opened));
    EXPECT_TRUE(io::RunUntil(*reactor_, [&] { return opened; }));
    if (spool != nullptr) {
      for (int writer = 0; writer < 6; ++writer) {
        io::Spawn(*reactor_, tasks_,
                  Writer(spool.get(), (uint64_t{1} << 40) * (writer + 1), seed * 7 + writer, &acked));
      }
      EXPECT_TRUE(io::RunUntil(*reactor_, [&] { return tasks_.empty(); }, 120'000));
      bool closed = false;
      io::Spawn(*reactor_, tasks_, [](Spool* spool, bool* closed) -> io::Task<void> {
        co_await spool->Close();
        *closed = true;
      }(spool.get(), &closed));
      EXPECT_TRUE(io::RunUntil(*reactor_, [&] { return closed; }, 60'000));
      EXPECT_TRUE(io::RunUntil(*reactor_, [&] { return tasks_.empty(); }));
    }
    EXPECT_TRUE(storage.cut()) << "seed " << seed << ": the workload ended before the cut";
    if (!storage.cut()) return 0;

    const std::string shard_directory = ShardDirectory(root, 0);
    storage.Materialize(shard_directory);
    QueueIndex index;
    auto recovered = RecoverShard(shard_directory, 0, &index);
    EXPECT_TRUE(recovered.ok()) << "seed " << seed << ": " << recovered.status();
    if (!recovered.ok()) return 0;
    for (const auto& [id, message] : acked) {
      const MessageEntry* entry = index.Find(id);
      EXPECT_NE(entry, nullptr) << "seed " << seed << " mode " << static_cast<int>(mode)
                                << ": acknowledged message " << id << " lost";
      if (entry == nullptr) continue;
      EXPECT_FALSE(entry->quarantined) << "seed " << seed << ": message " << id;
      std::string body;
      for (size_t i = 0; i < entry->chunks.size(); ++i) {
        const RecordSpan& span = entry->chunks[i];
        auto payload = ReadRecordAt(shard_directory + "/" + SegmentFileName(span.segment),
                                    span.segment, span.offset, span.end_offset);
        EXPECT_TRUE(payload.ok()) << "seed " << seed << ": " << payload.status();
        if (!payload.ok()) continue;
        auto record = DecodeRecord(*payload);
        EXPECT_TRUE(record.ok());
        if (record.ok()) body += std::string(std::get<BodyChunk>(*record).data);
      }
      EXPECT_EQ(body, message.body) << "seed " << seed << ": message " << id << " altered";
    }
    std::filesystem::remove_all(root);
    return acked.size();
  }

  std::unique_ptr<io::Reactor> reactor_;
  io::TaskGroup tasks_;
  std::string root_;
  static inline io::Reactor* current_reactor_ = nullptr;
};

TEST_F(PowerCutTest, NothingAcknowledgedIsLost) {
  size_t checked = 0;
  int with_acks = 0;
  for (uint64_t seed = 1; seed <= 150; ++seed) {
    const size_t acked = Iteration(seed);
    checked += acked;
    with_acks += acked > 0;
    if (HasFailure()) break;
  }
  // The cuts must land after some acknowledgements, or the test proves little.
  EXPECT_GT(with_acks, 100);
  EXPECT_GT(checked, 1000u);
  std::printf("%zu acknowledged messages checked over %d cuts with acknowledgements\n", checked,
              with_acks);
}

}  // namespace
}  // namespace ringmta::queue
