#include "dns/resolver.h"

#include <algorithm>
#include <array>
#include <coroutine>
#include <random>
#include <span>
#include <utility>

#include "absl/strings/str_cat.h"
#include "dns/server_address.h"
#include "mta/base/check.h"

namespace ringmta::dns {

// One (name, type) wanted by a Lookup; linked into its QueryRecord while
// the answer is awaited.
struct Resolver::Waiter {
  Lookup* lookup = nullptr;
  std::string name;
  uint16_t type = 0;
  QueryRecord* record = nullptr;
  Waiter* prev = nullptr;
  Waiter* next = nullptr;
  std::optional<absl::StatusOr<Answer>> result;
};

// An awaitable for up to two answers at once (AAAA and A). Lives in the
// awaiting coroutine's frame; resumes it once every answer is in, or at
// once on cancellation (its waiters are detached; the queries run on).
class Resolver::Lookup {
 public:
  Lookup(Resolver& resolver, io::CancelScope* scope) : resolver_(resolver), scope_(scope) {}
  Lookup(const Lookup&) = delete;
  Lookup& operator=(const Lookup&) = delete;
  ~Lookup();

  // At most two, added before the co_await.

  void Add(const std::string& name, uint16_t type);
  absl::StatusOr<Answer>& result(int i) { return *waiters_[i].result; }
  bool cancelled() const { return cancelled_; }

  bool await_ready();
  void await_suspend(std::coroutine_handle<> handle);
  void await_resume() const {}

 private:
  friend class Resolver;
  void Finish(Waiter* waiter, absl::StatusOr<Answer> result);
  static void OnCancel(void* owner);

  Resolver& resolver_;
  io::CancelScope* scope_;
  std::array<Waiter, 2> waiters_;
  int count_ = 0;
  int pending_ = 0;
  bool cancelled_ = false;
  io::CancelNode cancel_node_;
  std::coroutine_handle<> handle_;
};

struct Resolver::QueryRecord {
  Resolver* resolver = nullptr;
  std::string key;
  std::string name;
  uint16_t type = 0;
  Waiter* head = nullptr;  // waiters still interested
};

namespace {

std::string QueryKey(const std::string& name, uint16_t type) {
  return absl::StrCat(name, "/", type);
}

absl::Status CheckConfig(const ResolverConfig& config) {
  const CachePolicy& cache = config.cache;
  if (config.servers.size() > limits::kServersMax) {
    return absl::InvalidArgumentError("too many DNS servers");
  }
  if (config.timeout_ms < limits::kQueryTimeoutMsMin ||
      config.timeout_ms > limits::kQueryTimeoutMsMax) {
    return absl::InvalidArgumentError("DNS timeout_ms out of range");
  }
  if (config.tries < 1 || config.tries > limits::kQueryTriesMax) {
    return absl::InvalidArgumentError("DNS tries out of range");
  }
  if (cache.entries_max > limits::kCacheEntriesMax || cache.ttl_s_min < 0 ||
      cache.ttl_s_min > cache.ttl_s_max || cache.ttl_s_max > limits::kCacheTtlSecondsMax ||
      cache.negative_ttl_s < 0 || cache.negative_ttl_s_max < 0 ||
      cache.negative_ttl_s_max > limits::kNegativeTtlSecondsMax) {
    return absl::InvalidArgumentError("DNS cache policy out of range");
  }
  return absl::OkStatus();
}

Answer NegativeAnswer(AnswerKind kind) {
  Answer answer;
  answer.kind = kind;
  return answer;
}

// What c-ares' status and answer buffer mean for one question.
absl::StatusOr<Answer> Interpret(int status, const unsigned char* message, int message_bytes,
                                 const std::string& name, uint16_t type) {
  if (status == ARES_ECANCELLED || status == ARES_EDESTRUCTION) {
    return absl::CancelledError("DNS resolver closed");
  }
  // With an answer in hand its rcode and sections decide (ares_query
  // reports NXDOMAIN as ARES_ENOTFOUND, no data as ARES_ENODATA).
  if (message != nullptr && message_bytes > 0) {
    return ParseAnswer(std::span<const uint8_t>(message, static_cast<size_t>(message_bytes)),
                       name, type);
  }
  switch (status) {
    case ARES_ENOTFOUND:
      return NegativeAnswer(AnswerKind::kNxDomain);
    case ARES_ENODATA:
      return NegativeAnswer(AnswerKind::kNoData);
    case ARES_EBADNAME:
      return absl::InvalidArgumentError(absl::StrCat("invalid DNS name ", name));
    default:
      return absl::UnavailableError(
          absl::StrCat("DNS lookup of ", name, " failed: ", ares_strerror(status)));
  }
}

// AAAA and A results to one address list (see ResolveAddresses).
absl::StatusOr<std::vector<IpAddress>> CombineAddresses(
    std::initializer_list<const absl::StatusOr<Answer>*> answers) {
  std::vector<IpAddress> addresses;
  absl::Status error;
  bool all_nxdomain = true;
  for (const absl::StatusOr<Answer>* answer : answers) {
    if (!answer->ok()) {
      if (error.ok()) error = answer->status();
      all_nxdomain = false;
      continue;
    }
    size_t kept = std::min((*answer)->addresses.size(), limits::kAddressesPerFamilyMax);
    addresses.insert(addresses.end(), (*answer)->addresses.begin(),
                     (*answer)->addresses.begin() + static_cast<ptrdiff_t>(kept));
    if ((*answer)->kind != AnswerKind::kNxDomain) all_nxdomain = false;
  }
  if (!addresses.empty()) return addresses;
  if (!error.ok()) return error;
  if (all_nxdomain) return absl::NotFoundError("host does not exist (NXDOMAIN)");
  return absl::NotFoundError("host has no A or AAAA records");
}

}  // namespace

absl::StatusOr<std::unique_ptr<Resolver>> Resolver::Create(io::Reactor& reactor,
                                                           const ResolverConfig& config) {
  if (absl::Status status = CheckConfig(config); !status.ok()) return status;
  ChannelOptions options;
  options.timeout_ms = config.timeout_ms;
  options.tries = config.tries;
  for (const std::string& server : config.servers) {
    absl::StatusOr<std::string> entry = ServerCsvEntry(server);
    if (!entry.ok()) return entry.status();
    if (!options.servers_csv.empty()) options.servers_csv += ",";
    options.servers_csv += *entry;
  }
  absl::StatusOr<std::unique_ptr<AresChannel>> channel = AresChannel::Create(reactor, options);
  if (!channel.ok()) return channel.status();
  return std::unique_ptr<Resolver>(new Resolver(reactor, config, *std::move(channel)));
}

Resolver::Resolver(io::Reactor& reactor, const ResolverConfig& config,
                   std::unique_ptr<AresChannel> channel)
    : reactor_(reactor), channel_(std::move(channel)), cache_(config.cache) {
  random_.seed(config.shuffle_seed.has_value() ? *config.shuffle_seed : std::random_device{}());
}

Resolver::~Resolver() {
  // A record's c-ares callback would run into a destroyed resolver.
  CHECK(in_flight_.empty());
}

io::Task<void> Resolver::Close() {
  closing_ = true;
  co_await channel_->Close();  // every record's callback runs: ARES_ECANCELLED
  CHECK(in_flight_.empty());
}

io::Task<absl::StatusOr<MxResult>> Resolver::ResolveMx(std::string domain,
                                                       io::CancelScope* scope) {
  absl::StatusOr<std::string> name = NormalizeName(domain);
  if (!name.ok()) co_return name.status();
  Lookup lookup(*this, scope);
  lookup.Add(*name, kTypeMx);
  co_await lookup;
  absl::StatusOr<Answer>& answer = lookup.result(0);
  if (!answer.ok()) co_return answer.status();
  if (answer->kind == AnswerKind::kNxDomain) {
    co_return absl::NotFoundError(absl::StrCat("domain ", *name, " does not exist (NXDOMAIN)"));
  }
  if (answer->kind == AnswerKind::kRecords) co_return OrderMxHosts(answer->mx, random_);
  // RFC 5321 §5.1: no MX records, so the domain itself is the one host,
  // "an implicit MX RR with a preference of 0", if it has an address.
  absl::StatusOr<std::vector<IpAddress>> addresses = co_await ResolveAddresses(*name, scope);
  if (!addresses.ok()) {
    if (!absl::IsNotFound(addresses.status())) co_return addresses.status();
    co_return absl::NotFoundError(absl::StrCat("domain ", *name, " has no MX, A or AAAA records"));
  }
  MxResult result;
  result.implicit = true;
  result.hosts.push_back({*name, 0});
  co_return result;
}

io::Task<absl::StatusOr<std::vector<IpAddress>>> Resolver::ResolveAddresses(
    std::string host, io::CancelScope* scope) {
  absl::StatusOr<std::string> name = NormalizeName(host);
  if (!name.ok()) co_return name.status();
  Lookup lookup(*this, scope);
  lookup.Add(*name, kTypeAaaa);
  lookup.Add(*name, kTypeA);
  co_await lookup;
  if (lookup.cancelled()) co_return absl::CancelledError("DNS lookup cancelled");
  co_return CombineAddresses({&lookup.result(0), &lookup.result(1)});
}

std::optional<absl::StatusOr<Answer>> Resolver::Immediate(const std::string& name,
                                                          uint16_t type) {
  if (closing_) return absl::CancelledError("DNS resolver closed");
  std::optional<Answer> cached = cache_.Find(name, type, reactor_.now_ms());
  if (!cached.has_value()) return std::nullopt;
  ++stats_.cache_hits;
  return *std::move(cached);
}

void Resolver::Attach(Waiter* waiter) {
  std::string key = QueryKey(waiter->name, waiter->type);
  auto found = in_flight_.find(key);
  QueryRecord* record;
  bool start = found == in_flight_.end();
  if (!start) {
    record = found->second.get();
    ++stats_.coalesced;
  } else if (in_flight_.size() >= limits::kQueriesInFlightMax) {
    waiter->lookup->Finish(waiter, absl::ResourceExhaustedError("too many DNS queries in flight"));
    return;
  } else {
    auto owned = std::make_unique<QueryRecord>();
    record = owned.get();
    record->resolver = this;
    record->key = key;
    record->name = waiter->name;
    record->type = waiter->type;
    in_flight_.emplace(std::move(key), std::move(owned));
  }
  waiter->record = record;
  waiter->prev = nullptr;
  waiter->next = record->head;
  if (record->head != nullptr) record->head->prev = waiter;
  record->head = waiter;
  if (start) {
    ++stats_.queries_started;
    // May call OnAnswer before returning (an immediate failure), which
    // frees `record`: nothing below may touch it.
    channel_->Query(record->name, record->type, &Resolver::OnAnswer, record);
  }
}

void Resolver::Detach(Waiter* waiter) {
  QueryRecord* record = waiter->record;
  if (record == nullptr) return;
  if (waiter->prev != nullptr) waiter->prev->next = waiter->next;
  else record->head = waiter->next;
  if (waiter->next != nullptr) waiter->next->prev = waiter->prev;
  waiter->record = nullptr;
  waiter->prev = waiter->next = nullptr;
}

void Resolver::OnAnswer(void* arg, int status, int timeouts, unsigned char* answer,
                        int answer_bytes) {
  auto* record = static_cast<QueryRecord*>(arg);
  Resolver* self = record->resolver;
  absl::StatusOr<Answer> result =
      Interpret(status, answer, answer_bytes, record->name, record->type);
  if (result.ok()) self->cache_.Insert(record->name, record->type, *result, self->reactor_.now_ms());
  // Finish() only records and posts, so no waiter runs before we are done.
  while (record->head != nullptr) {
    Waiter* waiter = record->head;
    waiter->lookup->Finish(waiter, result);
  }
  self->in_flight_.erase(record->key);  // frees `record`
}

Resolver::Lookup::~Lookup() {
  // A frame is never destroyed while suspended, so nothing is still linked.
  CHECK(pending_ == 0);
}

void Resolver::Lookup::Add(const std::string& name, uint16_t type) {
  CHECK(count_ < static_cast<int>(waiters_.size()));
  Waiter& waiter = waiters_[count_++];
  waiter.lookup = this;
  waiter.name = name;
  waiter.type = type;
}

bool Resolver::Lookup::await_ready() {
  if (scope_ != nullptr && scope_->cancelled()) {
    cancelled_ = true;
    for (int i = 0; i < count_; ++i) waiters_[i].result = absl::CancelledError("DNS lookup cancelled");
    return true;
  }
  pending_ = 0;
  for (int i = 0; i < count_; ++i) {
    waiters_[i].result = resolver_.Immediate(waiters_[i].name, waiters_[i].type);
    if (!waiters_[i].result.has_value()) ++pending_;
  }
  return pending_ == 0;
}

void Resolver::Lookup::await_suspend(std::coroutine_handle<> handle) {
  handle_ = handle;
  if (scope_ != nullptr) {
    cancel_node_.cancel = &Lookup::OnCancel;
    cancel_node_.owner = this;
    scope_->Link(&cancel_node_);
  }
  // An Attach may finish its waiter at once; the resumption is only posted,
  // so this frame stays suspended until we return.
  for (int i = 0; i < count_; ++i) {
    if (!waiters_[i].result.has_value()) resolver_.Attach(&waiters_[i]);
  }
}

void Resolver::Lookup::Finish(Waiter* waiter, absl::StatusOr<Answer> result) {
  Detach(waiter);
  waiter->result = std::move(result);
  CHECK(pending_ > 0);
  if (--pending_ > 0) return;
  if (scope_ != nullptr) scope_->Unlink(&cancel_node_);
  resolver_.reactor_.Post(handle_);
}

void Resolver::Lookup::OnCancel(void* owner) {
  auto* lookup = static_cast<Lookup*>(owner);
  // The queries run on for their other waiters and the cache; only this
  // lookup's waiters leave them.
  lookup->cancelled_ = true;
  ++lookup->resolver_.stats_.cancelled;
  for (int i = 0; i < lookup->count_; ++i) {
    Waiter& waiter = lookup->waiters_[i];
    if (waiter.result.has_value()) continue;
    Detach(&waiter);
    waiter.result = absl::CancelledError("DNS lookup cancelled");
  }
  lookup->pending_ = 0;
  lookup->scope_->Unlink(&lookup->cancel_node_);
  lookup->resolver_.reactor_.Post(lookup->handle_);
}

}  // namespace ringmta::dns
