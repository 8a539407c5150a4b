#!/usr/bin/env bash
# Where serve-api spends its CPU under load: the serve_api_load benchmark's serve-api case
# (64 connections, warm OBO cache, a static TLS nginx standing in for ARM) run with
# AZOBO_BENCH_PROFILE=1, `perf record -F 999 -g` attached to serve-api for 10 s once it is warm,
# then the top 10 symbols by self time.
#
#   scripts/profile.sh [BINARY]
#
# BINARY defaults to target/profiling/azobo, built here with `cargo build --profile profiling`
# (the release build with symbols); pass another (an earlier release, not stripped) to compare.
# Everything stays on 127.0.0.1 and stops by itself; perf.data is kept under target/profiling/.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=10
bin="${1:-target/profiling/azobo}"
if [ $# -eq 0 ]; then
  cargo build --locked --profile profiling --bin azobo
fi
[ -x "$bin" ] || { echo "no executable at $bin" >&2; exit 1; }
bin="$(realpath "$bin")"
command -v perf >/dev/null || { echo "perf is not installed" >&2; exit 1; }

# The benchmark's executable, run directly (not through cargo) so it can be stopped as a group.
bench="$(cargo bench --locked --bench serve_api_load --no-run --message-format=json 2>/dev/null |
  grep -o '"executable":"[^"]*serve_api_load[^"]*"' | tail -n 1 | cut -d'"' -f4)"
[ -x "$bench" ] || { echo "could not build the serve_api_load benchmark" >&2; exit 1; }

mkdir -p target/profiling
data="$PWD/target/profiling/perf-$(basename "$bin").data"
out="$(mktemp)"
bench_pid=""
cleanup() {
  # Only if the benchmark did not finish by itself: its own process group (setsid below), so
  # the dev tenant, nginx and serve-api it started go with it.
  if [ -n "$bench_pid" ] && kill -0 "$bench_pid" 2>/dev/null; then
    kill -TERM -- "-$bench_pid" 2>/dev/null || true
  fi
  rm -f "$out"
}
trap cleanup EXIT

# The bench's own run lasts 20 s; perf attaches after the warm-up and samples $seconds of it.
AZOBO_BENCH_PROFILE=1 AZOBO_BENCH_BIN="$bin" setsid "$bench" >"$out" 2>&1 &
bench_pid=$!

pid=""
for _ in $(seq 1 600); do # 120 s at most for the dev tenant, nginx and serve-api to be up and warm
  pid="$(sed -n 's/^serve-api pid: \([0-9][0-9]*\)$/\1/p' "$out")"
  [ -n "$pid" ] && break
  kill -0 "$bench_pid" 2>/dev/null || { cat "$out" >&2; echo "the benchmark stopped early" >&2; exit 1; }
  sleep 0.2
done
[ -n "$pid" ] || { cat "$out" >&2; echo "serve-api never came up" >&2; exit 1; }

echo "profiling $bin (serve-api pid $pid) for ${seconds} s under load"
perf record -F 999 -g -p "$pid" -o "$data" -- sleep "$seconds" 2>&1 | grep -v '^$' || true
wait "$bench_pid" || { cat "$out" >&2; echo "the benchmark failed" >&2; exit 1; }
bench_pid=""
grep -v '^serve-api pid:' "$out"

echo
echo "top 10 symbols by self time (perf report --no-children --sort symbol -i $data):"
# -g none: entries only, no call chains under them. perf pads the symbol column and appends
# empty IPC columns ("-  -"); both are trimmed. awk rather than head: no SIGPIPE under pipefail.
perf report -i "$data" --no-children --sort symbol --stdio -g none 2>/dev/null |
  grep -E '^ +[0-9.]+%' | sed -E 's/([[:space:]]+-)*[[:space:]]*$//' | awk 'NR <= 10'
