#include "mta/admin/json.h"

#include <charconv>
#include <cmath>
#include <cstdio>

namespace ringmta::admin {

Json& Json::Push(Json value) {
  items_.push_back(std::move(value));
  return items_.back();
}

Json& Json::Set(std::string key, Json value) {
  for (auto& [name, existing] : members_) {
    if (name == key) {
      existing = std::move(value);
      return existing;
    }
  }
  members_.emplace_back(std::move(key), std::move(value));
  return members_.back().second;
}

const Json* Json::Find(std::string_view key) const {
  for (const auto& [name, value] : members_) {
    if (name == key) return &value;
  }
  return nullptr;
}

Json* Json::Find(std::string_view key) {
  for (auto& [name, value] : members_) {
    if (name == key) return &value;
  }
  return nullptr;
}

namespace {

void QuoteTo(std::string_view text, std::string* out) {
  out->push_back('"');
  for (unsigned char c : text) {
    if (c == '"') out->append("\\\"");
    else if (c == '\\') out->append("\\\\");
    else if (c == '\n') out->append("\\n");
    else if (c == '\r') out->append("\\r");
    else if (c == '\t') out->append("\\t");
    else if (c < 0x20 || c == 0x7f) {
      char escape[8];
      std::snprintf(escape, sizeof escape, "\\u%04x", c);
      out->append(escape);
    } else {
      out->push_back(static_cast<char>(c));
    }
  }
  out->push_back('"');
}

class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  absl::StatusOr<Json> ParseDocument() {
    absl::StatusOr<Json> value = ParseValue(0);
    if (!value.ok()) return value;
    SkipBlanks();
    if (pos_ != text_.size()) return Error("unexpected text after the value");
    return value;
  }

 private:
  absl::Status Error(const std::string& what) const {
    return absl::InvalidArgumentError("malformed JSON at byte " + std::to_string(pos_) + ": " +
                                      what);
  }
  void SkipBlanks() {
    while (pos_ < text_.size() &&
           (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == '\n' || text_[pos_] == '\r')) {
      ++pos_;
    }
  }
  bool Literal(std::string_view word) {
    if (text_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
  }

  absl::StatusOr<Json> ParseValue(int depth) {
    if (depth > kJsonDepthMax) return Error("nested too deeply");
    SkipBlanks();
    if (pos_ >= text_.size()) return Error("unexpected end");
    char c = text_[pos_];
    if (c == '{') return ParseObject(depth);
    if (c == '[') return ParseArray(depth);
    if (c == '"') {
      absl::StatusOr<std::string> text = ParseString();
      if (!text.ok()) return text.status();
      return Json(*std::move(text));
    }
    if (Literal("true")) return Json(true);
    if (Literal("false")) return Json(false);
    if (Literal("null")) return Json();
    if (c == '-' || (c >= '0' && c <= '9')) return ParseNumber();
    return Error("unexpected character");
  }

  absl::StatusOr<Json> ParseNumber() {
    size_t start = pos_;
    if (text_[pos_] == '-') ++pos_;
    bool fraction = false;
    while (pos_ < text_.size()) {
      char c = text_[pos_];
      if (c >= '0' && c <= '9') {
        ++pos_;
      } else if (c == '.' || c == 'e' || c == 'E' || c == '+' || (c == '-' && pos_ > start)) {
        fraction = true;
        ++pos_;
      } else {
        break;
      }
    }
    std::string_view digits = text_.substr(start, pos_ - start);
    if (!fraction) {
      int64_t value = 0;
      auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
      if (error == std::errc() && end == digits.data() + digits.size()) return Json(value);
    }
    double value = 0;
    auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (error != std::errc() || end != digits.data() + digits.size() || !std::isfinite(value)) {
      return Error("bad number");
    }
    return Json(value);
  }

  absl::StatusOr<std::string> ParseString() {
    ++pos_;  // the opening quote
    std::string out;
    while (pos_ < text_.size()) {
      unsigned char c = static_cast<unsigned char>(text_[pos_++]);
      if (c == '"') return out;
      if (c < 0x20) return Error("control character in a string");
      if (c != '\\') {
        out.push_back(static_cast<char>(c));
        continue;
      }
      if (pos_ >= text_.size()) break;
      char escape = text_[pos_++];
      if (escape == '"' || escape == '\\' || escape == '/') out.push_back(escape);
      else if (escape == 'n') out.push_back('\n');
      else if (escape == 'r') out.push_back('\r');
      else if (escape == 't') out.push_back('\t');
      else if (escape == 'b') out.push_back('\b');
      else if (escape == 'f') out.push_back('\f');
      else if (escape == 'u') {
        if (pos_ + 4 > text_.size()) return Error("short \\u escape");
        unsigned code = 0;
        auto [end, error] = std::from_chars(text_.data() + pos_, text_.data() + pos_ + 4, code, 16);
        if (error != std::errc() || end != text_.data() + pos_ + 4) return Error("bad \\u escape");
        pos_ += 4;
        // Basic multilingual plane as UTF-8; surrogate pairs are not needed
        // by the protocol and are refused rather than mangled.
        if (code >= 0xd800 && code <= 0xdfff) return Error("surrogate \\u escape");
        if (code < 0x80) {
          out.push_back(static_cast<char>(code));
        } else if (code < 0x800) {
          out.push_back(static_cast<char>(0xc0 | (code >> 6)));
          out.push_back(static_cast<char>(0x80 | (code & 0x3f)));
        } else {
          out.push_back(static_cast<char>(0xe0 | (code >> 12)));
          out.push_back(static_cast<char>(0x80 | ((code >> 6) & 0x3f)));
          out.push_back(static_cast<char>(0x80 | (code & 0x3f)));
        }
      } else {
        return Error("bad escape");
      }
    }
    return Error("unterminated string");
  }

  absl::StatusOr<Json> ParseArray(int depth) {
    ++pos_;
    Json array = Json::Array();
    SkipBlanks();
    if (pos_ < text_.size() && text_[pos_] == ']') {
      ++pos_;
      return array;
    }
    for (;;) {
      absl::StatusOr<Json> item = ParseValue(depth + 1);
      if (!item.ok()) return item;
      array.Push(*std::move(item));
      SkipBlanks();
      if (pos_ >= text_.size()) return Error("unterminated array");
      char c = text_[pos_++];
      if (c == ']') return array;
      if (c != ',') return Error("expected , or ]");
    }
  }

  absl::StatusOr<Json> ParseObject(int depth) {
    ++pos_;
    Json object = Json::Object();
    SkipBlanks();
    if (pos_ < text_.size() && text_[pos_] == '}') {
      ++pos_;
      return object;
    }
    for (;;) {
      SkipBlanks();
      if (pos_ >= text_.size() || text_[pos_] != '"') return Error("expected a key");
      absl::StatusOr<std::string> key = ParseString();
      if (!key.ok()) return key.status();
      if (object.Find(*key) != nullptr) return Error("duplicate key \"" + *key + "\"");
      SkipBlanks();
      if (pos_ >= text_.size() || text_[pos_] != ':') return Error("expected :");
      ++pos_;
      absl::StatusOr<Json> value = ParseValue(depth + 1);
      if (!value.ok()) return value;
      object.Set(*std::move(key), *std::move(value));
      SkipBlanks();
      if (pos_ >= text_.size()) return Error("unterminated object");
      char c = text_[pos_++];
      if (c == '}') return object;
      if (c != ',') return Error("expected , or }");
    }
  }

  std::string_view text_;
  size_t pos_ = 0;
};

}  // namespace

void Json::SerializeTo(std::string* out) const {
  if (type_ == Type::kNull) {
    out->append("null");
  } else if (type_ == Type::kBool) {
    out->append(bool_ ? "true" : "false");
  } else if (type_ == Type::kNumber) {
    char text[32];
    if (is_integer_) std::snprintf(text, sizeof text, "%lld", static_cast<long long>(integer_));
    else std::snprintf(text, sizeof text, "%.17g", number_);
    out->append(text);
  } else if (type_ == Type::kString) {
    QuoteTo(string_, out);
  } else if (type_ == Type::kArray) {
    out->push_back('[');
    for (size_t i = 0; i < items_.size(); ++i) {
      if (i > 0) out->push_back(',');
      items_[i].SerializeTo(out);
    }
    out->push_back(']');
  } else {
    out->push_back('{');
    for (size_t i = 0; i < members_.size(); ++i) {
      if (i > 0) out->push_back(',');
      QuoteTo(members_[i].first, out);
      out->push_back(':');
      members_[i].second.SerializeTo(out);
    }
    out->push_back('}');
  }
}

std::string Json::Serialize() const {
  std::string out;
  SerializeTo(&out);
  return out;
}

absl::StatusOr<Json> ParseJson(std::string_view text) { return Parser(text).ParseDocument(); }

}  // namespace ringmta::admin
