// Tests for the DATA/BDAT decoder and the encoder, including every
// chunking of the same input and the SMTP-smuggling cases.
#include "mta/smtp/data_codec.h"

#include <algorithm>
#include <random>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

namespace ringmta::smtp {
namespace {

struct Decoded {
  std::string body;
  size_t consumed = 0;
  bool done = false;
  BodyDefect defect = BodyDefect::kNone;
};

// Decodes `wire` in chunks of `chunk` bytes, stopping at the end marker.
Decoded Decode(std::string_view wire, size_t chunk,
               BareLinePolicy policy = BareLinePolicy::kReject,
               DataDecoder::Framing framing = DataDecoder::Framing::kDotStuffed,
               size_t line_max = 1000) {
  DataDecoder decoder(framing, policy, line_max);
  Decoded out;
  auto sink = [&](std::string_view piece) { out.body.append(piece); };
  while (out.consumed < wire.size() && !decoder.done()) {
    const std::string_view piece = wire.substr(out.consumed, chunk);
    const size_t used = decoder.Decode(piece, sink);
    EXPECT_TRUE(used == piece.size() || decoder.done());
    out.consumed += used;
  }
  if (framing == DataDecoder::Framing::kRaw) decoder.Finish(sink);
  out.done = decoder.done();
  out.defect = decoder.defect();
  EXPECT_EQ(decoder.bytes_out(), out.body.size());
  return out;
}

// Every chunk size gives the same result as one big chunk.
void ExpectChunkingIndependent(std::string_view wire, BareLinePolicy policy,
                               DataDecoder::Framing framing = DataDecoder::Framing::kDotStuffed) {
  const Decoded whole = Decode(wire, wire.size() + 1, policy, framing);
  for (size_t chunk = 1; chunk <= wire.size(); ++chunk) {
    const Decoded split = Decode(wire, chunk, policy, framing);
    // A refused body is dropped from the defect on (earlier pieces may have
    // reached the sink, which is then aborted), so only accepted ones compare.
    if (whole.defect == BodyDefect::kNone) {
      EXPECT_EQ(split.body, whole.body) << "chunk " << chunk;
    }
    EXPECT_EQ(split.consumed, whole.consumed) << "chunk " << chunk;
    EXPECT_EQ(split.defect, whole.defect) << "chunk " << chunk;
  }
}

TEST(DataDecoder, EmptyMessage) {
  const Decoded d = Decode(".\r\nNOOP\r\n", 100);
  EXPECT_TRUE(d.done);
  EXPECT_EQ(d.body, "");
  EXPECT_EQ(d.consumed, 3u);
}

TEST(DataDecoder, UnstuffsAndStopsAtEndMarker) {
  const std::string wire = "Subject: x\r\n\r\n..leading dot\r\n.\r\nQUIT\r\n";
  const Decoded d = Decode(wire, 1000);
  EXPECT_TRUE(d.done);
  EXPECT_EQ(d.body, "Subject: x\r\n\r\n.leading dot\r\n");
  EXPECT_EQ(wire.substr(d.consumed), "QUIT\r\n");
  ExpectChunkingIndependent(wire, BareLinePolicy::kReject);
}

TEST(DataDecoder, DotNotAtLineStartIsLiteral) {
  const Decoded d = Decode("a.b\r\n x.\r\n.\r\n", 1000);
  EXPECT_EQ(d.body, "a.b\r\n x.\r\n");
}

// SMTP smuggling: none of these may end the message (RFC 5321 §4.1.1.4).
TEST(DataDecoder, OnlyCrlfDotCrlfEnds) {
  for (const std::string wire : {"a\n.\nMAIL FROM:<x@y>\r\n", "a\r.\rMAIL\r\n",
                                 "a\n.\r\nMAIL\r\n", "a\r\n.\nMAIL\r\n", "a\r.\r\nMAIL\r\n"}) {
    for (BareLinePolicy policy : {BareLinePolicy::kReject, BareLinePolicy::kNormalize}) {
      const Decoded d = Decode(wire, 1000, policy);
      EXPECT_FALSE(d.done) << wire;
      EXPECT_EQ(d.consumed, wire.size());
    }
  }
}

TEST(DataDecoder, BareLfRejectedAndNotPassedOn) {
  const Decoded d = Decode("good line\r\nbad\nline\r\nmore\r\n.\r\n", 1000);
  EXPECT_TRUE(d.done);
  EXPECT_EQ(d.defect, BodyDefect::kBareLf);
  EXPECT_EQ(d.body.find("bad"), std::string::npos);  // not even the refused line's start
  EXPECT_EQ(Decode("good line\r\nbad\nline\r\n.\r\n", 11).body, "good line\r\n");
}

TEST(DataDecoder, BareCrRejected) {
  EXPECT_EQ(Decode("a\rb\r\n.\r\n", 1000).defect, BodyDefect::kBareCr);
  EXPECT_EQ(Decode(".\rb\r\n.\r\n", 1000).defect, BodyDefect::kBareCr);
  ExpectChunkingIndependent("a\rb\r\n.\r\n", BareLinePolicy::kReject);
}

TEST(DataDecoder, NormalizeConvertsToCrlf) {
  const std::string wire = "a\nb\rc\r\n\n.\n..x\r\n.\r\n";
  const Decoded d = Decode(wire, 1000, BareLinePolicy::kNormalize);
  EXPECT_TRUE(d.done);
  EXPECT_EQ(d.defect, BodyDefect::kNone);
  // After a bare ending a "." is literal, neither stuffing nor end marker.
  EXPECT_EQ(d.body, "a\r\nb\r\nc\r\n\r\n.\r\n..x\r\n");
  ExpectChunkingIndependent(wire, BareLinePolicy::kNormalize);
}

TEST(DataDecoder, NulRejectedUnderEitherPolicy) {
  const std::string wire = std::string("a\0b\r\n.\r\n", 8);
  EXPECT_EQ(Decode(wire, 1000).defect, BodyDefect::kNul);
  EXPECT_EQ(Decode(wire, 1000, BareLinePolicy::kNormalize).defect, BodyDefect::kNul);
}

TEST(DataDecoder, LineLengthBound) {
  const std::string ok = std::string(998, 'x') + "\r\n.\r\n";
  EXPECT_EQ(Decode(ok, 1000).defect, BodyDefect::kNone);
  const std::string long_line = std::string(999, 'x') + "\r\n.\r\n";
  const Decoded d = Decode(long_line, 7);
  EXPECT_EQ(d.defect, BodyDefect::kLineTooLong);
  EXPECT_TRUE(d.done);
}

TEST(DataDecoder, CrSplitAcrossChunks) {
  ExpectChunkingIndependent("line one\r\nline two\r\n..\r\n.\r\n", BareLinePolicy::kReject);
  const Decoded d = Decode("ab\r\n.\r\n", 3);
  EXPECT_EQ(d.body, "ab\r\n");
}

TEST(DataDecoder, RawFramingKeepsDotsAndChecksEndings) {
  const std::string wire = ".\r\n..x\r\n";
  const Decoded d = Decode(wire, 1000, BareLinePolicy::kReject, DataDecoder::Framing::kRaw);
  EXPECT_EQ(d.body, wire);
  EXPECT_EQ(d.consumed, wire.size());
  EXPECT_EQ(Decode("a\nb", 1000, BareLinePolicy::kReject, DataDecoder::Framing::kRaw).defect,
            BodyDefect::kBareLf);
  EXPECT_EQ(Decode("ab\r", 1000, BareLinePolicy::kReject, DataDecoder::Framing::kRaw).defect,
            BodyDefect::kBareCr);  // trailing CR at Finish
  ExpectChunkingIndependent("x\r\ny\nz\r", BareLinePolicy::kNormalize,
                            DataDecoder::Framing::kRaw);
}

TEST(DataEncoder, StuffsAndTerminates) {
  DataEncoder encoder;
  std::string out;
  encoder.Encode(".a\r\nb\n.\r", &out);
  encoder.Encode("\nc", &out);
  encoder.Finish(&out);
  EXPECT_EQ(out, "..a\r\nb\r\n..\r\nc\r\n.\r\n");
}

TEST(DataEncoder, EmptyBody) {
  DataEncoder encoder;
  std::string out;
  encoder.Finish(&out);
  EXPECT_EQ(out, ".\r\n");
}

// The DATA rule byte by byte (line endings made CRLF, a dot at a line start
// doubled, ".\r\n" after a terminated last line), to check the
// run-copying encoder against.
std::string ReferenceData(std::string_view body) {
  std::string out;
  bool line_start = true;
  for (size_t i = 0; i < body.size(); ++i) {
    if (body[i] == '\r' || body[i] == '\n') {
      if (body[i] == '\r' && i + 1 < body.size() && body[i + 1] == '\n') ++i;
      out += "\r\n";
      line_start = true;
      continue;
    }
    if (line_start && body[i] == '.') out += '.';
    out += body[i];
    line_start = false;
  }
  if (!line_start) out += "\r\n";
  return out + ".\r\n";
}

TEST(DataEncoder, MatchesTheByteRuleOnRandomBodiesAndSplits) {
  std::mt19937 random(1128);
  const char alphabet[] = {'a', '.', '.', '\r', '\n', 'b'};
  for (int round = 0; round < 3000; ++round) {
    std::string body;
    size_t length = random() % 120;
    for (size_t i = 0; i < length; ++i) {
      unsigned pick = random() % 16;
      if (pick < 3) body += pick == 0 ? "\r\n." : "\r\n";
      else body += alphabet[pick % sizeof alphabet];
    }
    DataEncoder encoder;
    std::string out;
    std::string_view rest = body;
    while (!rest.empty()) {
      size_t take = std::min<size_t>(rest.size(), random() % 7);
      encoder.Encode(rest.substr(0, take), &out);
      rest.remove_prefix(take);
    }
    encoder.Finish(&out);
    ASSERT_EQ(out, ReferenceData(body)) << "round " << round;
  }
}

TEST(DataCodec, RoundTrip) {
  const std::string body = "From: a\r\n\r\n.\r\n..\r\nx.y\r\n.end\r\n";
  DataEncoder encoder;
  std::string wire;
  encoder.Encode(body, &wire);
  encoder.Finish(&wire);
  const Decoded d = Decode(wire, 5);
  EXPECT_TRUE(d.done);
  EXPECT_EQ(d.body, body);
  EXPECT_EQ(d.consumed, wire.size());
}

}  // namespace
}  // namespace ringmta::smtp
