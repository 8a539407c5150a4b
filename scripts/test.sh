#!/usr/bin/env bash
# The test command: installs what the tests need, then runs formatting, lints and every test.
# Works on a fresh Debian machine as root with a Rust toolchain; `.ci/run` calls exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\n==> %s\n' "$*" >&2; }

command -v cargo >/dev/null || { echo "error: cargo not found; install a Rust toolchain (1.89 or newer) first" >&2; exit 1; }

# Debian packages: Python with venv for MSAL (the dev tenant's independent judge); real secret
# stores: gnome-keyring on a private D-Bus session, and keyutils for the kernel keyring; and
# serve-api's scale-out: redis-server (the shared token cache) and nginx (the load balancer);
# a real browser for the sign-in pages: headless Chromium, driven by chromedriver.
# The tests start each on its own loopback port; the packages' own services are not used.
need_apt=()
command -v python3 >/dev/null || need_apt+=(python3)
python3 -c 'import venv, ensurepip' 2>/dev/null || need_apt+=(python3-venv)
command -v gnome-keyring-daemon >/dev/null || need_apt+=(gnome-keyring)
command -v dbus-run-session >/dev/null || need_apt+=(dbus dbus-daemon)
command -v keyctl >/dev/null || need_apt+=(keyutils)
[ -x /usr/bin/redis-server ] || need_apt+=(redis-server)
[ -x /usr/sbin/nginx ] || need_apt+=(nginx)
command -v chromium >/dev/null || need_apt+=(chromium)
command -v chromedriver >/dev/null || need_apt+=(chromium-driver)
if [ ${#need_apt[@]} -gt 0 ]; then
  log "installing ${need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need_apt[@]}"
fi

log "MSAL for Python, azure-identity and the ARM SDK in .venv"
if ! .venv/bin/python -c 'import sys' 2>/dev/null; then
  rm -rf .venv
  python3 -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r tests/msal/requirements.txt
.venv/bin/python -c 'import msal, azure.identity, azure.mgmt.subscription; print("msal", msal.__version__, "azure-identity", azure.identity.__version__)'
export AZOBO_TEST_PYTHON="$PWD/.venv/bin/python"

log "cargo fmt --check"
cargo fmt --all -- --check

log "cargo clippy --all-targets -- -D warnings"
cargo clippy --locked --all-targets -- -D warnings

log "cargo test container:: (no session keyring, no D-Bus: a container, a CI runner, cron, SSH)"
# Outside `keyctl session` and without a session bus, as such a process tree is; the tests also
# start every command in a session keyring of its own. A session `login` reports must work in
# the next process, or `login` must refuse before any sign-in starts.
env -u DBUS_SESSION_BUS_ADDRESS cargo test --locked --test it -- container::

log "cargo test (in a fresh session keyring, with gnome-keyring on a private D-Bus session)"
# keyctl gives the tests a session keyring shared by every azobo they start (as a login shell
# has); dbus-run-session a bus of their own, on which gnome-keyring serves the Secret Service.
# gnome-keyring keeps its files in a throwaway home, never in the real user's keyring.
keyring_home="$(mktemp -d)"
trap 'rm -rf "$keyring_home"' EXIT
keyctl session azobo-tests dbus-run-session -- bash -c '
  set -euo pipefail
  printf "azobo-test-keyring" | HOME="$0" XDG_DATA_HOME="$0/data" gnome-keyring-daemon --unlock --components=secrets >/dev/null
  export AZOBO_TEST_SESSION_KEYRING=1
  exec cargo test --locked -- --skip container::
' "$keyring_home" 
