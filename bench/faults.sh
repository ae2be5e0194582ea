#!/usr/bin/env bash
# make faults: every fault test, the long ones included (MERIDIAN_FAULTS=1),
# on private PostgreSQL, Redis and RabbitMQ instances the tests start
# themselves (internal/faultsvc). Fault tests are named TestFault*; each
# logs a "faults:" line with sent / accepted / stored / lost / duplicated.
# The full log goes to bench/faults-<date>.txt, the ledger to stdout.
set -euo pipefail
cd "$(dirname "$0")/.."
log="bench/faults-$(date +%Y%m%d-%H%M%S).txt"
status=0
MERIDIAN_FAULTS=1 go test -count=1 -v -timeout 60m -run '^TestFault' ./... >"$log" 2>&1 || status=$?
grep -E -- '--- (PASS|FAIL|SKIP): TestFault|faults: ' "$log" | sed 's/^ *//'
exit $status
