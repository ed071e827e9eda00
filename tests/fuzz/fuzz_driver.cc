// A main() for the libFuzzer targets so that Bazel's test suite runs a short,
// deterministic slice of each (issue 3: "a short bounded run inside the test
// suite"): fixed seeds plus seeded pseudo-random mutations, no libFuzzer.
// Files named on the command line are replayed instead (crash reproduction).
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <string_view>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

constexpr int kIterations = 20000;

const std::string_view kTokens[] = {
    "\r\n", "\r\n.\r\n", "\n", "\r", ".", "<", ">", "@", "\"", "\\", "[", "]", ":", "=", " ",
    "EHLO x\r\n", "HELO x\r\n", "MAIL FROM:<a@b.example>", "RCPT TO:<c@d.example>", "DATA\r\n",
    "BDAT 5", " LAST", "BDAT 0 LAST\r\n", "RSET\r\n", "QUIT\r\n", "STARTTLS\r\n", "AUTH PLAIN\r\n",
    " SIZE=100", " BODY=8BITMIME", " SMTPUTF8", " RET=FULL", " ENVID=x+2B", " NOTIFY=NEVER",
    " ORCPT=rfc822;a@b", "<>", "[IPv6:::1]", "[127.0.0.1]", "@r.example:", "\xc3\xa9", "\xff",
    std::string_view("\0", 1),
};

const char* const kSeeds[] = {
    "\x10\x41\x00EHLO c\r\nMAIL FROM:<a@x.example> SIZE=10\r\nRCPT TO:<b@y.example>\r\n"
    "DATA\r\nSubject: x\r\n\r\n..body\r\n.\r\nQUIT\r\n",
    "\x05\xc2\x03EHLO c\r\nMAIL FROM:<> SMTPUTF8\r\nRCPT TO:<\xc3\xa9@y.example> NOTIFY=NEVER\r\n"
    "BDAT 4\r\nab\r\nBDAT 0 LAST\r\nSTARTTLS\r\nEHLO d\r\n",
    "\x00<\"quoted local\"@[IPv6:2001:db8::1]>",
    "\x01<@r1.example,@r2.example:user@final.example>",
    "\x02line\nbare\r.\r\n.\r\n",
    "\x03MAIL FROM:<a@b> RET=HDRS ENVID=abc ORCPT=rfc822;x@y",
};

void Mutate(std::string& input, std::mt19937& rng) {
  const int ops = 1 + static_cast<int>(rng() % 4);
  for (int i = 0; i < ops; ++i) {
    const size_t at = input.empty() ? 0 : rng() % (input.size() + 1);
    switch (rng() % 4) {
      case 0:
        if (!input.empty()) input[at % input.size()] ^= static_cast<char>(1u << (rng() % 8));
        break;
      case 1:
      {
        const std::string_view token = kTokens[rng() % std::size(kTokens)];
        input.insert(at, token.data(), token.size());
      }
        break;
      case 2:
        if (!input.empty()) input.erase(at % input.size(), rng() % 8);
        break;
      case 3:
        if (!input.empty()) {
          const size_t from = rng() % input.size();
          input.insert(at, input.substr(from, rng() % 32));
        }
        break;
    }
  }
}

int Replay(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::ifstream file(argv[i], std::ios::binary);
    const std::string data((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
    std::printf("replaying %s (%zu bytes)\n", argv[i], data.size());
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(data.data()), data.size());
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1) return Replay(argc, argv);
  std::mt19937 rng(20260101);
  std::vector<std::string> pool(std::begin(kSeeds), std::end(kSeeds));
  for (int i = 0; i < kIterations; ++i) {
    std::string input = pool[rng() % pool.size()];
    Mutate(input, rng);
    if (input.size() > 4096) input.resize(4096);
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(input.data()), input.size());
    if (pool.size() < 256 && rng() % 16 == 0) pool.push_back(input);
  }
  std::printf("%d inputs run\n", kIterations);
  return 0;
}
