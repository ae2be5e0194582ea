#!/usr/bin/env bash
# make bench-peers (issue 14): Meridian beside PostGraphile v4 on one freshly
# seeded PostgreSQL database, and beside the pgbench floor of the SQL
# Meridian sends.
#
#   1. builds meridian and the load generator (bench/peers/load), installs
#      PostGraphile from the npm registry (npm ci, package-lock.json);
#   2. seeds a fresh database (meridian seed --users 100000 --geo
#      ../shared/data/geo, without the event stream: no workload reads it)
#      and adds PostGraphile's computed columns (bench/peers/peers.sql);
#   3. captures the statements of one Meridian request per workload from the
#      PostgreSQL log (log_statement = 'all' on this database only, reset
#      afterwards) into bench/peers/out/<W>.sql, one pgbench transaction each;
#      and, with RESOLVERS=1, those of the same request through the
#      resolvers (MERIDIAN_COMPILED_READS=false) into <W>.resolvers.sql;
#   4. starts Meridian (MERIDIAN_RESULT_CACHE=false; a second one with the
#      cache as shipped when W3c is run; a third on the resolvers with
#      RESOLVERS=1) and PostGraphile, checks that they answer every workload
#      with the same rows;
#   5. for each workload, PASSES passes of Meridian, PostGraphile, pgbench
#      (and the resolvers' Meridian and SQL), interleaved, each printed as it
#      ends; then the medians as a table.
#
# With CEILING=1 (the default), each workload also gets passes against the
# HTTP ceiling (load -ceiling: a Go net/http handler that decodes the request
# and writes one Meridian response's bytes, no GraphQL, no SQL): the most
# this machine serves over HTTP to the same clients, beside the SQL floor.
#
# Knobs: CLIENTS (16), DURATION seconds (20), PASSES (3), CEILING (1), WORKLOADS
# ("W1 W2 W3 W3c W4"; W3c is W3 on the cached Meridian, no peer), RESOLVERS
# (1: also Meridian with MERIDIAN_COMPILED_READS=false and its SQL's floor,
# the figures before the compiled reads; 0: not), PEERS_REUSE=1
# (keep and reuse the database meridian_peers, seeded once), PEERS_USERS
# (100000), PEERS_PG (postgres://postgres@127.0.0.1:5432), PEERS_PG_LOG (the
# server's log file), PGBENCH_MODE (prepared, as Meridian's pgx statement
# cache sends them; or simple).
# The output goes to bench/peers-<date>.txt as well.
set -euo pipefail
cd "$(dirname "$0")/../.."
root="$PWD"

CLIENTS="${CLIENTS:-16}"
DURATION="${DURATION:-20}"
PASSES="${PASSES:-3}"
WORKLOADS="${WORKLOADS:-W1 W2 W3 W3c W4}"
PEERS_REUSE="${PEERS_REUSE:-0}"
RESOLVERS="${RESOLVERS:-1}"
CEILING="${CEILING:-1}"
PEERS_USERS="${PEERS_USERS:-100000}"
PG="${PEERS_PG:-postgres://postgres@127.0.0.1:5432}"
PGBENCH_MODE="${PGBENCH_MODE:-prepared}"
geo="${PEERS_GEO:-../shared/data/geo}"

if [ ! -f "$geo/countries.csv" ] || [ ! -f "$geo/cities.csv" ]; then
	echo "bench-peers: skipped: the geo data ($geo from the repository root, i.e. $(cd "$root/.." && pwd)/shared/data/geo) is absent"
	exit 0
fi
for tool in node npm psql pgbench go; do
	command -v "$tool" >/dev/null || { echo "bench-peers: needs $tool on PATH"; exit 1; }
done
pglog="${PEERS_PG_LOG:-$(ls /var/log/postgresql/postgresql-*-main.log 2>/dev/null | head -1)}"
if [ -z "$pglog" ] || [ ! -r "$pglog" ]; then
	echo "bench-peers: cannot read PostgreSQL's log (set PEERS_PG_LOG): the floor needs it"
	exit 1
fi

if [ "$PEERS_REUSE" = 1 ]; then db="${PEERS_DB:-meridian_peers}"; else db="${PEERS_DB:-meridian_peers_$$}"; fi
url="$PG/$db?sslmode=disable"
out="bench/peers-$(date +%Y%m%d-%H%M%S).txt"
capdir="bench/peers/out"
mkdir -p "$capdir"
tmp="$(mktemp -d)"
exec > >(tee "$out") 2>&1

pids=()
logging=0
cleanup() {
	local rc=$?
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	if [ "$logging" = 1 ]; then psql "$PG/postgres" -qc "ALTER DATABASE $db RESET log_statement" || true; fi
	if [ "$PEERS_REUSE" != 1 ]; then psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" || true; fi
	rm -rf "$tmp"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "# bench-peers $(date -u +%FT%TZ) $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- . ':!bench/peers' || echo +dirty) $(go version | cut -d' ' -f3) $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# CLIENTS=$CLIENTS DURATION=$DURATION PASSES=$PASSES WORKLOADS='$WORKLOADS' PGBENCH_MODE=$PGBENCH_MODE db=$db"

# 1. the binaries and PostGraphile
go build -o "$tmp/meridian" .
go build -o "$tmp/load" ./bench/peers/load
if [ ! -x bench/peers/node_modules/.bin/postgraphile ]; then
	(cd bench/peers && npm ci --no-audit --no-fund --loglevel=error)
fi
pgver="$(node -p 'require("./bench/peers/node_modules/postgraphile/package.json").version')"
echo "# PostGraphile $pgver, node $(node --version), $(psql "$PG/postgres" -Atc 'SHOW server_version' | cut -d' ' -f1) PostgreSQL"

# 2. the database
seeded=0
if [ "$PEERS_REUSE" = 1 ] && [ "$(psql "$PG/postgres" -Atc "SELECT 1 FROM pg_database WHERE datname = '$db'")" = 1 ] &&
	[ "$(psql "$url" -Atc 'SELECT count(*) FROM users' 2>/dev/null || echo 0)" -gt 0 ]; then
	echo "# reusing the seeded database $db (PEERS_REUSE=1)"
	seeded=1
fi
if [ "$seeded" = 0 ]; then
	psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)"
	psql "$PG/postgres" -qc "CREATE DATABASE $db"
	t0=$(date +%s)
	DATABASE_URL="$url" "$tmp/meridian" seed --users "$PEERS_USERS" --geo "$geo" --events=false 2>&1 | tr '\r' '\n' | grep -a '^seeded' || { echo "seed failed"; exit 1; }
	echo "# seeded in $(($(date +%s) - t0)) s"
fi
psql "$url" -v ON_ERROR_STOP=1 -qf bench/peers/peers.sql
psql "$url" -qc "VACUUM ANALYZE"
psql "$url" -Atc "SELECT (SELECT count(*) FROM countries), (SELECT count(*) FROM cities), (SELECT count(*) FROM addresses), (SELECT count(*) FROM users), (SELECT count(*) FROM orders)" |
	awk -F'|' '{ printf "# data: %d countries, %d cities, %d addresses, %d users, %d orders\n", $1, $2, $3, $4, $5 }'
echo "# indexes both servers read (Meridian's schema; none added):"
psql "$url" -Atc "SELECT '#   ' || tablename || ': ' || string_agg(indexname, ', ' ORDER BY indexname) FROM pg_indexes WHERE schemaname = 'public' AND tablename IN ('countries', 'cities', 'addresses', 'users', 'orders') GROUP BY tablename ORDER BY tablename"
psql "$url" -Atc "SELECT username FROM users ORDER BY md5(username) LIMIT 1000" >"$tmp/usernames"

# Servers. Meridian's environment is this list only, nothing inherited.
meridian_env() { # port cache compiled
	exec env -i PATH="$PATH" HOME="${HOME:-/tmp}" DATABASE_URL="$url" MERIDIAN_ADDR="127.0.0.1:$1" MERIDIAN_RATE_LIMIT=0 \
		MERIDIAN_LOG_LEVEL=warn MERIDIAN_RESULT_CACHE="$2" MERIDIAN_COMPILED_READS="${3:-true}" MERIDIAN_DATA_DIR="$tmp/data" "$tmp/meridian"
}
start_meridian() { # port cache logfile [compiled] → pid in $started
	meridian_env "$1" "$2" "${4:-true}" >"$3" 2>&1 &
	started=$!
	pids+=("$started")
	for _ in $(seq 1 300); do
		if curl -fsS -o /dev/null "http://127.0.0.1:$1/readyz" 2>/dev/null; then
			"$tmp/load" -settle -pid "$started"
			return 0
		fi
		kill -0 "$started" 2>/dev/null || break
		sleep 0.2
	done
	echo "meridian on :$1 did not become ready:"; cat "$3"; exit 1
}
stop() { # pid
	kill "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}

# 3. the statements of one Meridian request per workload
floors=""
for w in $WORKLOADS; do case "$w" in W1 | W2 | W3 | W4) floors="$floors $w" ;; esac; done
if [ -n "$floors" ]; then
	psql "$PG/postgres" -qc "ALTER DATABASE $db SET log_statement = 'all'"
	logging=1
	port="$("$tmp/load" -freeport)"
	start_meridian "$port" false "$tmp/meridian-capture.log"
	cap=$started
	for w in $floors; do
		"$tmp/load" -capture -url "http://127.0.0.1:$port/query" -workload "$w" -usernames "$tmp/usernames" \
			-db "$db" -log "$pglog" -out "$capdir/$w.sql" | sed "s/^/# $w: /"
		psql "$url" -v ON_ERROR_STOP=1 -qf "$capdir/$w.sql" >/dev/null
	done
	if [ "$RESOLVERS" = 1 ]; then
		stop "$cap"
		start_meridian "$port" false "$tmp/meridian-capture-resolvers.log" false
		cap=$started
		for w in $floors; do
			"$tmp/load" -capture -url "http://127.0.0.1:$port/query" -workload "$w" -usernames "$tmp/usernames" \
				-db "$db" -log "$pglog" -out "$capdir/$w.resolvers.sql" | sed "s/^/# $w through the resolvers: /"
			psql "$url" -v ON_ERROR_STOP=1 -qf "$capdir/$w.resolvers.sql" >/dev/null
		done
	fi
	psql "$PG/postgres" -qc "ALTER DATABASE $db RESET log_statement"
	logging=0
	stop "$cap"
fi

# 4. the servers
mport="$("$tmp/load" -freeport)"
start_meridian "$mport" false "$tmp/meridian.log"
mpid=$started
cport="" cpid=""
case " $WORKLOADS " in *" W3c "*)
	cport="$("$tmp/load" -freeport)"
	start_meridian "$cport" true "$tmp/meridian-cached.log"
	cpid=$started
	;;
esac
rport="" rpid=""
if [ "$RESOLVERS" = 1 ]; then
	rport="$("$tmp/load" -freeport)"
	start_meridian "$rport" false "$tmp/meridian-resolvers.log" false
	rpid=$started
fi
gport="$("$tmp/load" -freeport)"
# One process, no GraphiQL, no watch, no query log, no extended errors, no
# default mutations; its pool is its default (10).
(cd bench/peers && NODE_ENV=production exec node node_modules/postgraphile/cli.js -c "$PG/$db" \
	--host 127.0.0.1 --port "$gport" --disable-default-mutations --dynamic-json --no-setof-functions-contain-nulls \
	--disable-graphiql --disable-query-log) >"$tmp/postgraphile.log" 2>&1 &
gpid=$!
pids+=("$gpid")
for _ in $(seq 1 300); do
	if curl -fsS -o /dev/null -H 'Content-Type: application/json' -d '{"query":"{__typename}"}' "http://127.0.0.1:$gport/graphql" 2>/dev/null; then break; fi
	kill -0 "$gpid" 2>/dev/null || { cat "$tmp/postgraphile.log"; exit 1; }
	sleep 0.2
done
"$tmp/load" -settle -pid "$gpid"
murl="http://127.0.0.1:$mport/query"
gurl="http://127.0.0.1:$gport/graphql"
checks=""
for w in $WORKLOADS; do [ "$w" = W3c ] || checks="$checks,$w"; done
[ -z "$checks" ] || "$tmp/load" -check -meridian "$murl" -postgraphile "$gurl" -usernames "$tmp/usernames" -workloads "${checks#,}"
if [ -n "$rpid" ] && [ -n "$checks" ]; then
	"$tmp/load" -check -meridian "http://127.0.0.1:$rport/query" -postgraphile "$gurl" -usernames "$tmp/usernames" -workloads "${checks#,}" | sed 's/^/resolvers: /'
fi
if [ -n "$cpid" ]; then
	"$tmp/load" -check -meridian "http://127.0.0.1:$cport/query" -postgraphile "$gurl" -usernames "$tmp/usernames" -workloads W3 | sed 's/W3/W3c (cached Meridian)/'
fi

# 5. the passes
results="$tmp/results" # workload server rps p50 p99 cpu requests
: >"$results"
echo
printf '%-4s %-5s %-12s %10s %9s %9s %8s\n' pass wl server rps p50-ms p99-ms cpu-s
row() { # pass line
	set -- "$1" $2
	printf '%-4s %-5s %-12s %10s %9s %9s %8s\n' "$1" "$2" "$3" "$4" "$5" "$6" "$7"
	echo "$2 $3 $4 $5 $6 $7 $8" >>"$results"
}
floor() { # pass workload name file: one pgbench pass over the captured statements
	local pb tps lat n
	pb="$(pgbench "$url" -n -M "$PGBENCH_MODE" -c "$CLIENTS" -j 2 -T "$DURATION" -f "$4" 2>&1)" || { echo "$pb"; exit 1; }
	tps="$(echo "$pb" | awk '/^tps = / { printf "%.1f", $3 }')"
	lat="$(echo "$pb" | awk '/^latency average/ { printf "%.2f", $4 }')"
	n="$(echo "$pb" | awk '/number of transactions actually processed/ { print $NF }')"
	row "$1" "$2 $3 $tps $lat(avg) - - ${n:-0}"
}
for w in $WORKLOADS; do
	for p in $(seq 1 "$PASSES"); do
		if [ "$w" = W3c ]; then
			r="$("$tmp/load" -target meridian -url "http://127.0.0.1:$cport/query" -workload W3c -pid "$cpid" -c "$CLIENTS" -d "${DURATION}s" -usernames "$tmp/usernames")"
			row "$p" "${r#RESULT }"
			continue
		fi
		r="$("$tmp/load" -target meridian -url "$murl" -workload "$w" -pid "$mpid" -c "$CLIENTS" -d "${DURATION}s" -usernames "$tmp/usernames")"
		row "$p" "${r#RESULT }"
		r="$("$tmp/load" -target postgraphile -url "$gurl" -workload "$w" -pid "$gpid" -c "$CLIENTS" -d "${DURATION}s" -usernames "$tmp/usernames")"
		row "$p" "${r#RESULT }"
		floor "$p" "$w" pgbench "$capdir/$w.sql"
		if [ "$CEILING" = 1 ]; then
			if [ "$p" = 1 ]; then
				"$tmp/load" -print -target meridian -workload "$w" -usernames "$tmp/usernames" |
					curl -fsS -H 'Content-Type: application/json' --data-binary @- "$murl" >"$tmp/$w.response"
				hport="$("$tmp/load" -freeport)"
				"$tmp/load" -ceiling "127.0.0.1:$hport" -response "$tmp/$w.response" &
				hpid=$!
				pids+=("$hpid")
				for _ in $(seq 1 50); do curl -fsS -o /dev/null -d '{"query":"{a}"}' "http://127.0.0.1:$hport/" 2>/dev/null && break; sleep 0.1; done
			fi
			r="$("$tmp/load" -target meridian -url "http://127.0.0.1:$hport/" -workload "$w" -pid "$hpid" -c "$CLIENTS" -d "${DURATION}s" -usernames "$tmp/usernames")"
			r="${r#RESULT }"
			row "$p" "${r/ meridian / http-ceiling }"
			[ "$p" != "$PASSES" ] || stop "$hpid"
		fi
		if [ -n "$rpid" ]; then
			r="$("$tmp/load" -target meridian -url "http://127.0.0.1:$rport/query" -workload "$w" -pid "$rpid" -c "$CLIENTS" -d "${DURATION}s" -usernames "$tmp/usernames")"
			r="${r#RESULT }"
			row "$p" "${r/ meridian / resolvers }"
			floor "$p" "$w" pgbench-res "$capdir/$w.resolvers.sql"
		fi
	done
done

# The medians.
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print ""; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
col() { awk -v w="$1" -v s="$2" -v c="$3" '$1 == w && $2 == s { print $c }' "$results" | median; }
cpu_per_req() { awk -v w="$1" -v s="$2" '$1 == w && $2 == s && $6 != "-" && $7 > 0 { print 1000 * $6 / $7 }' "$results" | median; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b == 0) print "—"; else printf "%.2f", a / b }'; }
pct() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b == 0) print "—"; else printf "%.0f %%", 100 * a / b }'; }
fmt() { awk -v a="$1" 'BEGIN { if (a == "") print "—"; else printf "%.1f", a }'; }
echo
echo "Medians of $PASSES pass(es), $CLIENTS clients, ${DURATION} s each; floor: pgbench -M $PGBENCH_MODE of the captured statements (one transaction = one request)."
echo
echo "| workload | Meridian rps | PostGraphile rps | Meridian ÷ PostGraphile | floor (tps) | Meridian ÷ floor | HTTP ceiling rps | Meridian ÷ ceiling | Meridian p99 ms | PostGraphile p99 ms | Meridian CPU ms/req | PostGraphile CPU ms/req | statements/request |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
for w in $WORKLOADS; do
	if [ "$w" = W3c ]; then
		m="$(col W3c meridian 3)"
		echo "| W3c (cached) | $(fmt "$m") | — | — | — | — | — | — | $(fmt "$(col W3c meridian 5)") | — | $(fmt "$(cpu_per_req W3c meridian)") | — | — |"
		continue
	fi
	m="$(col "$w" meridian 3)" g="$(col "$w" postgraphile 3)" f="$(col "$w" pgbench 3)" h="$(col "$w" http-ceiling 3)"
	st="$(grep -c ';$' "$capdir/$w.sql" || true)"
	echo "| $w | $(fmt "$m") | $(fmt "$g") | $(ratio "$m" "$g") | $(fmt "$f") | $(pct "$m" "$f") | $(fmt "$h") | $(pct "$m" "$h") | $(fmt "$(col "$w" meridian 5)") | $(fmt "$(col "$w" postgraphile 5)") | $(fmt "$(cpu_per_req "$w" meridian)") | $(fmt "$(cpu_per_req "$w" postgraphile)") | $st |"
done
if [ -n "$rpid" ]; then
	echo
	echo "Before the compiled reads: the same Meridian with MERIDIAN_COMPILED_READS=false, in the same passes."
	echo
	echo "| workload | resolvers rps | resolvers ÷ PostGraphile | floor of the resolvers' SQL (tps) | resolvers ÷ their floor | resolvers p99 ms | resolvers CPU ms/req | statements/request | compiled ÷ resolvers |"
	echo "|---|---|---|---|---|---|---|---|---|"
	for w in $WORKLOADS; do
		[ "$w" = W3c ] && continue
		m="$(col "$w" meridian 3)" r="$(col "$w" resolvers 3)" g="$(col "$w" postgraphile 3)" f="$(col "$w" pgbench-res 3)"
		st="$(grep -c ';$' "$capdir/$w.resolvers.sql" || true)"
		echo "| $w | $(fmt "$r") | $(ratio "$r" "$g") | $(fmt "$f") | $(pct "$r" "$f") | $(fmt "$(col "$w" resolvers 5)") | $(fmt "$(cpu_per_req "$w" resolvers)") | $st | $(ratio "$m" "$r") |"
	done
fi
echo
echo "W1 10 countries → 20 cities → 10 users → address; W2 user by username → address → city → country; W3 every country's user count and average spend (uncached); W4 top 20 users by total spent → address → city → country."
echo "log: $out; captured statements: $capdir/"
