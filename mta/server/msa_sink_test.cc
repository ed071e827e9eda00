// Tests for the MSA sink: which fields are added and where, a message with
// no header/body separator, headers only, an oversized header section, any
// split of the body into pieces, and the wrapped sink's errors.
#include "mta/server/msa_sink.h"

#include <gtest/gtest.h>

#include "mta/io/block_on.h"
#include "mta/io/reactor.h"

namespace ringmta::server {
namespace {

// Records what reaches the queue; Received: would be prepended there.
class RecordingSink : public SessionSink {
 public:
  absl::Status Begin(const smtp::Envelope&) override {
    body.clear();
    return begin_status;
  }
  absl::Status Append(std::string_view bytes) override {
    body.append(bytes.data(), bytes.size());
    return append_status;
  }
  void Abort() override { ++aborts; }
  io::Task<absl::Status> Commit() override {
    ++commits;
    co_return absl::OkStatus();
  }
  absl::Status begin_status;
  absl::Status append_status;
  std::string body;
  int aborts = 0;
  int commits = 0;
};

struct Outcome {
  std::string body;
  absl::Status status;
};

Outcome Submit(std::string_view body, size_t chunk = 1 << 20) {
  auto inner = std::make_unique<RecordingSink>();
  RecordingSink* record = inner.get();
  MsaSink sink(std::move(inner), "msa.example");
  Outcome outcome;
  outcome.status = sink.Begin(smtp::Envelope());
  for (size_t at = 0; at < body.size() && outcome.status.ok(); at += chunk) {
    outcome.status = sink.Append(body.substr(at, chunk));
  }
  if (outcome.status.ok()) outcome.status = sink.FinishHeaders();
  outcome.body = record->body;
  return outcome;
}

// Drops a leading generated Message-ID: and Date: field, checking their form.
std::string WithoutAdded(std::string body, bool message_id, bool date) {
  if (message_id) {
    EXPECT_EQ(body.rfind("Message-ID: <", 0), 0u) << body;
    const size_t end = body.find("\r\n");
    EXPECT_EQ(body.substr(end - 13, 13), "@msa.example>");
    body.erase(0, end + 2);
  }
  if (date) {
    EXPECT_EQ(body.rfind("Date: ", 0), 0u) << body;
    const size_t end = body.find("\r\n");
    EXPECT_EQ(body.substr(end - 5, 5), "+0000");
    body.erase(0, end + 2);
  }
  return body;
}

TEST(MsaSinkTest, AddsBothFieldsAtTheTop) {
  const std::string message = "Subject: hi\r\n\r\nbody\r\n";
  for (size_t chunk : {1, 2, 5, 100}) {
    const Outcome outcome = Submit(message, chunk);
    ASSERT_TRUE(outcome.status.ok());
    EXPECT_EQ(WithoutAdded(outcome.body, true, true), message) << chunk;
  }
}

TEST(MsaSinkTest, PresentFieldsAreNotAddedAgain) {
  const std::string message = "Date: Mon, 1 Jan 2024 00:00:00 +0000\r\nMessage-Id: <x@y>\r\n\r\nb\r\n";
  EXPECT_EQ(Submit(message, 3).body, message);
}

TEST(MsaSinkTest, AddsOnlyWhatIsMissing) {
  const std::string has_id = "Message-ID: <x@y>\r\n\r\nb\r\n";
  EXPECT_EQ(WithoutAdded(Submit(has_id).body, false, true), has_id);
  const std::string has_date = "Date: today\r\n\r\nb\r\n";
  EXPECT_EQ(WithoutAdded(Submit(has_date).body, true, false), has_date);
}

TEST(MsaSinkTest, TextWithoutSeparatorStaysBody) {
  const Outcome outcome = Submit("Subject: x\r\nhello\r\nworld\r\n", 4);
  EXPECT_EQ(WithoutAdded(outcome.body, true, true), "Subject: x\r\n\r\nhello\r\nworld\r\n");
  EXPECT_EQ(WithoutAdded(Submit("no headers\r\n").body, true, true), "\r\nno headers\r\n");
}

TEST(MsaSinkTest, HeadersOnlyMessage) {
  EXPECT_EQ(WithoutAdded(Submit("Subject: x\r\n", 2).body, true, true), "Subject: x\r\n");
  EXPECT_EQ(WithoutAdded(Submit("").body, true, true), "");
}

TEST(MsaSinkTest, OversizedHeaderSectionPassesUnchanged) {
  std::string message;
  while (message.size() <= 2 * kMsaHeldBytesMax) {
    message += "X-Filler: " + std::string(80, 'f') + "\r\n";
  }
  message += "\r\nbody\r\n";
  EXPECT_TRUE(Submit(message, 1000).body == message);  // unchanged: nothing added
}

TEST(MsaSinkTest, InnerErrorsPropagate) {
  auto inner = std::make_unique<RecordingSink>();
  RecordingSink* record = inner.get();
  MsaSink sink(std::move(inner), "msa.example");
  record->begin_status = absl::ResourceExhaustedError("full");
  EXPECT_EQ(sink.Begin(smtp::Envelope()).code(), absl::StatusCode::kResourceExhausted);
  record->begin_status = absl::OkStatus();
  ASSERT_TRUE(sink.Begin(smtp::Envelope()).ok());
  EXPECT_TRUE(sink.Append("Subject: x\r\n").ok());  // held: the inner sink sees nothing yet
  EXPECT_EQ(record->body, "");
  record->append_status = absl::UnavailableError("disk");
  EXPECT_EQ(sink.Append("\r\nbody").code(), absl::StatusCode::kUnavailable);
  sink.Abort();
  EXPECT_EQ(record->aborts, 1);
}

TEST(MsaSinkTest, CommitReleasesHeldHeadersFirst) {
  auto reactor = io::Reactor::Create();
  ASSERT_TRUE(reactor.ok()) << reactor.status();
  auto inner = std::make_unique<RecordingSink>();
  RecordingSink* record = inner.get();
  MsaSink sink(std::move(inner), "msa.example");
  ASSERT_TRUE(sink.Begin(smtp::Envelope()).ok());
  ASSERT_TRUE(sink.Append("Subject: only headers\r\n").ok());
  EXPECT_TRUE(io::BlockOn(**reactor, sink.Commit()).ok());
  EXPECT_EQ(record->commits, 1);
  EXPECT_EQ(WithoutAdded(record->body, true, true), "Subject: only headers\r\n");
  // A failed release abandons the message instead of committing it.
  ASSERT_TRUE(sink.Begin(smtp::Envelope()).ok());
  ASSERT_TRUE(sink.Append("Subject: x\r\n").ok());
  record->append_status = absl::UnavailableError("disk");
  EXPECT_EQ(io::BlockOn(**reactor, sink.Commit()).code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(record->commits, 1);
  EXPECT_EQ(record->aborts, 1);
  (*reactor)->Shutdown();
}

TEST(MsaSinkTest, GeneratedFieldsAreWellFormed) {
  EXPECT_EQ(FormatDateField(0), "Date: Thu, 01 Jan 1970 00:00:00 +0000\r\n");
  const std::string a = NewMessageIdField(1000, "h.example");
  EXPECT_EQ(a.rfind("Message-ID: <1000.", 0), 0u) << a;
  EXPECT_NE(a, NewMessageIdField(1000, "h.example"));  // random part differs
}

}  // namespace
}  // namespace ringmta::server
