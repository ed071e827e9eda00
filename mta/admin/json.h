// Json: the small JSON value the admin protocol speaks (one request line,
// one response line). Parsing is bounded (input size, nesting depth) and
// strict (RFC 8259: no trailing commas, no comments, valid UTF-8 is not
// checked beyond escapes). Shared by the daemon's control server and by
// ringctl, which must not depend on the daemon. Not here: what requests mean.
#ifndef RINGMTA_MTA_ADMIN_JSON_H_
#define RINGMTA_MTA_ADMIN_JSON_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "mta/admin/admin_limits.h"

namespace ringmta::admin {

class Json {
 public:
  enum class Type { kNull, kBool, kNumber, kString, kArray, kObject };

  Json() = default;
  Json(bool value) : type_(Type::kBool), bool_(value) {}  // NOLINT: implicit by design
  Json(int value) : Json(static_cast<int64_t>(value)) {}  // NOLINT
  Json(int64_t value) : type_(Type::kNumber), number_(static_cast<double>(value)), integer_(value), is_integer_(true) {}  // NOLINT
  Json(uint64_t value) : Json(static_cast<int64_t>(value)) {}  // NOLINT
  Json(double value) : type_(Type::kNumber), number_(value) {}  // NOLINT
  Json(const char* value) : type_(Type::kString), string_(value) {}  // NOLINT
  Json(std::string value) : type_(Type::kString), string_(std::move(value)) {}  // NOLINT
  static Json Array() { Json json; json.type_ = Type::kArray; return json; }
  static Json Object() { Json json; json.type_ = Type::kObject; return json; }

  Type type() const { return type_; }
  bool is_null() const { return type_ == Type::kNull; }
  bool is_bool() const { return type_ == Type::kBool; }
  bool is_number() const { return type_ == Type::kNumber; }
  bool is_integer() const { return type_ == Type::kNumber && is_integer_; }
  bool is_string() const { return type_ == Type::kString; }
  bool is_array() const { return type_ == Type::kArray; }
  bool is_object() const { return type_ == Type::kObject; }

  bool as_bool() const { return bool_; }
  double as_double() const { return number_; }
  int64_t as_int() const { return is_integer_ ? integer_ : static_cast<int64_t>(number_); }
  const std::string& as_string() const { return string_; }
  const std::vector<Json>& items() const { return items_; }
  const std::vector<std::pair<std::string, Json>>& members() const { return members_; }

  // Arrays.
  Json& Push(Json value);
  // Objects: Set replaces an existing key; Find returns null if absent.
  Json& Set(std::string key, Json value);
  const Json* Find(std::string_view key) const;
  Json* Find(std::string_view key);

  // Compact, one line, keys in insertion order.
  std::string Serialize() const;

 private:
  void SerializeTo(std::string* out) const;

  Type type_ = Type::kNull;
  bool bool_ = false;
  double number_ = 0;
  int64_t integer_ = 0;
  bool is_integer_ = false;
  std::string string_;
  std::vector<Json> items_;
  std::vector<std::pair<std::string, Json>> members_;
};

// The whole of `text` must be one JSON value (surrounding blanks allowed).
absl::StatusOr<Json> ParseJson(std::string_view text);

}  // namespace ringmta::admin

#endif  // RINGMTA_MTA_ADMIN_JSON_H_
