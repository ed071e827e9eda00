// Tests for the relay policy: network parsing (every error kind), matching
// for IPv4, IPv6 and IPv4-mapped clients, and the relay/AUTH decision.
#include "mta/server/relay_policy.h"

#include <gtest/gtest.h>

namespace ringmta::server {
namespace {

Network MustParse(std::string_view text) {
  absl::StatusOr<Network> network = Network::Parse(text);
  EXPECT_TRUE(network.ok()) << network.status();
  return network.ok() ? *network : Network{};
}

bool Contains(std::string_view network, std::string_view address) {
  std::optional<IpAddress> parsed = IpAddress::Parse(address);
  EXPECT_TRUE(parsed.has_value()) << address;
  return parsed && MustParse(network).Contains(*parsed);
}

TEST(NetworkTest, Ipv4PrefixMatching) {
  EXPECT_TRUE(Contains("127.0.0.0/8", "127.1.2.3"));
  EXPECT_FALSE(Contains("127.0.0.0/8", "128.0.0.1"));
  EXPECT_TRUE(Contains("192.0.2.128/25", "192.0.2.200"));
  EXPECT_FALSE(Contains("192.0.2.128/25", "192.0.2.127"));
  EXPECT_TRUE(Contains("192.0.2.7", "192.0.2.7"));  // a bare address is a /32
  EXPECT_FALSE(Contains("192.0.2.7", "192.0.2.8"));
  EXPECT_TRUE(Contains("0.0.0.0/0", "203.0.113.9"));
}

TEST(NetworkTest, Ipv6PrefixMatching) {
  EXPECT_TRUE(Contains("::1/128", "::1"));
  EXPECT_FALSE(Contains("::1/128", "::2"));
  EXPECT_TRUE(Contains("2001:db8::/32", "2001:db8:ffff::1"));
  EXPECT_FALSE(Contains("2001:db8::/32", "2001:db9::1"));
  EXPECT_TRUE(Contains("2001:db8:8000::/33", "2001:db8:8001::1"));
  EXPECT_FALSE(Contains("2001:db8:8000::/33", "2001:db8:7fff::1"));
}

TEST(NetworkTest, FamiliesNeverMatchEachOther) {
  EXPECT_FALSE(Contains("::/0", "127.0.0.1"));
  EXPECT_FALSE(Contains("0.0.0.0/0", "::1"));
}

TEST(NetworkTest, MappedIpv4ClientsMatchIpv4Networks) {
  EXPECT_TRUE(Contains("127.0.0.0/8", "::ffff:127.0.0.1"));
  EXPECT_FALSE(Contains("10.0.0.0/8", "::ffff:127.0.0.1"));
}

TEST(NetworkTest, CoversEverythingOnlyAtPrefixZero) {
  EXPECT_TRUE(MustParse("0.0.0.0/0").CoversEverything());
  EXPECT_TRUE(MustParse("::/0").CoversEverything());
  EXPECT_FALSE(MustParse("0.0.0.0/1").CoversEverything());
}

void ExpectError(std::string_view text, const char* words) {
  absl::StatusOr<Network> network = Network::Parse(text);
  ASSERT_FALSE(network.ok()) << text;
  EXPECT_EQ(network.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(network.status().message().find(words), std::string::npos) << network.status();
}

TEST(NetworkTest, NotAnAddressIsAnError) {
  ExpectError("localhost/8", "is not an IPv4 or IPv6 network");
  ExpectError("", "is not an IPv4 or IPv6 network");
  ExpectError("300.0.0.0/8", "is not an IPv4 or IPv6 network");
}

TEST(NetworkTest, BadPrefixLengthIsAnError) {
  ExpectError("10.0.0.0/33", "prefix length must be 0 to 32");
  ExpectError("2001:db8::/129", "prefix length must be 0 to 128");
  ExpectError("10.0.0.0/", "prefix length");
  ExpectError("10.0.0.0/8x", "prefix length");
  ExpectError("10.0.0.0/-1", "prefix length");
}

TEST(NetworkTest, HostBitsSetIsAnError) {
  ExpectError("10.1.2.3/8", "host bits set");
  ExpectError("2001:db8::1/64", "host bits set");
}

TEST(NetworkTest, MappedSpellingOfIpv4NetworkIsAnError) {
  ExpectError("::ffff:10.0.0.0/104", "dotted form");
}

TEST(NetworkTest, ParseNetworksStopsAtTheFirstBadEntry) {
  auto networks = ParseNetworks({"127.0.0.0/8", "::1/128"});
  ASSERT_TRUE(networks.ok());
  EXPECT_EQ(networks->size(), 2u);
  auto bad = ParseNetworks({"127.0.0.0/8", "nonsense"});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("\"nonsense\""), std::string::npos);
}

smtp::Recipient Recipient(std::string mailbox) {
  smtp::Recipient recipient;
  recipient.mailbox = std::move(mailbox);
  return recipient;
}

smtp::Envelope EnvelopeFrom(std::string client, std::string auth_user = "") {
  smtp::Envelope envelope;
  envelope.client_address = std::move(client);
  envelope.auth_user = std::move(auth_user);
  return envelope;
}

TEST(RelayPolicyTest, RelayNetworksMayRelay) {
  RelayPolicy policy(*ParseNetworks({"127.0.0.0/8", "::1/128"}));
  smtp::Recipient recipient = Recipient("b@example.org");
  EXPECT_TRUE(policy.CheckRecipient(EnvelopeFrom("127.0.0.1"), recipient).ok());
  EXPECT_TRUE(policy.CheckRecipient(EnvelopeFrom("::1"), recipient).ok());
}

TEST(RelayPolicyTest, OthersAreDeniedWithPermissionDenied) {
  RelayPolicy policy(*ParseNetworks({"10.0.0.0/8"}));
  absl::Status verdict =
      policy.CheckRecipient(EnvelopeFrom("127.0.0.1"), Recipient("b@example.org"));
  EXPECT_EQ(verdict.code(), absl::StatusCode::kPermissionDenied);
}

TEST(RelayPolicyTest, AuthenticatedClientsMayRelayFromAnywhere) {
  RelayPolicy policy(*ParseNetworks({"10.0.0.0/8"}));
  EXPECT_TRUE(
      policy.CheckRecipient(EnvelopeFrom("203.0.113.5", "alice"), Recipient("b@x.org")).ok());
}

TEST(RelayPolicyTest, UnparsableClientAddressIsNotTrusted) {
  RelayPolicy policy(*ParseNetworks({"0.0.0.0/0", "::/0"}));
  EXPECT_FALSE(policy.InRelayNetworks("unknown"));
  EXPECT_FALSE(policy.InRelayNetworks(""));
  EXPECT_TRUE(policy.InRelayNetworks("198.51.100.1"));
}

TEST(RelayPolicyTest, NoNetworksMeansAuthOnly) {
  RelayPolicy policy({});
  EXPECT_FALSE(policy.CheckRecipient(EnvelopeFrom("127.0.0.1"), Recipient("b@x.org")).ok());
}

}  // namespace
}  // namespace ringmta::server
