# Meridian — make targets. `make run` and `make test` are the two commands
# of the README.

GO        ?= go
# Packages whose code or tests start goroutines run under the race
# detector: internal/cmd/racepkgs finds them, so a new one is raced from its
# first test.
RACE_PKGS := $(shell $(GO) run ./internal/cmd/racepkgs 2>/dev/null)
PKGS      := $(shell $(GO) list ./... 2>/dev/null | grep -v -e /ent -e /graph$$)

.PHONY: outdated dashboard check-dashboard graphiql check-graphiql run test test-race test-unit generate check-generated lint bench bench-peers faults fuzz audit-http seed help

help: ## list targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

run: ## serve on :8080 (embedded SQLite + demo data unless DATABASE_URL is set)
	$(GO) run .

test: test-unit test-race ## the whole suite, on SQLite and PostgreSQL

test-unit:
	$(GO) test -count=1 $(filter-out $(RACE_PKGS),$(PKGS))

# -p 1: the statement-count tests assert exact batching, which timing-based
# loaders only guarantee while the machine is not saturated by other packages.
test-race:
	@test -n "$(RACE_PKGS)" || { echo "internal/cmd/racepkgs found no package to race"; exit 1; }
	$(GO) test -count=1 -race -p 1 $(RACE_PKGS)

generate: ## regenerate ent and gqlgen code, the package diagrams (README.md, docs/architecture.md), docs/configuration.md and a migration file per dialect when the schema changed (needs PostgreSQL at TEST_DATABASE_URL)
	$(GO) generate ./...

GENERATED := ent graph resolvers gqlgen.yml docs README.md platform/database/migrations

check-generated: generate ## fail when generated code or documentation is stale
	@if [ -n "$$(git status --porcelain -- $(GENERATED))" ]; then git status --short -- $(GENERATED); echo "generated code or docs are stale: run make generate and commit"; exit 1; fi

outdated: ## direct Go dependencies with a newer version available (what Renovate's weekly PRs would bump)
	@$(GO) list -m -u -f '{{if and (not .Indirect) .Update}}{{.Path}} {{.Version}} -> {{.Update.Version}}{{end}}' all | grep . || echo "every direct dependency is current"

lint: ## go vet and a gofmt check
	$(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go' | grep -v '^ent/')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

bench: ## benchmarks on PostgreSQL (TEST_DATABASE_URL), results in bench/
	./bench/run.sh

bench-peers: ## Meridian beside PostGraphile v4 and the pgbench floor on a fresh 100,000-user database (CLIENTS DURATION PASSES WORKLOADS PEERS_REUSE; bench/peers/run.sh)
	./bench/peers/run.sh

faults: ## every fault test (TestFault*, long ones too) on private service instances; prints sent/accepted/stored/lost/duplicated
	./bench/faults.sh

fuzz: ## every fuzz target for FUZZTIME each (default 60s)
	./bench/fuzz.sh

audit-http: ## graphql-http's GraphQL-over-HTTP audit (needs Node.js): a fresh dev server, or AUDIT_URL [AUDIT_API_KEY]
	./bench/graphql-http-audit/run.sh

DASHBOARD_WEB := httpapi/dashboard/web

dashboard: ## rebuild the dashboard bundle (httpapi/dashboard/dist, committed) with esbuild from npm
	cd $(DASHBOARD_WEB) && { [ -d node_modules ] || npm ci --no-audit --no-fund; } && node build.mjs

check-dashboard: dashboard ## fail when the committed dashboard bundle is stale
	@if [ -n "$$(git status --porcelain -- httpapi/dashboard/dist)" ]; then git status --short -- httpapi/dashboard/dist; echo "dashboard bundle is stale: run make dashboard and commit"; exit 1; fi

GRAPHIQL_WEB := httpapi/graphiql/web

graphiql: ## rebuild the GraphiQL bundle (httpapi/graphiql/dist, committed) with esbuild from npm
	cd $(GRAPHIQL_WEB) && { [ -d node_modules ] || npm ci --no-audit --no-fund; } && node build.mjs

check-graphiql: graphiql ## fail when the committed GraphiQL bundle is stale
	@if [ -n "$$(git status --porcelain -- httpapi/graphiql/dist)" ]; then git status --short -- httpapi/graphiql/dist; echo "GraphiQL bundle is stale: run make graphiql and commit"; exit 1; fi

seed: ## seed demo data into DATABASE_URL (or the embedded file): make seed USERS=100000
	$(GO) run . seed --users $${USERS:-2000}
