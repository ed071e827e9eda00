#include "mta/base/check.h"

#include <cstdio>
#include <cstdlib>

namespace ringmta::internal {

void CheckFailed(const char* file, int line, const char* condition) {
  std::fprintf(stderr, "ringmta: CHECK failed at %s:%d: %s\n", file, line, condition);
  std::fflush(stderr);
  std::abort();
}

}  // namespace ringmta::internal
