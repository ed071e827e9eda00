// The answer parser on hand-built messages (RFC 1035 §4.1): records, CNAME
// chains, negative TTLs (RFC 2308 §5), and hostile input that must fail
// cleanly; plus name normalisation.
#include "dns/message.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

namespace ringmta::dns {
namespace {

constexpr uint16_t kRcodeServfail = 2;
constexpr uint16_t kRcodeNxDomain = 3;

// Builds a response: header, one question, then the records added.
class MessageBuilder {
 public:
  MessageBuilder(std::string_view qname, uint16_t qtype, uint16_t rcode = 0) {
    U16(0x1234);
    U16(static_cast<uint16_t>(0x8180 | rcode));  // QR RD RA
    U16(1);
    for (int i = 0; i < 3; ++i) U16(0);
    Name(qname);
    U16(qtype);
    U16(1);
  }
  MessageBuilder& Answer(std::string_view owner, uint16_t type, uint32_t ttl,
                         const std::vector<uint8_t>& rdata) {
    return Record(6, owner, type, ttl, rdata);
  }
  MessageBuilder& Authority(std::string_view owner, uint16_t type, uint32_t ttl,
                            const std::vector<uint8_t>& rdata) {
    return Record(8, owner, type, ttl, rdata);
  }
  std::span<const uint8_t> bytes() const { return bytes_; }

  static std::vector<uint8_t> NameBytes(std::string_view name) {
    MessageBuilder empty;
    empty.Name(name);
    return empty.bytes_;
  }
  static std::vector<uint8_t> Mx(uint16_t preference, std::string_view exchange) {
    std::vector<uint8_t> rdata = {static_cast<uint8_t>(preference >> 8),
                                  static_cast<uint8_t>(preference)};
    std::vector<uint8_t> name = NameBytes(exchange);
    rdata.insert(rdata.end(), name.begin(), name.end());
    return rdata;
  }
  static std::vector<uint8_t> Soa(uint32_t minimum) {
    MessageBuilder soa;
    soa.Name("ns.example");
    soa.Name("hostmaster.example");
    for (uint32_t field : {1u, 3600u, 600u, 86400u, minimum}) soa.U32(field);
    return soa.bytes_;
  }

 private:
  MessageBuilder() = default;
  MessageBuilder& Record(size_t count_offset, std::string_view owner, uint16_t type, uint32_t ttl,
                         const std::vector<uint8_t>& rdata) {
    ++bytes_[count_offset + 1];
    Name(owner);
    U16(type);
    U16(1);
    U32(ttl);
    U16(static_cast<uint16_t>(rdata.size()));
    bytes_.insert(bytes_.end(), rdata.begin(), rdata.end());
    return *this;
  }
  void U16(uint16_t value) {
    bytes_.push_back(static_cast<uint8_t>(value >> 8));
    bytes_.push_back(static_cast<uint8_t>(value));
  }
  void U32(uint32_t value) {
    U16(static_cast<uint16_t>(value >> 16));
    U16(static_cast<uint16_t>(value));
  }
  void Name(std::string_view name) {
    while (!name.empty()) {
      size_t dot = name.find('.');
      std::string_view label = name.substr(0, dot);
      bytes_.push_back(static_cast<uint8_t>(label.size()));
      bytes_.insert(bytes_.end(), label.begin(), label.end());
      name = dot == name.npos ? std::string_view() : name.substr(dot + 1);
    }
    bytes_.push_back(0);
  }

  std::vector<uint8_t> bytes_;
};

TEST(MessageTest, MxRecordsWithTheSmallestTtl) {
  MessageBuilder message("example", kTypeMx);
  message.Answer("example", kTypeMx, 300, MessageBuilder::Mx(10, "MX1.Example"))
      .Answer("EXAMPLE", kTypeMx, 60, MessageBuilder::Mx(20, "mx2.example"))
      .Answer("other", kTypeMx, 1, MessageBuilder::Mx(5, "elsewhere.example"));
  auto answer = ParseAnswer(message.bytes(), "example", kTypeMx);
  ASSERT_TRUE(answer.ok()) << answer.status();
  EXPECT_EQ(answer->kind, AnswerKind::kRecords);
  EXPECT_EQ(answer->mx, (std::vector<MxRecord>{{10, "mx1.example"}, {20, "mx2.example"}}));
  EXPECT_EQ(answer->ttl_s, 60u);
}

TEST(MessageTest, NullMxHasAnEmptyExchange) {
  MessageBuilder message("example", kTypeMx);
  message.Answer("example", kTypeMx, 300, MessageBuilder::Mx(0, ""));
  auto answer = ParseAnswer(message.bytes(), "example", kTypeMx);
  ASSERT_TRUE(answer.ok()) << answer.status();
  EXPECT_EQ(answer->mx, (std::vector<MxRecord>{{0, ""}}));
}

TEST(MessageTest, AddressesOfBothFamilies) {
  MessageBuilder v4("host", kTypeA);
  v4.Answer("host", kTypeA, 300, {192, 0, 2, 1});
  auto a = ParseAnswer(v4.bytes(), "host", kTypeA);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->addresses[0].ToString(), "192.0.2.1");
  MessageBuilder v6("host", kTypeAaaa);
  v6.Answer("host", kTypeAaaa, 300, {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1});
  auto aaaa = ParseAnswer(v6.bytes(), "host", kTypeAaaa);
  ASSERT_TRUE(aaaa.ok()) << aaaa.status();
  EXPECT_EQ(aaaa->addresses[0].ToString(), "2001:db8::1");
}

TEST(MessageTest, CnameChainIsFollowedAndItsTtlCounts) {
  MessageBuilder message("alias", kTypeA);
  message.Answer("alias", kTypeCname, 30, MessageBuilder::NameBytes("middle"))
      .Answer("middle", kTypeCname, 300, MessageBuilder::NameBytes("host"))
      .Answer("host", kTypeA, 300, {192, 0, 2, 1});
  auto answer = ParseAnswer(message.bytes(), "alias", kTypeA);
  ASSERT_TRUE(answer.ok()) << answer.status();
  EXPECT_EQ(answer->addresses.size(), 1u);
  EXPECT_EQ(answer->ttl_s, 30u);
}

TEST(MessageTest, CnameLoopIsUnavailable) {
  MessageBuilder message("ping", kTypeA);
  message.Answer("ping", kTypeCname, 30, MessageBuilder::NameBytes("pong"))
      .Answer("pong", kTypeCname, 30, MessageBuilder::NameBytes("ping"));
  EXPECT_TRUE(absl::IsUnavailable(ParseAnswer(message.bytes(), "ping", kTypeA).status()));
}

TEST(MessageTest, NxDomainTakesItsTtlFromTheSoa) {
  MessageBuilder message("gone", kTypeMx, kRcodeNxDomain);
  message.Authority("example", kTypeSoa, 3600, MessageBuilder::Soa(120));
  auto answer = ParseAnswer(message.bytes(), "gone", kTypeMx);
  ASSERT_TRUE(answer.ok()) << answer.status();
  EXPECT_EQ(answer->kind, AnswerKind::kNxDomain);
  EXPECT_EQ(answer->ttl_s, 120u);  // min(SOA TTL, MINIMUM)
  MessageBuilder short_soa("gone", kTypeMx, kRcodeNxDomain);
  short_soa.Authority("example", kTypeSoa, 10, MessageBuilder::Soa(120));
  EXPECT_EQ(ParseAnswer(short_soa.bytes(), "gone", kTypeMx)->ttl_s, 10u);
}

TEST(MessageTest, NoDataWithoutSoaHasNoTtl) {
  MessageBuilder message("host", kTypeMx);
  message.Answer("host", kTypeA, 300, {192, 0, 2, 1});  // not what was asked
  auto answer = ParseAnswer(message.bytes(), "host", kTypeMx);
  ASSERT_TRUE(answer.ok()) << answer.status();
  EXPECT_EQ(answer->kind, AnswerKind::kNoData);
  EXPECT_FALSE(answer->ttl_s.has_value());
}

TEST(MessageTest, TtlWithTheTopBitSetIsZero) {
  MessageBuilder message("host", kTypeA);
  message.Answer("host", kTypeA, 0x80000010u, {192, 0, 2, 1});
  EXPECT_EQ(ParseAnswer(message.bytes(), "host", kTypeA)->ttl_s, 0u);
}

TEST(MessageTest, ServfailRcodeIsUnavailable) {
  MessageBuilder message("host", kTypeA, kRcodeServfail);
  EXPECT_TRUE(absl::IsUnavailable(ParseAnswer(message.bytes(), "host", kTypeA).status()));
}

TEST(MessageTest, WrongAddressLengthIsMalformed) {
  MessageBuilder message("host", kTypeA);
  message.Answer("host", kTypeA, 300, {192, 0, 2});
  EXPECT_TRUE(absl::IsUnavailable(ParseAnswer(message.bytes(), "host", kTypeA).status()));
}

TEST(MessageTest, EveryTruncationFailsCleanly) {
  MessageBuilder message("example", kTypeMx);
  message.Answer("example", kTypeMx, 300, MessageBuilder::Mx(10, "mx.example"))
      .Authority("example", kTypeSoa, 3600, MessageBuilder::Soa(60));
  std::span<const uint8_t> whole = message.bytes();
  ASSERT_TRUE(ParseAnswer(whole, "example", kTypeMx).ok());
  for (size_t size = 0; size < whole.size(); ++size) {
    EXPECT_FALSE(ParseAnswer(whole.first(size), "example", kTypeMx).ok()) << size;
  }
}

TEST(MessageTest, CompressionLoopIsMalformed) {
  MessageBuilder message("host", kTypeA);
  std::vector<uint8_t> bytes(message.bytes().begin(), message.bytes().end());
  bytes[7] = 1;  // one answer whose owner is a pointer to itself
  uint16_t here = static_cast<uint16_t>(bytes.size());
  bytes.push_back(static_cast<uint8_t>(0xC0 | here >> 8));
  bytes.push_back(static_cast<uint8_t>(here));
  bytes.insert(bytes.end(), {0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 1});
  EXPECT_TRUE(absl::IsUnavailable(ParseAnswer(bytes, "host", kTypeA).status()));
}

TEST(NormalizeNameTest, LowerCasesAndDropsTheTrailingDot) {
  EXPECT_EQ(*NormalizeName("Mail.Example.COM."), "mail.example.com");
  EXPECT_EQ(*NormalizeName("_srv-1.example"), "_srv-1.example");
}

TEST(NormalizeNameTest, RejectsWhatIsNoDomainName) {
  std::string long_label(64, 'a');
  std::string long_name;
  for (int i = 0; i < 64; ++i) long_name += "abc.";
  for (const std::string& bad : {std::string(""), std::string("."), std::string("a..b"),
                                 std::string(".a"), std::string("a b"), std::string("a\\.b"),
                                 std::string("caf\xc3\xa9.example"), long_label, long_name}) {
    EXPECT_TRUE(absl::IsInvalidArgument(NormalizeName(bad).status())) << bad;
  }
  EXPECT_TRUE(NormalizeName(std::string(63, 'a') + ".example").ok());
}

}  // namespace
}  // namespace ringmta::dns
