// Errors are values: absl::Status everywhere, plus the two small macros that
// abseil 20220623 lacks, and the errno -> Status mapping used by all I/O.
// Not here: mapping a Status to an SMTP reply (mta/smtp owns that).
#ifndef RINGMTA_MTA_BASE_STATUS_H_
#define RINGMTA_MTA_BASE_STATUS_H_

#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace ringmta {

// Maps an errno value (positive) to a Status whose code says what the caller
// should do: EAGAIN/ENOBUFS/ENOSPC are retryable, EINVAL is a bug or bad input.
absl::Status ErrnoToStatus(int error, std::string_view context);

}  // namespace ringmta

#define RINGMTA_CONCAT_INNER_(a, b) a##b
#define RINGMTA_CONCAT_(a, b) RINGMTA_CONCAT_INNER_(a, b)

// Returns the Status from the enclosing function if `expr` is not OK.
#define RETURN_IF_ERROR(expr)                          \
  do {                                                 \
    ::absl::Status ringmta_status_ = (expr);           \
    if (!ringmta_status_.ok()) return ringmta_status_; \
  } while (0)

// `ASSIGN_OR_RETURN(auto x, F())` binds the value of a StatusOr or returns its error.
#define ASSIGN_OR_RETURN(lhs, expr) \
  RINGMTA_ASSIGN_OR_RETURN_IMPL_(RINGMTA_CONCAT_(ringmta_statusor_, __LINE__), lhs, expr)
#define RINGMTA_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                   \
  if (!tmp.ok()) return std::move(tmp).status();       \
  lhs = *std::move(tmp)

#endif  // RINGMTA_MTA_BASE_STATUS_H_
