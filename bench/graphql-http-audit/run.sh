#!/usr/bin/env bash
# make audit-http: graphql-http's GraphQL-over-HTTP audit (the one
# graphql-http.com runs) against Meridian's /query. Needs Node.js and npm;
# `make test` does not.
#
# AUDIT_URL=http://host:port/query audits that server (AUDIT_API_KEY is sent
# as X-API-Key, for servers without anonymous access). Without AUDIT_URL the
# script builds the server and starts it on a free port with this process's
# environment (by default development: SQLite in a temporary directory, demo
# data, anonymous analysts), audits it and stops it.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"
[ -d node_modules/graphql-http ] || npm ci --no-audit --no-fund --silent
if [ -n "${AUDIT_URL:-}" ]; then
	exec node audit.mjs "$AUDIT_URL"
fi
tmp="$(mktemp -d)"
pid=""
cleanup() {
	[ -z "$pid" ] || kill "$pid" 2>/dev/null || true
	[ -z "$pid" ] || wait "$pid" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
(cd ../.. && go build -o "$tmp/meridian" .)
port="$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')"
export MERIDIAN_ADDR="127.0.0.1:$port"
export MERIDIAN_DATA_DIR="${MERIDIAN_DATA_DIR:-$tmp/data}"
export MERIDIAN_DEMO_USERS="${MERIDIAN_DEMO_USERS:-200}"
"$tmp/meridian" >"$tmp/server.log" 2>&1 &
pid=$!
for _ in $(seq 1 300); do
	if curl -fsS "http://$MERIDIAN_ADDR/readyz" >/dev/null 2>&1; then break; fi
	if ! kill -0 "$pid" 2>/dev/null; then cat "$tmp/server.log"; exit 1; fi
	sleep 0.1
done
node audit.mjs "http://$MERIDIAN_ADDR/query"
