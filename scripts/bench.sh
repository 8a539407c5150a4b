#!/usr/bin/env bash
# Runs the benchmarks with the same real secret stores the tests use (see scripts/test.sh) and
# prints their figures. Everything stays on loopback; each benchmark stops by itself.
#
# AZOBO_BENCH_BIN=PATH benchmarks another azobo build. serve_api_load measures serve-api against
# its ceiling in the same run (nginx as a bare TLS reverse proxy to the same static ARM stand-in;
# skipped without nginx); AZOBO_BENCH_BASELINE_BIN=PATH adds that build's serve-api to the same
# run. scripts/profile.sh shows where serve-api spends its CPU under that load.
set -euo pipefail
cd "$(dirname "$0")/.."
export AZOBO_TEST_PYTHON="${AZOBO_TEST_PYTHON:-$PWD/.venv/bin/python}"
[ -x "$AZOBO_TEST_PYTHON" ] || AZOBO_TEST_PYTHON=python3
cargo bench --locked --no-run >/dev/null
keyring_home="$(mktemp -d)"
trap 'rm -rf "$keyring_home"' EXIT
keyctl session azobo-bench dbus-run-session -- bash -c '
  set -euo pipefail
  printf "azobo-bench-keyring" | HOME="$0" XDG_DATA_HOME="$0/data" gnome-keyring-daemon --unlock --components=secrets >/dev/null
  export AZOBO_TEST_SESSION_KEYRING=1
  cargo bench --locked --bench cli_latency
  cargo bench --locked --bench dev_tenant_load
  cargo bench --locked --bench serve_api_load
  cargo bench --locked --bench scale_out
  cargo bench --locked --bench validate_token -- --noplot
' "$keyring_home" 2>&1 | grep -v "Failed to set fd limit"
