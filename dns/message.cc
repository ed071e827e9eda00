#include "dns/message.h"

#include <ares.h>

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "dns/dns_limits.h"

namespace ringmta::dns {
namespace {

constexpr size_t kHeaderBytes = 12;
constexpr uint16_t kClassIn = 1;
constexpr int kRcodeNoError = 0;
constexpr int kRcodeNxDomain = 3;

absl::Status Malformed(const char* what) {
  return absl::UnavailableError(absl::StrCat("malformed DNS answer: ", what));
}

char ToLowerAscii(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

// RFC 2181 §8: a TTL with the top bit set is to be read as zero.
uint32_t SaneTtl(uint32_t ttl) { return (ttl & 0x80000000u) ? 0 : ttl; }

// Sequential, bounds-checked reads over one message. Names go through
// ares_expand_name, which resolves compression pointers and rejects loops.
class Reader {
 public:
  explicit Reader(std::span<const uint8_t> message) : message_(message) {}

  size_t offset() const { return offset_; }
  void Seek(size_t offset) { offset_ = offset; }

  bool U16(uint16_t* out) {
    if (message_.size() - offset_ < 2) return false;
    *out = static_cast<uint16_t>(message_[offset_] << 8 | message_[offset_ + 1]);
    offset_ += 2;
    return true;
  }
  bool U32(uint32_t* out) {
    uint16_t high, low;
    if (!U16(&high) || !U16(&low)) return false;
    *out = uint32_t{high} << 16 | low;
    return true;
  }
  bool Bytes(uint8_t* out, size_t count) {
    if (message_.size() - offset_ < count) return false;
    std::memcpy(out, message_.data() + offset_, count);
    offset_ += count;
    return true;
  }
  bool Skip(size_t count) {
    if (message_.size() - offset_ < count) return false;
    offset_ += count;
    return true;
  }
  // A name, lower-cased; the root is "".
  bool Name(std::string* out) {
    if (offset_ >= message_.size()) return false;
    char* expanded = nullptr;
    long encoded_bytes = 0;
    int status = ares_expand_name(message_.data() + offset_, message_.data(),
                                  static_cast<int>(message_.size()), &expanded, &encoded_bytes);
    if (status != ARES_SUCCESS) return false;
    out->assign(expanded);
    ares_free_string(expanded);
    for (char& c : *out) c = ToLowerAscii(c);
    offset_ += static_cast<size_t>(encoded_bytes);
    return true;
  }

 private:
  std::span<const uint8_t> message_;
  size_t offset_ = 0;
};

struct Rr {
  std::string owner;
  uint16_t type = 0;
  uint16_t klass = 0;
  uint32_t ttl_s = 0;
  size_t rdata_offset = 0;
  uint16_t rdata_bytes = 0;
};

bool ReadRr(Reader& reader, Rr* rr) {
  if (!reader.Name(&rr->owner) || !reader.U16(&rr->type) || !reader.U16(&rr->klass) ||
      !reader.U32(&rr->ttl_s) || !reader.U16(&rr->rdata_bytes)) {
    return false;
  }
  rr->ttl_s = SaneTtl(rr->ttl_s);
  rr->rdata_offset = reader.offset();
  return reader.Skip(rr->rdata_bytes);
}

bool ReadRrs(Reader& reader, uint16_t count, std::vector<Rr>* out) {
  for (uint16_t i = 0; i < count; ++i) {
    Rr rr;
    if (!ReadRr(reader, &rr)) return false;
    if (rr.klass == kClassIn) out->push_back(std::move(rr));
  }
  return true;
}

// RFC 2308 §5: a negative answer lives min(SOA TTL, SOA MINIMUM) seconds.
std::optional<uint32_t> NegativeTtl(Reader& reader, const std::vector<Rr>& authority) {
  for (const Rr& rr : authority) {
    if (rr.type != kTypeSoa) continue;
    reader.Seek(rr.rdata_offset);
    std::string mname, rname;
    uint32_t serial_refresh_retry_expire[4], minimum;
    if (!reader.Name(&mname) || !reader.Name(&rname)) return std::nullopt;
    for (uint32_t& field : serial_refresh_retry_expire) {
      if (!reader.U32(&field)) return std::nullopt;
    }
    if (!reader.U32(&minimum) || reader.offset() > rr.rdata_offset + rr.rdata_bytes) {
      return std::nullopt;
    }
    return std::min(rr.ttl_s, SaneTtl(minimum));
  }
  return std::nullopt;
}

// Follows CNAMEs from `qname` (RFC 1034 §3.6.2); returns the final owner
// name and lowers `ttl_s` to the smallest TTL on the way.
absl::StatusOr<std::string> FollowCnames(Reader& reader, const std::vector<Rr>& answers,
                                         std::string_view qname, uint32_t* ttl_s) {
  std::string current(qname);
  for (int hops = 0;; ++hops) {
    auto cname = std::find_if(answers.begin(), answers.end(), [&](const Rr& rr) {
      return rr.type == kTypeCname && rr.owner == current;
    });
    if (cname == answers.end()) return current;
    if (hops == limits::kCnameChainMax) return Malformed("CNAME chain too long or looping");
    reader.Seek(cname->rdata_offset);
    if (!reader.Name(&current)) return Malformed("CNAME target");
    *ttl_s = std::min(*ttl_s, cname->ttl_s);
  }
}

bool ReadRecord(Reader& reader, const Rr& rr, Answer* answer) {
  reader.Seek(rr.rdata_offset);
  size_t end = rr.rdata_offset + rr.rdata_bytes;
  if (rr.type == kTypeMx) {
    MxRecord mx;
    if (!reader.U16(&mx.preference) || !reader.Name(&mx.exchange)) return false;
    if (reader.offset() != end) return false;
    answer->mx.push_back(std::move(mx));
    return true;
  }
  if (rr.type == kTypeA && rr.rdata_bytes == 4) {
    uint8_t bytes[4];
    if (!reader.Bytes(bytes, 4)) return false;
    answer->addresses.push_back(IpAddress::V4(bytes));
    return true;
  }
  if (rr.type == kTypeAaaa && rr.rdata_bytes == 16) {
    uint8_t bytes[16];
    if (!reader.Bytes(bytes, 16)) return false;
    answer->addresses.push_back(IpAddress::V6(bytes));
    return true;
  }
  return false;
}

}  // namespace

absl::StatusOr<std::string> NormalizeName(std::string_view name) {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  if (name.empty()) return absl::InvalidArgumentError("empty domain name");
  if (name.size() > limits::kNameBytesMax) {
    return absl::InvalidArgumentError("domain name longer than 253 octets");
  }
  std::string normal;
  normal.reserve(name.size());
  size_t label_bytes = 0;
  for (char c : name) {
    bool letter_digit = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (c == '.') {
      if (label_bytes == 0) return absl::InvalidArgumentError("empty label in domain name");
      label_bytes = 0;
    } else if (letter_digit || c == '-' || c == '_') {
      if (++label_bytes > limits::kLabelBytesMax) {
        return absl::InvalidArgumentError("label longer than 63 octets in domain name");
      }
    } else {
      return absl::InvalidArgumentError("invalid character in domain name");
    }
    normal.push_back(ToLowerAscii(c));
  }
  return normal;
}

absl::StatusOr<Answer> ParseAnswer(std::span<const uint8_t> message, std::string_view qname,
                                   uint16_t qtype) {
  if (message.size() < kHeaderBytes || message.size() > 65535) return Malformed("size");
  Reader reader(message);
  uint16_t id, flags, question_count, answer_count, authority_count, additional_count;
  reader.U16(&id);
  reader.U16(&flags);
  reader.U16(&question_count);
  reader.U16(&answer_count);
  reader.U16(&authority_count);
  reader.U16(&additional_count);
  int rcode = flags & 0x000F;
  if (rcode != kRcodeNoError && rcode != kRcodeNxDomain) {
    return absl::UnavailableError(absl::StrCat("DNS server answered rcode ", rcode));
  }
  for (uint16_t i = 0; i < question_count; ++i) {
    std::string ignored;
    if (!reader.Name(&ignored) || !reader.Skip(4)) return Malformed("question");
  }
  std::vector<Rr> answers, authority;
  if (!ReadRrs(reader, answer_count, &answers)) return Malformed("answer section");
  if (!ReadRrs(reader, authority_count, &authority)) return Malformed("authority section");

  Answer answer;
  uint32_t ttl_s = UINT32_MAX;
  auto owner = FollowCnames(reader, answers, qname, &ttl_s);
  if (!owner.ok()) return owner.status();
  if (rcode == kRcodeNoError) {
    for (const Rr& rr : answers) {
      if (rr.type != qtype || rr.owner != *owner) continue;
      if (!ReadRecord(reader, rr, &answer)) return Malformed("record data");
      ttl_s = std::min(ttl_s, rr.ttl_s);
    }
  }
  if (!answer.mx.empty() || !answer.addresses.empty()) {
    answer.kind = AnswerKind::kRecords;
    answer.ttl_s = ttl_s;
    return answer;
  }
  answer.kind = rcode == kRcodeNxDomain ? AnswerKind::kNxDomain : AnswerKind::kNoData;
  answer.ttl_s = NegativeTtl(reader, authority);
  return answer;
}

}  // namespace ringmta::dns
