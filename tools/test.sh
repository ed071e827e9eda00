#!/usr/bin/env bash
# The test command: installs what is missing, builds, runs every test twice
# (optimised, then under AddressSanitizer + UndefinedBehaviorSanitizer),
# and ends with one line "N passed, N failed" counting test cases.
#   tools/test.sh                 everything
#   tools/test.sh //mta/io/...    a subset (both configurations)
set -uo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh || { echo "0 passed, 1 failed"; exit 1; }

TARGETS=("${@:-//...}")
# Outside the clone, so a fresh clone (CI) reuses earlier build outputs.
CACHE="--disk_cache=${RINGMTA_BAZEL_CACHE:-$HOME/.cache/ringmta-bazel}"
total_passed=0
total_failed=0
status=0

run_config() {
  local name=$1; shift
  local tests
  tests=$(bazel query "tests(set(${TARGETS[*]}))" 2>/dev/null | sort) || true
  if [[ -z $tests ]]; then
    echo "test.sh: no tests found for ${TARGETS[*]}" >&2
    total_failed=$((total_failed + 1)); status=1; return
  fi
  echo "=== $name: $(echo "$tests" | wc -l) test targets" >&2
  # Results are never served from the cache: a test command reports what
  # it ran. Build outputs still come from the disk cache.
  bazel test "$CACHE" --nocache_test_results "$@" -- $tests >&2 || status=1
  local testlogs
  testlogs=$(bazel info "$CACHE" "$@" bazel-testlogs 2>/dev/null)
  read -r passed failed < <(python3 tools/count_tests.py "$testlogs" $tests)
  echo "=== $name: $passed passed, $failed failed" >&2
  total_passed=$((total_passed + passed))
  total_failed=$((total_failed + failed))
}

# Real libFuzzer runs, short and bounded (tests/fuzz/run_fuzzers.sh builds
# each target with clang -fsanitize=fuzzer): one test case per target, which
# fails if the fuzzer finds a crash. RINGMTA_FUZZ_SECONDS=0 skips them.
run_fuzzers() {
  local seconds=${RINGMTA_FUZZ_SECONDS:-10}
  [[ $seconds -gt 0 ]] || return 0
  echo "=== fuzz: ${seconds}s per target" >&2
  local log
  log=$(mktemp)
  FUZZ_WORK_DIR=$(mktemp -d) tests/fuzz/run_fuzzers.sh "$seconds" >"$log" 2>&1 || status=1
  cat "$log" >&2
  local passed failed
  passed=$(grep -c ': .* executions, no crash$' "$log" || true)
  failed=$(grep -c ': FAILED' "$log" || true)
  if [[ $passed -eq 0 && $failed -eq 0 ]]; then failed=1; fi
  echo "=== fuzz: $passed passed, $failed failed" >&2
  total_passed=$((total_passed + passed))
  total_failed=$((total_failed + failed))
  rm -f "$log"
}

run_config optimised
run_config asan --config=asan
run_fuzzers

[[ $total_failed -gt 0 ]] && status=1
echo "$total_passed passed, $total_failed failed"
exit $status
