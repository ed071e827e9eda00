#include "mta/admin/json_writer.h"

#include <cstdio>

namespace ringmta::admin {
namespace {

// Length of the well-formed UTF-8 sequence at text[0], or 0 if it is not one
// (RFC 3629 §4: no overlongs, no surrogates, nothing above U+10FFFF).
size_t Utf8SequenceBytes(std::string_view text) {
  auto byte = [&](size_t i) { return static_cast<unsigned char>(text[i]); };
  unsigned char lead = byte(0);
  if (lead < 0x80) return 1;
  size_t length = 0;
  unsigned char low = 0x80, high = 0xBF;  // allowed range of the second byte
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) low = 0xA0;   // overlong
    if (lead == 0xED) high = 0x9F;  // surrogates
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) low = 0x90;   // overlong
    if (lead == 0xF4) high = 0x8F;  // above U+10FFFF
  } else {
    return 0;
  }
  if (text.size() < length) return 0;
  if (byte(1) < low || byte(1) > high) return 0;
  for (size_t i = 2; i < length; ++i) {
    if (byte(i) < 0x80 || byte(i) > 0xBF) return 0;
  }
  return length;
}

}  // namespace

void AppendJsonString(std::string_view text, size_t bytes_max, std::string* out) {
  out->push_back('"');
  size_t i = 0;
  while (i < text.size()) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    size_t sequence = Utf8SequenceBytes(text.substr(i));
    size_t step = sequence == 0 ? 1 : sequence;
    if (i + step > bytes_max) break;
    if (sequence == 0) {
      out->append("\\ufffd");
    } else if (sequence > 1) {
      out->append(text.substr(i, sequence));
    } else if (c == '"') {
      out->append("\\\"");
    } else if (c == '\\') {
      out->append("\\\\");
    } else if (c == '\n') {
      out->append("\\n");
    } else if (c == '\r') {
      out->append("\\r");
    } else if (c == '\t') {
      out->append("\\t");
    } else if (c < 0x20 || c == 0x7F) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\u%04x", c);
      out->append(escaped);
    } else {
      out->push_back(static_cast<char>(c));
    }
    i += step;
  }
  out->push_back('"');
}

void JsonLine::Name(std::string_view name) {
  if (!first_) text_.push_back(',');
  first_ = false;
  AppendJsonString(name, name.size(), &text_);
  text_.push_back(':');
}

JsonLine& JsonLine::String(std::string_view name, std::string_view value, size_t bytes_max) {
  Name(name);
  AppendJsonString(value, bytes_max, &text_);
  return *this;
}

JsonLine& JsonLine::Int(std::string_view name, int64_t value) {
  Name(name);
  text_.append(std::to_string(value));
  return *this;
}

JsonLine& JsonLine::Uint(std::string_view name, uint64_t value) {
  Name(name);
  text_.append(std::to_string(value));
  return *this;
}

JsonLine& JsonLine::Bool(std::string_view name, bool value) {
  Name(name);
  text_.append(value ? "true" : "false");
  return *this;
}

JsonLine& JsonLine::Null(std::string_view name) {
  Name(name);
  text_.append("null");
  return *this;
}

std::string JsonLine::Finish() {
  text_.append("}\n");
  return std::move(text_);
}

}  // namespace ringmta::admin
