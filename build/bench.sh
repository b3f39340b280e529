#!/usr/bin/env bash
# Runs Gatehouse's benchmarks (bench_test.go, over loopback, against `gatehouse serve` as a child
# process, real argon2id parameters; and backend/web/bench_test.go, the session overhead against
# the real handler tree; backend/web/forwardauth_bench_test.go, the forward-auth check against a
# trivial net/http handler) and prints the table of figures for the README. Takes about 12 minutes;
# run it on an otherwise idle machine. Not part of build/test.sh.
#
# The PostgreSQL figures (TestBenchPostgres, TestBenchSecondFactorPostgres, TestBenchSessionStores)
# run on the tests' throwaway cluster (backend/postgres/pgtest: Debian's postgresql must be
# installed, as build/test.sh does), side by side with the same figures on SQLite. To run only
# them: GATEHOUSE_BENCH=1 go test -count=1 -p 1 -run 'Postgres|SessionStores' -v . ./backend/web
#
# The session figures run the session cache as `gatehouse serve` does (TestBenchSessionStores:
# with and without it, side by side) and TestBenchSessionCheckVsTrivial measures a handler that
# only checks the session against a trivial net/http handler, 64 connections, with p99: issue
# 13's forward-auth aim, before the endpoint exists.
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
