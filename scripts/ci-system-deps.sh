#!/usr/bin/env bash
# Installs the Debian packages some tests run for real (redis-server for the shared
# rate-limit store). Needs root or passwordless sudo; a no-op when already installed.
# With --if-possible (what `npm test` uses), a machine where it cannot install gets a
# warning instead of a failure, and the tests that need the package say so themselves.
set -uo pipefail
lenient=false
[ "${1:-}" = "--if-possible" ] && lenient=true
need=()
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
[ ${#need[@]} -eq 0 ] && exit 0
fail() {
  if $lenient; then echo "warning: $* (tests that need ${need[*]} will fail)" >&2; exit 0; fi
  echo "error: $*" >&2; exit 1
}
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  sudo -n true 2>/dev/null || fail "cannot install ${need[*]}: run as root, or install it yourself (apt-get install ${need[*]})"
  SUDO="sudo -n"
fi
command -v apt-get >/dev/null 2>&1 || fail "no apt-get here: install ${need[*]} yourself"
echo "installing ${need[*]} (Debian packages the tests use)" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq && $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null \
  || fail "apt-get could not install ${need[*]}"
