// Watches the start of a message body as it streams and reports, once the
// header section ends (RFC 5322 §2.1), whether it held Message-ID: and
// Date: fields: what an MSA adds when missing (RFC 6409 §8.2, §8.3). Pure
// and bounded (a few bytes of state). Not here: buffering or adding the
// headers (mta/server/msa_sink.h), or parsing field bodies.
#ifndef RINGMTA_MTA_SMTP_HEADER_SCANNER_H_
#define RINGMTA_MTA_SMTP_HEADER_SCANNER_H_

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace ringmta::smtp {

class HeaderScanner {
 public:
  // How the header section ended.
  enum class End {
    kNotYet,
    kBlankLine,      // the empty line separating headers from body
    kNonHeaderLine,  // a line that is no header field: no separator was sent
    kEndOfBody,      // the message ended inside its header section
  };

  // Scans `piece` until the header section ends and returns how many of its
  // bytes belong to the header section; once done(), returns 0.
  size_t Feed(std::string_view piece);
  // The body is complete; ends the section if it had not ended.
  void Finish();

  bool done() const { return end_ != End::kNotYet; }
  End end() const { return end_; }
  // Bytes of header fields before the end: the blank line, the non-header
  // line, or the end of body starts at this offset of the body.
  uint64_t header_bytes() const { return header_bytes_; }
  bool has_message_id() const { return has_message_id_; }
  bool has_date() const { return has_date_; }

 private:
  enum class State { kLineStart, kName, kNameSpace, kBlankCr, kRestOfLine };

  void Step(char c);
  void EndSection(End end);
  void NameComplete();

  State state_ = State::kLineStart;
  End end_ = End::kNotYet;
  uint64_t offset_ = 0;      // bytes fed so far
  uint64_t line_start_ = 0;  // offset where the current line began
  uint64_t header_bytes_ = 0;
  bool seen_field_ = false;  // a continuation line needs a field before it
  // The field name so far, kept only up to the longest name we look for.
  char name_[11] = {};
  size_t name_bytes_ = 0;
  bool has_message_id_ = false;
  bool has_date_ = false;
};

}  // namespace ringmta::smtp

#endif  // RINGMTA_MTA_SMTP_HEADER_SCANNER_H_
