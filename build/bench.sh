#!/usr/bin/env bash
# Runs Gatehouse's benchmarks (bench_test.go, over loopback, against `gatehouse serve` as a child
# process, real argon2id parameters; and backend/web/bench_test.go, the session overhead against
# the real handler tree) and prints the table of figures for the README. Takes about 8 minutes;
# run it on an otherwise idle machine. Not part of build/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp)
trap 'rm -f "$out"' EXIT
GATEHOUSE_BENCH=1 go test -count=1 -p 1 -timeout 20m -run '^TestBench' -v . ./backend/web | tee "$out" | grep -E '^(--- |FAIL|ok|panic)' >&2 || true
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
echo
echo "Machine: ${cpu:-unknown}, $(nproc) CPUs, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo) RAM, $(go version | cut -d' ' -f3), $(uname -sr). Date: $(date -u +%Y-%m-%d)."
echo
echo "| figure | measured | aim | note |"
echo "| --- | --- | --- | --- |"
grep '^BENCH|' "$out" | cut -d'|' -f2- | sed 's/^/| /; s/$/ |/'
