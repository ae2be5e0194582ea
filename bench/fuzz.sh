#!/usr/bin/env bash
# Runs every Go fuzz target of the module, one after the other, each for
# FUZZTIME (default 60s), and prints one summary line per target.
#
#   bench/fuzz.sh                      # every target, 60 s each
#   FUZZTIME=20s bench/fuzz.sh         # shorter
#   bench/fuzz.sh Prepare Cursor       # only targets whose name matches one of the regexps
#   FUZZ_BACKEND=postgres bench/fuzz.sh  # database-backed targets on PostgreSQL (TEST_DATABASE_URL)
#
# Targets are found by their declarations (func FuzzX(f *testing.F) in
# *_test.go files). `go test -fuzz` takes one target of one package per run,
# hence the loop. Each target first runs its seed corpus (f.Add and
# testdata/fuzz/FuzzX/), then fuzzes. A failure leaves the failing input in
# the package's testdata/fuzz/FuzzX/ (go test writes it there): rerun it
# with `go test -run 'FuzzX/<file>' ./pkg/`. Logs go to $FUZZ_LOGS (default
# a temporary directory, printed at the end).
#
# Other knobs: FUZZ_PARALLEL (fuzzing workers, default GOMAXPROCS),
# FUZZ_MINIMIZE (-fuzzminimizetime, default 10s: how long the engine may
# spend shrinking each new interesting input, during which no executions
# are counted), FUZZ_TIMEOUT (go test -timeout per target; default
# FUZZTIME + 10m).
#
# Exit status: 0 when every target passed, 1 when any failed (or none found).
set -uo pipefail
cd "$(dirname "$0")/.."

GO=${GO:-go}
FUZZTIME=${FUZZTIME:-60s}
LOGS=${FUZZ_LOGS:-$(mktemp -d -t meridian-fuzz.XXXXXX)}
mkdir -p "$LOGS"
if [[ -n "${FUZZ_BACKEND:-}" ]]; then
	export MERIDIAN_FUZZ_BACKEND=$FUZZ_BACKEND
fi

# seconds of a Go duration like 90s, 2m or 1h (0 when it is a count: 500x).
seconds() {
	local d=$1
	case $d in
	*ms) echo 0 ;;
	*s) echo "${d%s}" ;;
	*m) echo $((${d%m} * 60)) ;;
	*h) echo $((${d%h} * 3600)) ;;
	*) echo 0 ;;
	esac
}
if [[ -n "${FUZZ_TIMEOUT:-}" ]]; then
	timeout=$FUZZ_TIMEOUT
else
	s=$(seconds "$FUZZTIME")
	s=${s%%.*}
	if [[ "$s" =~ ^[0-9]+$ && "$s" -gt 0 ]]; then timeout="$((s + 600))s"; else timeout=30m; fi
fi

# "dir name" pairs of every fuzz target, sorted by package then name.
mapfile -t targets < <(
	grep -rEo --include='*_test.go' '^func Fuzz[A-Za-z0-9_]+\(f \*testing\.F\)' . |
		sed -E 's|^\./(.*)/[^/]+_test\.go:func (Fuzz[A-Za-z0-9_]+).*|\1 \2|; s|^\./[^/]+_test\.go:func (Fuzz[A-Za-z0-9_]+).*|. \1|' |
		sort -u
)
if [[ $# -gt 0 ]]; then
	filtered=()
	for t in "${targets[@]}"; do
		for re in "$@"; do
			if [[ "${t#* }" =~ $re ]]; then filtered+=("$t"); break; fi
		done
	done
	targets=("${filtered[@]}")
fi
if [[ ${#targets[@]} -eq 0 ]]; then
	echo "fuzz: no fuzz targets found${*:+ matching $*}" >&2
	exit 1
fi

parallel=()
if [[ -n "${FUZZ_PARALLEL:-}" ]]; then parallel=(-parallel "$FUZZ_PARALLEL"); fi

echo "fuzz: ${#targets[@]} targets, $FUZZTIME each${MERIDIAN_FUZZ_BACKEND:+, backend $MERIDIAN_FUZZ_BACKEND}; logs in $LOGS"
summary=()
failed=0
start_all=$(date +%s)
for t in "${targets[@]}"; do
	dir=${t% *}
	name=${t#* }
	log="$LOGS/${dir//\//_}.$name.log"
	start=$(date +%s)
	"$GO" test -run '^$' -fuzz "^${name}\$" -fuzztime "$FUZZTIME" -fuzzminimizetime "${FUZZ_MINIMIZE:-10s}" -timeout "$timeout" "${parallel[@]}" "./$dir" >"$log" 2>&1
	rc=$?
	took=$(($(date +%s) - start))
	# The engine's last progress line: "fuzz: elapsed: 60s, execs: 123456 (2057/sec), new interesting: 3 (total: 40)".
	execs=$(grep -Eo 'execs: [0-9]+' "$log" | tail -1 | cut -d' ' -f2)
	interesting=$(grep -Eo 'total: [0-9]+' "$log" | tail -1 | cut -d' ' -f2)
	if [[ $rc -eq 0 ]]; then
		status=PASS
	else
		status=FAIL
		failed=$((failed + 1))
	fi
	line=$(printf '%-4s %-28s %-22s %5ss  execs %-10s corpus %s' "$status" "$name" "./$dir" "$took" "${execs:-0}" "${interesting:--}")
	if [[ $status == FAIL ]]; then
		crasher=$(grep -Eo 'testdata/fuzz/[^ ]+' "$log" | tail -1)
		line+="  ${crasher:+crasher ./$dir/$crasher  }log $log"
	fi
	echo "$line"
	summary+=("$line")
done
total=$(($(date +%s) - start_all))

echo
echo "fuzz: ${#targets[@]} targets in ${total}s: $((${#targets[@]} - failed)) passed, $failed failed"
if [[ $failed -gt 0 ]]; then
	echo
	for line in "${summary[@]}"; do
		[[ $line == FAIL* ]] || continue
		log=${line##*log }
		echo "--- ${line:5:28}"
		grep -E -- '--- FAIL|_fuzz_test\.go:[0-9]+:|panic:|Failing input|go test -run' "$log" | head -20
	done
	exit 1
fi
