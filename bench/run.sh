#!/usr/bin/env bash
# make bench: Go benchmarks on PostgreSQL (TEST_DATABASE_URL, default the
# local server). Results go to bench/results-<date>.txt and the terminal.
set -euo pipefail
cd "$(dirname "$0")/.."
out="bench/results-$(date +%Y%m%d-%H%M%S).txt"
export TEST_DATABASE_URL="${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}"
{
	echo "# $(date -u) $(go version) $(nproc) cores"
	go test -run '^$' -bench 'FourLevel|CountryStats' -benchmem -benchtime "${BENCHTIME:-3s}" ./httpapi/
	go test -run '^$' -bench . -benchmem -benchtime 1x ./seed/
} 2>&1 | tee "$out"
echo "results: $out"
