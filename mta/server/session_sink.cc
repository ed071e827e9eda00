#include "mta/server/session_sink.h"

namespace ringmta::server {
namespace {

class RefusingSink : public SessionSink {
 public:
  absl::Status Begin(const smtp::Envelope&) override {
    return absl::UnavailableError("no queue is configured; message not accepted");
  }
  absl::Status Append(std::string_view) override {
    return absl::UnavailableError("no queue is configured");
  }
  void Abort() override {}
  io::Task<absl::Status> Commit() override {
    co_return absl::UnavailableError("no queue is configured");
  }
};

}  // namespace

std::unique_ptr<SessionSink> RefusingSinkFactory::NewSink(io::Shard&) {
  return std::make_unique<RefusingSink>();
}

}  // namespace ringmta::server
