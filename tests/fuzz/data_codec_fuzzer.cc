// libFuzzer target: the DATA/BDAT decoder. The first byte picks framing,
// policy and a chunk size; the result must not depend on chunking, an
// accepted body must be CRLF-only without NUL, and encoding it then decoding
// it again must give it back.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "mta/base/check.h"
#include "mta/smtp/data_codec.h"

using namespace ringmta::smtp;

namespace {

struct Outcome {
  std::string body;
  size_t consumed = 0;
  bool done = false;
  BodyDefect defect = BodyDefect::kNone;
};

Outcome Decode(std::string_view wire, size_t chunk, DataDecoder::Framing framing,
               BareLinePolicy policy) {
  DataDecoder decoder(framing, policy, 80);
  Outcome out;
  auto sink = [&](std::string_view piece) { out.body.append(piece); };
  while (out.consumed < wire.size() && !decoder.done()) {
    const std::string_view piece = wire.substr(out.consumed, chunk);
    const size_t used = decoder.Decode(piece, sink);
    CHECK(used == piece.size() || decoder.done());
    CHECK(used > 0);
    out.consumed += used;
  }
  if (framing == DataDecoder::Framing::kRaw) decoder.Finish(sink);
  out.done = decoder.done();
  out.defect = decoder.defect();
  CHECK(decoder.bytes_out() == out.body.size());
  return out;
}

void CheckCrlfOnly(std::string_view body) {
  for (size_t i = 0; i < body.size(); ++i) {
    CHECK(body[i] != '\0');
    if (body[i] == '\r') CHECK(i + 1 < body.size() && body[i + 1] == '\n');
    if (body[i] == '\n') CHECK(i > 0 && body[i - 1] == '\r');
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t mode = data[0];
  const std::string_view wire(reinterpret_cast<const char*>(data + 1), size - 1);
  const auto framing = (mode & 1) ? DataDecoder::Framing::kRaw : DataDecoder::Framing::kDotStuffed;
  const auto policy = (mode & 2) ? BareLinePolicy::kNormalize : BareLinePolicy::kReject;
  const size_t chunk = 1 + (mode >> 2);

  const Outcome whole = Decode(wire, wire.size() + 1, framing, policy);
  const Outcome split = Decode(wire, chunk, framing, policy);
  CHECK(whole.consumed == split.consumed && whole.done == split.done);
  CHECK(whole.defect == split.defect);
  if (whole.defect != BodyDefect::kNone) return 0;
  CHECK(whole.body == split.body);
  if (framing == DataDecoder::Framing::kRaw && !wire.empty()) {
    const char last = wire.back();
    if (last != '\r' && last != '\n') return 0;  // a raw body may end mid-line
  }
  if (framing == DataDecoder::Framing::kDotStuffed && !whole.done) return 0;
  CheckCrlfOnly(whole.body);

  // Round trip through the encoder the outbound client uses.
  DataEncoder encoder;
  std::string encoded;
  encoder.Encode(whole.body, &encoded);
  encoder.Finish(&encoded);
  const Outcome again = Decode(encoded, chunk, DataDecoder::Framing::kDotStuffed, policy);
  CHECK(again.done && again.consumed == encoded.size());
  CHECK(again.defect == BodyDefect::kNone);
  CHECK(again.body == whole.body);
  return 0;
}
