// JsonLine: builds one JSON object on one line, field by field, escaping
// every string so that anything a peer sent (invalid UTF-8, control bytes,
// quotes, line breaks) yields valid JSON and cannot forge a second line.
// Invalid UTF-8 becomes U+FFFD; control characters and DEL become \u00XX.
// Not here: pretty printing, parsing, nesting beyond flat objects.
#ifndef RINGMTA_MTA_ADMIN_JSON_WRITER_H_
#define RINGMTA_MTA_ADMIN_JSON_WRITER_H_

#include <cstdint>
#include <string>
#include <string_view>

namespace ringmta::admin {

// Appends `text` as a JSON string (with the quotes), cut after at most
// `bytes_max` input bytes (a cut never splits a UTF-8 sequence).
void AppendJsonString(std::string_view text, size_t bytes_max, std::string* out);

class JsonLine {
 public:
  JsonLine() { text_.push_back('{'); }

  // Peer text is cut at `bytes_max` input bytes.
  JsonLine& String(std::string_view name, std::string_view value, size_t bytes_max = 1024);
  JsonLine& Int(std::string_view name, int64_t value);
  JsonLine& Uint(std::string_view name, uint64_t value);
  JsonLine& Bool(std::string_view name, bool value);
  JsonLine& Null(std::string_view name);

  // The object and a newline; the builder is spent afterwards.
  std::string Finish();

 private:
  void Name(std::string_view name);

  std::string text_;
  bool first_ = true;
};

}  // namespace ringmta::admin

#endif  // RINGMTA_MTA_ADMIN_JSON_WRITER_H_
