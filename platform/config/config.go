// Package config reads Meridian's configuration from the environment, in
// one place. Every variable, its default and its meaning is listed in Vars,
// which `meridian --help` prints.
package config

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/meridian-graphql/meridian/analytics"
	"github.com/meridian-graphql/meridian/analytics/engine"
	"github.com/meridian-graphql/meridian/auth"
	"github.com/meridian-graphql/meridian/httpapi/gqlhttp"
	"github.com/meridian-graphql/meridian/httpapi/limits"
	"github.com/meridian-graphql/meridian/platform/database"
)

// Var documents one environment variable.
type Var struct {
	Name, Default, Help string
}

// Vars lists every variable Meridian reads.
func Vars() []Var {
	return []Var{
		{"MERIDIAN_ENV", "development", "development or production: production refuses to start on embedded defaults or without its secrets, and has no anonymous access by default"},
		{"MERIDIAN_ADDR", ":8080", "address the HTTP server listens on"},
		{"MERIDIAN_METRICS_ADDR", "", "serve /metrics on this address of its own (e.g. :9090) instead of MERIDIAN_ADDR"},
		{"MERIDIAN_PPROF", "false", "serve Go's profiles (/debug/pprof/) on MERIDIAN_METRICS_ADDR, which must be set: never on the public address"},
		{"MERIDIAN_METRICS_TOKEN", "", "bearer token /metrics requires wherever it is served; production needs it or MERIDIAN_METRICS_ADDR"},
		{"MERIDIAN_TRUSTED_PROXIES", "", "proxies (CIDRs or addresses, comma-separated) whose X-Forwarded-For names the client for logs and rate limits; empty: none"},
		{"DATABASE_URL", "", "postgres://… for PostgreSQL (pgx); empty for the embedded SQLite file in MERIDIAN_DATA_DIR; sqlite:PATH for another SQLite file"},
		{"MERIDIAN_DATA_DIR", "./data", "directory of the embedded SQLite database"},
		{"MERIDIAN_DEMO_SEED", "true", "seed demo data on start when the embedded database is empty"},
		{"MERIDIAN_DEMO_USERS", "2000", "number of demo users seeded on first start"},
		{"REDIS_URL", "", "redis://… for the shared cache tier and cross-instance invalidation; empty keeps the in-process tier only"},
		{"MERIDIAN_CACHE_PREFIX", "meridian:", "key prefix of the cache in Redis"},
		{"AMQP_URL", "", "amqp://… for RabbitMQ; empty runs the in-process bus"},
		{"MERIDIAN_OUTBOX_PUBLISH_TIMEOUT", "5s", "how long one outbox relay pass waits for the broker before it hands its rows back pending (retried at the next tick); the relay holds no database transaction meanwhile"},
		{"MERIDIAN_DB_MAX_CONNS", "20", "PostgreSQL connections the server opens at most; all may stay idle, so a steady load does not reopen sessions"},
		{"MERIDIAN_DB_IDLE_TIMEOUT", "5m", "an idle PostgreSQL connection closes after this"},
		{"MERIDIAN_MIGRATE_ALLOW_DESTRUCTIVE", "false", "let the start-up apply pending migrations that drop a table, column or index; false: it refuses, naming the file and the statement (`meridian migrate up --allow-destructive` applies them once)"},
		{"MONGODB_URI", "", "mongodb://… to keep events and profiles in MongoDB; empty keeps them in the SQL database"},
		{"MONGODB_DATABASE", "meridian", "MongoDB database of the event store"},
		{"MERIDIAN_EVENT_TYPES", strings.Join(analytics.DefaultTypes(), ","), "accepted event types, comma-separated"},
		{"MERIDIAN_UNKNOWN_EVENT_TYPES", "reject", "reject or accept events of other types"},
		{"MERIDIAN_EVENT_RETENTION", "0", "delete events older than this (e.g. 8760h); 0 keeps them forever"},
		{"MERIDIAN_LIVE_FANOUT", "true", "run the WebSocket subscriptions that share document, variables and role scope once per event for all their subscribers; false runs each subscriber's own"},
		{"MERIDIAN_COMPILED_READS", "true", "on PostgreSQL, answer a relational read (the entity connections and lookups, their columns and edges) with one statement that writes the JSON; false sends every read through the resolvers"},
		{"MERIDIAN_RESULT_CACHE", "true", "cache @cached fields (Country.stats, userStats, …); false: every @cached field resolves on every request (benchmarks of the resolvers and their SQL, e.g. make bench-peers)"},
		{"MERIDIAN_LOADER_WAIT", "10ms", "how long a dataloader collects keys before it queries"},
		{"MERIDIAN_REQUEST_TIMEOUT", "30s", "deadline of one GraphQL request"},
		{"MERIDIAN_READ_TIMEOUT", "10s", "time a client has to send a request's headers and body; a slower one is disconnected (subscription streams live on once their request is read)"},
		{"MERIDIAN_IDLE_TIMEOUT", "60s", "how long an idle keep-alive connection stays open"},
		{"MERIDIAN_EXPORT_IDLE_TIMEOUT", "30s", "how long GET /export/events waits for a client that stopped reading before it cuts the connection"},
		{"MERIDIAN_SHUTDOWN_TIMEOUT", "15s", "grace period for in-flight requests on SIGINT/SIGTERM"},
		{"MERIDIAN_SHUTDOWN_DELAY", "0s", "on SIGINT/SIGTERM, how long the server goes on serving with /readyz answering 503 before it stops accepting, so a load balancer takes it out first (a few seconds more than the readiness probe's period); the grace period follows it"},
		{"MERIDIAN_ANONYMOUS_ROLE", "", "role of callers without credentials: viewer, analyst, admin or none (default analyst in development, none in production)"},
		{"MERIDIAN_ANONYMOUS_WRITES", "false", "let callers without credentials run the mutations their role allows (refused in production); false: they only read"},
		{"MERIDIAN_JWT_SECRET", "", "HS256 secret (32+ bytes) for JWTs; empty: no HS256"},
		{"MERIDIAN_JWT_JWKS_FILE", "", "JWKS file with the RS256 public keys for JWTs; empty: no RS256"},
		{"MERIDIAN_JWT_ISSUER", "", "required iss claim of JWTs (empty: not checked)"},
		{"MERIDIAN_JWT_AUDIENCE", "", "required aud claim of JWTs (empty: not checked)"},
		{"MERIDIAN_MAX_DEPTH", "15", "deepest field nesting a query may have (0: no limit)"},
		{"MERIDIAN_MAX_COST", "50000", "largest estimated cost of a query: fields, list fields multiplied by their first/limit (0: no limit)"},
		{"MERIDIAN_MAX_ALIASES", "30", "most aliased fields in a query (0: no limit)"},
		{"MERIDIAN_MAX_TOKENS", "5000", "most lexical tokens in a query, checked before parsing (0: no limit)"},
		{"MERIDIAN_MAX_FIRST", "1000", "largest first/last/limit argument"},
		{"MERIDIAN_MAX_BODY_BYTES", "1048576", "largest request body"},
		{"MERIDIAN_WS_MAX_OPERATIONS", "100", "operations (subscriptions, queries, mutations) one WebSocket may run at once; more are refused with TOO_MANY_OPERATIONS"},
		{"MERIDIAN_INTROSPECTION", "", "allow __schema/__type: true or false (default true in development, false in production)"},
		{"MERIDIAN_GRAPHIQL", "", "serve the GraphiQL IDE at / from the binary (nothing from a CDN): true or false (default true in development, false in production, where / answers 404); its completion, docs and explorer need MERIDIAN_INTROSPECTION"},
		{"MERIDIAN_RATE_LIMIT", "50", "requests per second per caller (API key, JWT subject, or IP for anonymous callers); 0: no limit"},
		{"MERIDIAN_RATE_BURST", "100", "requests a caller may make at once before the rate applies"},
		{"MERIDIAN_AUTH_FAILURES_PER_MINUTE", "10", "failed authentications per minute per client address; past the burst, credentials from it get 429 without being looked up (0: no limit, refused in production)"},
		{"MERIDIAN_AUTH_FAILURE_BURST", "20", "failed authentications a client address may make at once before the rate applies"},
		{"MERIDIAN_CORS_ORIGINS", "", "origins allowed to call /query from a browser, comma-separated, or *; empty: same origin only"},
		{"MERIDIAN_CORS_CREDENTIALS", "false", "let allowed origins send credentials (never with *)"},
		{"MERIDIAN_SLOW_QUERY", "500ms", "log operations slower than this at warn level, without their variables; 0 turns it off"},
		{"OTEL_EXPORTER_OTLP_ENDPOINT", "", "OTLP/HTTP collector (e.g. http://otel:4318) to export traces to; empty: no tracing"},
		{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "", "full OTLP/HTTP traces URL, overriding the endpoint above"},
		{"MERIDIAN_TRACE_FIELDS", "false", "also trace each resolver field (more spans)"},
		{"MERIDIAN_MODEL_REFIT", "1h", "how often the analytics engine refits its models and rescores every user"},
		{"MERIDIAN_DORMANT_DAYS", "90", "segment DORMANT: no activity for this many days"},
		{"MERIDIAN_AT_RISK_CHURN", "0.6", "segment AT_RISK: churn probability above this"},
		{"MERIDIAN_VIP_TOP_SHARE", "0.05", "segment VIP: this top share of users by lifetime value"},
		{"MERIDIAN_CHURN_HORIZON", "2160h", "churn probability is that of no purchase within this horizon (90 days)"},
		{"MERIDIAN_CLV_MONTHS", "12", "lifetime value horizon in months"},
		{"MERIDIAN_CLV_MONTHLY_DISCOUNT", "0.01", "lifetime value discount rate per month"},
		{"MERIDIAN_LOG_LEVEL", "info", "debug, info, warn or error"},
		{"MERIDIAN_LOG_FORMAT", "text", "text or json"},
	}
}

// Config is the parsed configuration.
type Config struct {
	Addr           string
	MetricsAddr    string
	Pprof          bool
	TrustedProxies []netip.Prefix
	DatabaseURL    string
	DataDir        string
	DemoSeed       bool
	DemoUsers      int
	RedisURL       string
	CachePrefix    string
	AMQPURL        string
	// ResultCache is false when @cached fields always resolve
	// (MERIDIAN_RESULT_CACHE=false).
	ResultCache bool
	// DBPool sizes the PostgreSQL connection pool.
	DBPool          database.Pool
	MongoURI        string
	MongoDatabase   string
	EventTypes      []string
	AcceptUnknown   bool
	EventRetention  time.Duration
	LoaderWait      time.Duration
	RequestTimeout  time.Duration
	ShutdownTimeout time.Duration
	ShutdownDelay   time.Duration
	LogLevel        slog.Level
	LogJSON         bool
	Production      bool
	AnonymousRole   auth.Role // "" = no anonymous access
	AnonymousWrites bool      // anonymous callers may run mutations
	JWT             auth.JWTConfig
	CORS            gqlhttp.Config
	SlowQuery       time.Duration
	CompiledReads   bool
	// GraphiQL serves the IDE at / (MERIDIAN_GRAPHIQL).
	GraphiQL        bool
	LiveFanout      bool
	OTLPEndpoint    string
	OTLPTraces      string
	TraceFields     bool
	Limits          limits.Config
	MaxBodyBytes    int64
	WSMaxOperations int
	RateLimit       float64
	RateBurst       int
	ModelRefit      time.Duration
	Thresholds      engine.Thresholds
	ChurnHorizon    time.Duration
	CLVMonths       int
	CLVDiscount     float64
	// MetricsToken, when set, is the bearer token /metrics requires.
	MetricsToken string
	// AuthFailuresPerMinute and AuthFailureBurst limit failed
	// authentications per client address (rate 0: no limit).
	AuthFailuresPerMinute float64
	AuthFailureBurst      int

	// OutboxPublishTimeout bounds one relay pass's wait for the broker.
	OutboxPublishTimeout time.Duration

	// ReadTimeout bounds reading a request (headers and body), IdleTimeout
	// an idle keep-alive connection; both listeners use them.
	// ExportIdleTimeout cuts an export whose client stopped reading.
	ReadTimeout, IdleTimeout, ExportIdleTimeout time.Duration

	// MigrateAllowDestructive lets the start-up apply pending migrations
	// with destructive statements (MERIDIAN_MIGRATE_ALLOW_DESTRUCTIVE).
	MigrateAllowDestructive bool
}

// Load reads the configuration through getenv (os.Getenv in main, a map in
// tests). It reports every bad value at once.
func Load(getenv func(string) string) (Config, error) {
	get := func(name string) string {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			return v
		}
		for _, v := range Vars() {
			if v.Name == name {
				return v.Default
			}
		}
		return ""
	}
	var errs []string
	bad := func(name string, err error) { errs = append(errs, fmt.Sprintf("%s: %v", name, err)) }
	dur := func(name string) time.Duration {
		d, err := time.ParseDuration(get(name))
		if err != nil || d <= 0 {
			bad(name, fmt.Errorf("want a positive duration such as 5s, got %q", get(name)))
		}
		return d
	}
	// durOrZero is dur for a duration that may be 0 (off).
	durOrZero := func(name string) time.Duration {
		d, err := time.ParseDuration(get(name))
		if err != nil || d < 0 {
			bad(name, fmt.Errorf("want a duration such as 5s, or 0s for none, got %q", get(name)))
		}
		return d
	}
	c := Config{
		Addr:            get("MERIDIAN_ADDR"),
		MetricsAddr:     get("MERIDIAN_METRICS_ADDR"),
		DatabaseURL:     get("DATABASE_URL"),
		DataDir:         get("MERIDIAN_DATA_DIR"),
		RedisURL:        get("REDIS_URL"),
		CachePrefix:     get("MERIDIAN_CACHE_PREFIX"),
		AMQPURL:         get("AMQP_URL"),
		MongoURI:        get("MONGODB_URI"),
		MongoDatabase:   get("MONGODB_DATABASE"),
		LoaderWait:      dur("MERIDIAN_LOADER_WAIT"),
		RequestTimeout:  dur("MERIDIAN_REQUEST_TIMEOUT"),
		ShutdownTimeout: dur("MERIDIAN_SHUTDOWN_TIMEOUT"),
		ShutdownDelay:   durOrZero("MERIDIAN_SHUTDOWN_DELAY"),
		ModelRefit:      dur("MERIDIAN_MODEL_REFIT"),
		ChurnHorizon:    dur("MERIDIAN_CHURN_HORIZON"),
	}
	c.OutboxPublishTimeout = dur("MERIDIAN_OUTBOX_PUBLISH_TIMEOUT")
	num := func(name string) float64 {
		f, err := strconv.ParseFloat(get(name), 64)
		if err != nil {
			bad(name, fmt.Errorf("want a number, got %q", get(name)))
		}
		return f
	}
	c.Thresholds = engine.Thresholds{DormantDays: num("MERIDIAN_DORMANT_DAYS"), AtRiskChurn: num("MERIDIAN_AT_RISK_CHURN"), VIPTopShare: num("MERIDIAN_VIP_TOP_SHARE")}
	if err := c.Thresholds.Validate(); err != nil {
		bad("MERIDIAN_DORMANT_DAYS, MERIDIAN_AT_RISK_CHURN, MERIDIAN_VIP_TOP_SHARE", err)
	}
	c.CLVDiscount = num("MERIDIAN_CLV_MONTHLY_DISCOUNT")
	if !(c.CLVDiscount >= 0 && c.CLVDiscount < 1) {
		bad("MERIDIAN_CLV_MONTHLY_DISCOUNT", fmt.Errorf("want a rate in [0, 1), got %v", c.CLVDiscount))
	}
	var cerr error
	if c.CLVMonths, cerr = strconv.Atoi(get("MERIDIAN_CLV_MONTHS")); cerr != nil || c.CLVMonths < 1 || c.CLVMonths > 120 {
		bad("MERIDIAN_CLV_MONTHS", fmt.Errorf("want 1 to 120 months, got %q", get("MERIDIAN_CLV_MONTHS")))
	}
	var err error
	for _, t := range strings.Split(get("MERIDIAN_EVENT_TYPES"), ",") {
		if t = strings.TrimSpace(t); t != "" {
			c.EventTypes = append(c.EventTypes, t)
		}
	}
	if len(c.EventTypes) == 0 {
		bad("MERIDIAN_EVENT_TYPES", fmt.Errorf("want at least one type"))
	}
	switch v := get("MERIDIAN_UNKNOWN_EVENT_TYPES"); v {
	case "reject":
	case "accept":
		c.AcceptUnknown = true
	default:
		bad("MERIDIAN_UNKNOWN_EVENT_TYPES", fmt.Errorf("want reject or accept, got %q", v))
	}
	if v := get("MERIDIAN_EVENT_RETENTION"); v != "0" {
		d, err := time.ParseDuration(v)
		if err != nil || d < time.Hour {
			bad("MERIDIAN_EVENT_RETENTION", fmt.Errorf("want 0 or a duration of at least 1h, got %q", v))
		}
		c.EventRetention = d
	}
	if c.DemoSeed, err = strconv.ParseBool(get("MERIDIAN_DEMO_SEED")); err != nil {
		bad("MERIDIAN_DEMO_SEED", err)
	}
	if c.DemoUsers, err = strconv.Atoi(get("MERIDIAN_DEMO_USERS")); err != nil || c.DemoUsers < 0 {
		bad("MERIDIAN_DEMO_USERS", fmt.Errorf("want a non-negative integer, got %q", get("MERIDIAN_DEMO_USERS")))
	}
	if err := c.LogLevel.UnmarshalText([]byte(get("MERIDIAN_LOG_LEVEL"))); err != nil {
		bad("MERIDIAN_LOG_LEVEL", err)
	}
	switch f := get("MERIDIAN_LOG_FORMAT"); f {
	case "text":
	case "json":
		c.LogJSON = true
	default:
		bad("MERIDIAN_LOG_FORMAT", fmt.Errorf("want text or json, got %q", f))
	}
	switch env := get("MERIDIAN_ENV"); env {
	case "development":
	case "production":
		c.Production = true
	default:
		bad("MERIDIAN_ENV", fmt.Errorf("want development or production, got %q", env))
	}
	switch v := strings.ToLower(get("MERIDIAN_ANONYMOUS_ROLE")); {
	case v == "" && c.Production, v == "none":
	case v == "":
		// The demo: everything an analyst reads, nothing written
		// (AnonymousWrites is off by default).
		c.AnonymousRole = auth.Analyst
	default:
		if c.AnonymousRole, err = auth.ParseRole(v); err != nil {
			bad("MERIDIAN_ANONYMOUS_ROLE", err)
		}
	}
	if c.ResultCache, err = strconv.ParseBool(get("MERIDIAN_RESULT_CACHE")); err != nil {
		bad("MERIDIAN_RESULT_CACHE", err)
	}
	if c.AnonymousWrites, err = strconv.ParseBool(get("MERIDIAN_ANONYMOUS_WRITES")); err != nil {
		bad("MERIDIAN_ANONYMOUS_WRITES", err)
	}
	for _, p := range strings.Split(get("MERIDIAN_TRUSTED_PROXIES"), ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		prefix, err := netip.ParsePrefix(p)
		if err != nil {
			a, aerr := netip.ParseAddr(p)
			if aerr != nil {
				bad("MERIDIAN_TRUSTED_PROXIES", fmt.Errorf("%q is neither a CIDR nor an address", p))
				continue
			}
			prefix = netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen())
		}
		c.TrustedProxies = append(c.TrustedProxies, prefix.Masked())
	}
	if c.Pprof, err = strconv.ParseBool(get("MERIDIAN_PPROF")); err != nil {
		bad("MERIDIAN_PPROF", err)
	} else if c.Pprof && c.MetricsAddr == "" {
		bad("MERIDIAN_PPROF", errors.New("needs MERIDIAN_METRICS_ADDR: profiles are served on the private listener only"))
	}
	if c.MetricsAddr != "" && c.MetricsAddr == c.Addr {
		bad("MERIDIAN_METRICS_ADDR", errors.New("must differ from MERIDIAN_ADDR (leave it empty to serve /metrics there)"))
	}
	c.JWT = auth.JWTConfig{Secret: []byte(get("MERIDIAN_JWT_SECRET")), JWKSFile: get("MERIDIAN_JWT_JWKS_FILE"), Issuer: get("MERIDIAN_JWT_ISSUER"), Audience: get("MERIDIAN_JWT_AUDIENCE")}
	if n := len(c.JWT.Secret); n > 0 && n < 32 {
		bad("MERIDIAN_JWT_SECRET", fmt.Errorf("want at least 32 bytes, got %d", n))
	}
	intArg := func(name string, min int) int {
		n, err := strconv.Atoi(get(name))
		if err != nil || n < min {
			bad(name, fmt.Errorf("want an integer of at least %d, got %q", min, get(name)))
		}
		return n
	}
	c.DBPool = database.Pool{MaxConns: intArg("MERIDIAN_DB_MAX_CONNS", 1), IdleTimeout: dur("MERIDIAN_DB_IDLE_TIMEOUT")}
	if c.MigrateAllowDestructive, err = strconv.ParseBool(get("MERIDIAN_MIGRATE_ALLOW_DESTRUCTIVE")); err != nil {
		bad("MERIDIAN_MIGRATE_ALLOW_DESTRUCTIVE", err)
	}
	for _, o := range strings.Split(get("MERIDIAN_CORS_ORIGINS"), ",") {
		if o = strings.TrimSpace(o); o != "" {
			c.CORS.AllowedOrigins = append(c.CORS.AllowedOrigins, o)
		}
	}
	if c.CORS.AllowCredentials, err = strconv.ParseBool(get("MERIDIAN_CORS_CREDENTIALS")); err != nil {
		bad("MERIDIAN_CORS_CREDENTIALS", err)
	}
	c.CORS.MaxAge = 10 * time.Minute
	if v := get("MERIDIAN_SLOW_QUERY"); v != "0" {
		c.SlowQuery = dur("MERIDIAN_SLOW_QUERY")
	}
	if c.LiveFanout, err = strconv.ParseBool(get("MERIDIAN_LIVE_FANOUT")); err != nil {
		bad("MERIDIAN_LIVE_FANOUT", err)
	}
	if c.CompiledReads, err = strconv.ParseBool(get("MERIDIAN_COMPILED_READS")); err != nil {
		bad("MERIDIAN_COMPILED_READS", err)
	}
	c.OTLPEndpoint, c.OTLPTraces = get("OTEL_EXPORTER_OTLP_ENDPOINT"), get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
	if c.TraceFields, err = strconv.ParseBool(get("MERIDIAN_TRACE_FIELDS")); err != nil {
		bad("MERIDIAN_TRACE_FIELDS", err)
	}
	c.Limits = limits.DefaultConfig()
	c.Limits.MaxDepth, c.Limits.MaxCost, c.Limits.MaxAliases = intArg("MERIDIAN_MAX_DEPTH", 0), intArg("MERIDIAN_MAX_COST", 0), intArg("MERIDIAN_MAX_ALIASES", 0)
	c.Limits.MaxTokens, c.Limits.MaxFirst = intArg("MERIDIAN_MAX_TOKENS", 0), intArg("MERIDIAN_MAX_FIRST", 1)
	c.MaxBodyBytes = int64(intArg("MERIDIAN_MAX_BODY_BYTES", 1024))
	c.WSMaxOperations = intArg("MERIDIAN_WS_MAX_OPERATIONS", 1)
	c.RateBurst = intArg("MERIDIAN_RATE_BURST", 1)
	c.ReadTimeout, c.IdleTimeout = dur("MERIDIAN_READ_TIMEOUT"), dur("MERIDIAN_IDLE_TIMEOUT")
	c.ExportIdleTimeout = dur("MERIDIAN_EXPORT_IDLE_TIMEOUT")
	c.RateLimit = num("MERIDIAN_RATE_LIMIT")
	if c.RateLimit < 0 {
		bad("MERIDIAN_RATE_LIMIT", fmt.Errorf("want 0 or more requests per second, got %v", c.RateLimit))
	}
	c.Limits.Introspection = !c.Production
	if v := get("MERIDIAN_INTROSPECTION"); v != "" {
		if c.Limits.Introspection, err = strconv.ParseBool(v); err != nil {
			bad("MERIDIAN_INTROSPECTION", err)
		}
	}
	// The IDE is a developer's tool: production leaves it off unless asked,
	// like introspection, which it needs for completion and the explorer.
	c.GraphiQL = !c.Production
	if v := get("MERIDIAN_GRAPHIQL"); v != "" {
		if c.GraphiQL, err = strconv.ParseBool(v); err != nil {
			bad("MERIDIAN_GRAPHIQL", err)
		}
	}
	c.MetricsToken = get("MERIDIAN_METRICS_TOKEN")
	c.AuthFailureBurst = intArg("MERIDIAN_AUTH_FAILURE_BURST", 1)
	if c.AuthFailuresPerMinute = num("MERIDIAN_AUTH_FAILURES_PER_MINUTE"); c.AuthFailuresPerMinute < 0 {
		bad("MERIDIAN_AUTH_FAILURES_PER_MINUTE", fmt.Errorf("want 0 or more failures per minute, got %v", c.AuthFailuresPerMinute))
	}
	if c.Production {
		productionHardening(c, bad)
	}
	if c.Production {
		// Production never runs on the embedded defaults: each of these
		// would silently lose data or consistency across replicas.
		for name, v := range map[string]string{"DATABASE_URL": c.DatabaseURL, "REDIS_URL": c.RedisURL, "AMQP_URL": c.AMQPURL} {
			if v == "" {
				bad(name, errors.New("required when MERIDIAN_ENV=production (the embedded default is for development)"))
			}
		}
		if c.AnonymousRole == auth.Admin || c.AnonymousRole == auth.Analyst {
			bad("MERIDIAN_ANONYMOUS_ROLE", fmt.Errorf("%s for anonymous callers is refused in production", c.AnonymousRole))
		}
		if c.AnonymousWrites {
			bad("MERIDIAN_ANONYMOUS_WRITES", errors.New("anonymous writes are refused in production"))
		}
	}
	if len(errs) > 0 {
		sort.Strings(errs)
		return c, fmt.Errorf("configuration: %s", strings.Join(errs, "; "))
	}
	return c, nil
}

// productionHardening reports, through bad, what production refuses of
// issue 12's findings: /metrics (queue depths, cache stats that GraphQL
// shows to admins only) open on the API port, and a limit switched off
// (0 means "no limit", a hole rather than a setting).
func productionHardening(c Config, bad func(string, error)) {
	if c.MetricsAddr == "" && c.MetricsToken == "" {
		bad("MERIDIAN_METRICS_TOKEN", errors.New("production needs MERIDIAN_METRICS_ADDR (a listener of its own) or MERIDIAN_METRICS_TOKEN: /metrics must not be public"))
	}
	for name, off := range map[string]bool{
		"MERIDIAN_MAX_DEPTH":                c.Limits.MaxDepth == 0,
		"MERIDIAN_MAX_COST":                 c.Limits.MaxCost == 0,
		"MERIDIAN_MAX_TOKENS":               c.Limits.MaxTokens == 0,
		"MERIDIAN_MAX_ALIASES":              c.Limits.MaxAliases == 0,
		"MERIDIAN_RATE_LIMIT":               c.RateLimit == 0,
		"MERIDIAN_AUTH_FAILURES_PER_MINUTE": c.AuthFailuresPerMinute == 0,
	} {
		if off {
			bad(name, errors.New("0 turns the limit off, which production refuses"))
		}
	}
}

// PrintHelp writes the variables, each as a line "NAME (default: …)" and
// its meaning indented below, wrapped to width columns (a table of three
// columns was some 250 wide).
func PrintHelp(w io.Writer, width int) {
	const indent = "    "
	for _, v := range Vars() {
		d := v.Default
		if d == "" {
			d = "empty"
		}
		fmt.Fprintf(w, "%s (default: %s)\n", v.Name, d)
		for _, line := range wrap(v.Help, max(width-len(indent), 20)) {
			fmt.Fprintf(w, "%s%s\n", indent, line)
		}
	}
}

// wrap breaks text into lines of at most width columns at spaces (a word
// longer than width gets a line of its own).
func wrap(text string, width int) []string {
	var lines []string
	line := ""
	for _, word := range strings.Fields(text) {
		switch {
		case line == "":
			line = word
		case utf8.RuneCountInString(line)+1+utf8.RuneCountInString(word) <= width:
			line += " " + word
		default:
			lines = append(lines, line)
			line = word
		}
	}
	if line != "" {
		lines = append(lines, line)
	}
	return lines
}
