#!/bin/sh
# Builds the SMTP libFuzzer targets with clang (outside Bazel: libFuzzer needs
# -fsanitize=fuzzer on every object) and runs each for SECONDS (default 60),
# printing the executions reached. Crashes are left as crash-* files in the
# work directory; turn each into a unit test before fixing it.
# Usage: tests/fuzz/run_fuzzers.sh [SECONDS] [TARGET...]
set -eu

seconds="${1:-60}"
[ $# -gt 0 ] && shift
targets="${*:-command_fuzzer address_fuzzer data_codec_fuzzer server_protocol_fuzzer client_protocol_fuzzer queue_log_reader_fuzzer queue_records_fuzzer queue_recovery_fuzzer}"
root="$(cd "$(dirname "$0")/../.." && pwd)"
work="${FUZZ_WORK_DIR:-${TMPDIR:-/tmp}/ringmta-fuzz}"
cxx="${CXX_FUZZ:-clang++-14}"
mkdir -p "$work"

# The abseil libraries our code links against (see third_party/BUILD.bazel).
absl_libs="-labsl_status -labsl_statusor -labsl_cord -labsl_cord_internal
  -labsl_cordz_functions -labsl_cordz_handle -labsl_cordz_info
  -labsl_str_format_internal -labsl_strings -labsl_strings_internal
  -labsl_int128 -labsl_throw_delegate -labsl_base -labsl_spinlock_wait
  -labsl_raw_logging_internal -labsl_log_severity -labsl_bad_optional_access
  -labsl_stacktrace -labsl_symbolize -labsl_debugging_internal
  -labsl_demangle_internal -labsl_malloc_internal -labsl_synchronization
  -labsl_graphcycles_internal -labsl_time -labsl_time_zone -labsl_strerror
  -labsl_hash -labsl_city -labsl_low_level_hash -labsl_raw_hash_set
  -labsl_hashtablez_sampler -labsl_exponential_biased"

base_sources="$(ls "$root"/mta/base/*.cc | grep -Ev '_(test|benchmark)\.cc$')"
smtp_sources="$(ls "$root"/mta/smtp/*.cc | grep -Ev '_(test|benchmark)\.cc$')"
queue_sources="$root/queue/crc32c.cc $root/queue/log_reader.cc $root/queue/records.cc
  $root/queue/records_decode.cc $root/queue/index.cc $root/queue/recovery.cc
  $root/queue/segment_scan.cc $root/queue/log_writer.cc"

for target in $targets; do
  case "$target" in
    queue_*) sources="$queue_sources $base_sources" ;;
    *) sources="$smtp_sources $base_sources" ;;
  esac
  echo "== $target: building"
  # shellcheck disable=SC2086
  "$cxx" -std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined \
    -fno-sanitize-recover=undefined -I"$root" \
    "$root/tests/fuzz/$target.cc" $sources $absl_libs -lpthread -o "$work/$target" ||
    { echo "== $target: FAILED to build"; exit 1; }
  corpus="$work/corpus-$target"
  mkdir -p "$corpus"
  echo "== $target: running ${seconds}s"
  (cd "$work" && "./$target" -max_total_time="$seconds" -max_len=4096 \
    -dict="$root/tests/fuzz/smtp.dict" -print_final_stats=1 "$corpus" \
    >"$work/$target.log" 2>&1) || { echo "== $target: FAILED, see $work/$target.log"; \
    tail -40 "$work/$target.log"; exit 1; }
  runs="$(grep -Eo 'Done [0-9]+ runs' "$work/$target.log" | grep -Eo '[0-9]+' || echo '?')"
  echo "== $target: $runs executions, no crash"
done
