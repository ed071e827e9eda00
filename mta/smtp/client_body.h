// The message body in BDAT chunks (RFC 3030 §2): unlike DATA there is no
// dot-stuffing, but every line ending still goes out as CRLF. Not here: DATA
// (DataEncoder in data_codec.h stuffs and terminates) or chunk framing.
#ifndef RINGMTA_MTA_SMTP_CLIENT_BODY_H_
#define RINGMTA_MTA_SMTP_CLIENT_BODY_H_

#include <string>
#include <string_view>

namespace ringmta::smtp {

// Streaming line-ending normaliser: a bare CR or bare LF becomes CRLF (the
// queue stores CRLF bodies, so in practice this copies). A CR ending one
// piece is held back until the next shows whether an LF follows, so a chunk
// never ends in a CR that the next chunk would turn into a CRLF pair.
class BdatEncoder {
 public:
  void Encode(std::string_view piece, std::string* out);
  // Ends the body as DATA would: a non-empty body whose last line lacks its
  // CRLF gets one, so both paths deliver the same bytes.
  void Finish(std::string* out);

 private:
  bool pending_cr_ = false;
  bool at_line_start_ = true;
};

}  // namespace ringmta::smtp

#endif  // RINGMTA_MTA_SMTP_CLIENT_BODY_H_
