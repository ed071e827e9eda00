#!/usr/bin/env bash
# Installs what is missing, builds, and runs the ringmta daemon in the
# foreground with built-in defaults: SMTP on 127.0.0.1:2525, spool under
# ./var/spool, one shard per CPU. Extra arguments go to ringmta (--help).
# Ctrl-C (SIGINT) stops it cleanly.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
bazel build --disk_cache="${RINGMTA_BAZEL_CACHE:-$HOME/.cache/ringmta-bazel}" //mta/daemon:ringmta
# Copy the binary out of bazel-bin so a later build cannot swap it
# underneath the running daemon.
mkdir -p var/bin
cp -f bazel-bin/mta/daemon/ringmta var/bin/ringmta
exec var/bin/ringmta --spool ./var/spool "$@"
