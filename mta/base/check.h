// Invariant checks on our own state. A failed CHECK is a crash, which beats a
// false "250 OK" (STYLE §5). Never use it on peer input: that gets a reply.
#ifndef RINGMTA_MTA_BASE_CHECK_H_
#define RINGMTA_MTA_BASE_CHECK_H_

namespace ringmta::internal {
[[noreturn]] void CheckFailed(const char* file, int line, const char* condition);
}  // namespace ringmta::internal

#define CHECK(condition)                                                   \
  do {                                                                     \
    if (__builtin_expect(!(condition), 0))                                 \
      ::ringmta::internal::CheckFailed(__FILE__, __LINE__, #condition);    \
  } while (0)

#ifdef NDEBUG
#define DCHECK(condition) \
  do {                    \
  } while (false && (condition))
#else
#define DCHECK(condition) CHECK(condition)
#endif

#endif  // RINGMTA_MTA_BASE_CHECK_H_
