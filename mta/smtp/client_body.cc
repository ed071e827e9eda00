// BDAT body normalisation: literal runs are appended whole; only CR and LF
// are looked at one by one.
#include "mta/smtp/client_body.h"

#include <algorithm>

namespace ringmta::smtp {

void BdatEncoder::Encode(std::string_view piece, std::string* out) {
  out->reserve(out->size() + piece.size() + 2);
  size_t at = 0;
  while (at < piece.size()) {
    if (pending_cr_) {
      pending_cr_ = false;
      out->append("\r\n");
      at_line_start_ = true;
      if (piece[at] == '\n') ++at;  // the CR was half of a CRLF
      continue;
    }
    const size_t special = std::min(piece.find_first_of("\r\n", at), piece.size());
    if (special > at) {
      out->append(piece.data() + at, special - at);
      at_line_start_ = false;
      at = special;
      continue;
    }
    if (piece[at] == '\r') {
      pending_cr_ = true;
    } else {
      out->append("\r\n");  // a bare LF
      at_line_start_ = true;
    }
    ++at;
  }
}

void BdatEncoder::Finish(std::string* out) {
  if (pending_cr_ || !at_line_start_) out->append("\r\n");
  pending_cr_ = false;
  at_line_start_ = true;
}

}  // namespace ringmta::smtp
