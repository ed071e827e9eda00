#!/usr/bin/env bash
# Installs the Debian packages ringmta builds, tests and benchmarks with, if
# any is missing. Idempotent; needs root (or sudo) only when it installs.
set -euo pipefail

PACKAGES=(
  # Build: Debian's offline Bazel, the compiler, the system libraries.
  bazel-bootstrap g++ liburing-dev android-libboringssl-dev libc-ares-dev libabsl-dev
  libgtest-dev libgmock-dev libbenchmark-dev libtomlplusplus-dev libcrypt-dev
  # Tests: real peers no one here wrote, and the fuzzing toolchain.
  # (python-is-python3: Bazel 4's py_test stubs start "#!/usr/bin/env python".)
  python3 python-is-python3 python3-aiosmtpd python3-dnslib python3-prometheus-client swaks postfix
  clang-14 libclang-rt-14-dev openssl
)

missing=()
for package in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

SUDO=""
[[ $(id -u) -ne 0 ]] && SUDO=sudo
echo "setup: installing ${missing[*]}" >&2
# Postfix is installed only for its smtp-source/smtp-sink test tools: with
# "No configuration" its postinst configures and starts nothing.
echo "postfix postfix/main_mailer_type select No configuration" | $SUDO debconf-set-selections
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
