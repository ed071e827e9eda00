#!/usr/bin/env bash
# bench/e2e/run.sh: the one command for the end-to-end benchmark.
#   bench/e2e/run.sh                  quick matrix, ringmta alone
#   bench/e2e/run.sh --vs postfix     the same loads through Postfix too, with ratios
#   bench/e2e/run.sh --full --repeat 3 --vs postfix --json-out runs.jsonl
#   bench/e2e/run.sh --tls --vs postfix       STARTTLS on both hops (fails if any hop was clear)
#   bench/e2e/run.sh --handshakes 3000 --vs postfix   inbound TLS handshakes, ringmta 1 shard
# Builds ringmta, tools/loadgen and tools/sink (-c opt) unless --no-build,
# copies them aside (a rebuild during the run cannot swap them), then runs
# e2e.py in a private network namespace when root (loopback only: no port
# clashes with anything else on the machine). Other flags: e2e.py --help.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=$(mktemp -d /tmp/ringmta-e2e-bin.XXXXXX)
trap 'rm -rf "$BIN"' EXIT
chmod 755 "$BIN"

build=1
args=()
for argument in "$@"; do
  if [[ $argument == --no-build ]]; then build=0; else args+=("$argument"); fi
done
if [[ " ${args[*]-} " == *" --help "* || " ${args[*]-} " == *" -h "* ]]; then
  exec /usr/bin/python3 "$ROOT/bench/e2e/e2e.py" --bin-dir "$BIN" --help
fi

cd "$ROOT"
if (( build )); then
  bazel build --disk_cache="${RINGMTA_BAZEL_CACHE:-$HOME/.cache/ringmta-bazel}" -c opt \
    //mta/daemon:ringmta //tools/loadgen //tools/sink >&2
fi
BAZEL_BIN=$(bazel info -c opt bazel-bin 2>/dev/null)
for tool in mta/daemon/ringmta tools/loadgen/loadgen tools/sink/sink; do
  [[ -x $BAZEL_BIN/$tool ]] || { echo "run.sh: $tool is not built (drop --no-build)" >&2; exit 1; }
  cp "$BAZEL_BIN/$tool" "$BIN/"
done

command=(/usr/bin/python3 "$ROOT/bench/e2e/e2e.py" --bin-dir "$BIN" "${args[@]}")
if [[ $(id -u) == 0 && -z ${RINGMTA_E2E_NO_NETNS:-} ]] && command -v unshare >/dev/null; then
  # The namespace starts with loopback down.
  unshare --net -- sh -c 'ip link set lo up && exec "$@"' sh "${command[@]}"
else
  "${command[@]}"
fi
