package config

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestDefaults(t *testing.T) {
	c, err := Load(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != ":8080" || c.DatabaseURL != "" || c.DataDir != "./data" || !c.DemoSeed || c.DemoUsers != 2000 ||
		c.LoaderWait != 10*time.Millisecond || c.LogLevel != slog.LevelInfo || c.LogJSON {
		t.Errorf("defaults = %+v", c)
	}
}

func TestOverridesAndErrors(t *testing.T) {
	env := map[string]string{"MERIDIAN_ADDR": "127.0.0.1:9000", "MERIDIAN_LOG_FORMAT": "json", "MERIDIAN_LOG_LEVEL": "debug", "MERIDIAN_DEMO_SEED": "false"}
	c, err := Load(func(k string) string { return env[k] })
	if err != nil || c.Addr != "127.0.0.1:9000" || !c.LogJSON || c.LogLevel != slog.LevelDebug || c.DemoSeed {
		t.Fatalf("Load = %+v, %v", c, err)
	}
	env = map[string]string{"MERIDIAN_DEMO_USERS": "-3", "MERIDIAN_REQUEST_TIMEOUT": "0s", "MERIDIAN_LOG_LEVEL": "loud"}
	_, err = Load(func(k string) string { return env[k] })
	for _, name := range []string{"MERIDIAN_DEMO_USERS", "MERIDIAN_REQUEST_TIMEOUT", "MERIDIAN_LOG_LEVEL"} {
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("error %v does not name %s", err, name)
		}
	}
}

func TestHelpListsEveryVariableOnce(t *testing.T) {
	var b bytes.Buffer
	PrintHelp(&b, 80)
	for _, v := range Vars() {
		if n := strings.Count(b.String(), v.Name+" (default: "); n != 1 {
			t.Errorf("%s appears %d times in --help", v.Name, n)
		}
	}
	// Wrapped to the width asked for (a long default may overflow its
	// own line, nothing else).
	for _, line := range strings.Split(b.String(), "\n") {
		if utf8.RuneCountInString(line) > 80 && !strings.Contains(line, "(default: ") {
			t.Errorf("line wider than 80 columns: %q", line)
		}
	}
}

func TestAccessAndProduction(t *testing.T) {
	load := func(env map[string]string) (Config, error) { return Load(func(k string) string { return env[k] }) }
	c, err := load(nil)
	if err != nil || c.Production || c.AnonymousRole != "ANALYST" || c.AnonymousWrites {
		t.Fatalf("development default: anonymous %q (writes %v), %v", c.AnonymousRole, c.AnonymousWrites, err)
	}
	if c, _ := load(map[string]string{"MERIDIAN_ANONYMOUS_ROLE": "none"}); c.AnonymousRole != "" {
		t.Errorf("none gives %q", c.AnonymousRole)
	}
	// Production on the embedded defaults refuses to start, naming each
	// missing service.
	_, err = load(map[string]string{"MERIDIAN_ENV": "production"})
	for _, name := range []string{"DATABASE_URL", "REDIS_URL", "AMQP_URL"} {
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("production error %v does not name %s", err, name)
		}
	}
	prod := map[string]string{"MERIDIAN_ENV": "production", "DATABASE_URL": "postgres://db/x", "REDIS_URL": "redis://r", "AMQP_URL": "amqp://q", "MERIDIAN_METRICS_ADDR": ":9090"}
	c, err = load(prod)
	if err != nil || !c.Production || c.AnonymousRole != "" {
		t.Fatalf("production: anonymous %q, %v", c.AnonymousRole, err)
	}
	prod["MERIDIAN_ANONYMOUS_ROLE"] = "admin"
	if _, err := load(prod); err == nil || !strings.Contains(err.Error(), "MERIDIAN_ANONYMOUS_ROLE") {
		t.Errorf("anonymous admin in production accepted: %v", err)
	}
	prod["MERIDIAN_ANONYMOUS_ROLE"] = "viewer"
	if c, err := load(prod); err != nil || c.AnonymousRole != "VIEWER" {
		t.Errorf("anonymous viewer in production: %q, %v", c.AnonymousRole, err)
	}
	prod["MERIDIAN_ANONYMOUS_WRITES"] = "true"
	if _, err := load(prod); err == nil || !strings.Contains(err.Error(), "MERIDIAN_ANONYMOUS_WRITES") {
		t.Errorf("anonymous writes in production accepted: %v", err)
	}
	if _, err := load(map[string]string{"MERIDIAN_ANONYMOUS_WRITES": "maybe"}); err == nil {
		t.Error("MERIDIAN_ANONYMOUS_WRITES=maybe accepted")
	}
	if _, err := load(map[string]string{"MERIDIAN_JWT_SECRET": "short"}); err == nil || !strings.Contains(err.Error(), "MERIDIAN_JWT_SECRET") {
		t.Errorf("short JWT secret accepted: %v", err)
	}
	if _, err := load(map[string]string{"MERIDIAN_ANONYMOUS_ROLE": "root"}); err == nil {
		t.Error("unknown role accepted")
	}
}

func TestTrustedProxiesAndMetricsAddr(t *testing.T) {
	load := func(env map[string]string) (Config, error) { return Load(func(k string) string { return env[k] }) }
	c, err := load(map[string]string{"MERIDIAN_TRUSTED_PROXIES": "10.0.0.0/8, 192.168.1.7 ,::1,172.16.5.9/12", "MERIDIAN_METRICS_ADDR": ":9090"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"10.0.0.0/8", "192.168.1.7/32", "::1/128", "172.16.0.0/12"}
	if len(c.TrustedProxies) != len(want) {
		t.Fatalf("trusted proxies %v, want %v", c.TrustedProxies, want)
	}
	for i, p := range c.TrustedProxies {
		if p.String() != want[i] {
			t.Errorf("trusted proxy %d: %s, want %s", i, p, want[i])
		}
	}
	if c.MetricsAddr != ":9090" {
		t.Errorf("metrics address %q", c.MetricsAddr)
	}
	if _, err := load(map[string]string{"MERIDIAN_TRUSTED_PROXIES": "10.0.0.0/8,proxy.internal"}); err == nil || !strings.Contains(err.Error(), "proxy.internal") {
		t.Errorf("a host name as trusted proxy: %v", err)
	}
	if _, err := load(map[string]string{"MERIDIAN_METRICS_ADDR": ":8080"}); err == nil || !strings.Contains(err.Error(), "MERIDIAN_METRICS_ADDR") {
		t.Errorf("metrics on the API's own address accepted: %v", err)
	}
}

// Production refuses /metrics without its own listener or a token, and any
// limit at 0; the failure limit has its defaults.
func TestProductionHardening(t *testing.T) {
	load := func(env map[string]string) (Config, error) { return Load(func(k string) string { return env[k] }) }
	prod := func(extra ...string) map[string]string {
		env := map[string]string{"MERIDIAN_ENV": "production", "DATABASE_URL": "postgres://db/x", "REDIS_URL": "redis://r", "AMQP_URL": "amqp://q"}
		for i := 0; i+1 < len(extra); i += 2 {
			env[extra[i]] = extra[i+1]
		}
		return env
	}
	if _, err := load(prod()); err == nil || !strings.Contains(err.Error(), "MERIDIAN_METRICS_TOKEN") || !strings.Contains(err.Error(), "MERIDIAN_METRICS_ADDR") {
		t.Errorf("production with /metrics on the API port and no token: %v", err)
	}
	c, err := load(prod("MERIDIAN_METRICS_TOKEN", "s3cret"))
	if err != nil || c.MetricsToken != "s3cret" || c.AuthFailuresPerMinute != 10 || c.AuthFailureBurst != 20 {
		t.Fatalf("production with a metrics token: %+v, %v", c, err)
	}
	if _, err := load(prod("MERIDIAN_METRICS_ADDR", ":9090")); err != nil {
		t.Errorf("production with a metrics listener: %v", err)
	}
	for _, name := range []string{"MERIDIAN_MAX_DEPTH", "MERIDIAN_MAX_COST", "MERIDIAN_MAX_TOKENS", "MERIDIAN_MAX_ALIASES", "MERIDIAN_RATE_LIMIT", "MERIDIAN_AUTH_FAILURES_PER_MINUTE"} {
		_, err := load(prod("MERIDIAN_METRICS_ADDR", ":9090", name, "0"))
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("production with %s=0: %v, want a refusal", name, err)
		}
		if _, err := load(map[string]string{name: "0"}); err != nil {
			t.Errorf("development with %s=0: %v, want it allowed", name, err)
		}
	}
	if _, err := load(map[string]string{"MERIDIAN_AUTH_FAILURES_PER_MINUTE": "-1"}); err == nil {
		t.Error("a negative failure rate accepted")
	}
}

// TestGraphiQLSwitch: the IDE is on in development and off in production
// unless MERIDIAN_GRAPHIQL says otherwise.
func TestGraphiQLSwitch(t *testing.T) {
	load := func(env map[string]string) Config {
		t.Helper()
		c, err := Load(func(k string) string { return env[k] })
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	prod := func(graphiql string) map[string]string {
		return map[string]string{"MERIDIAN_ENV": "production", "DATABASE_URL": "postgres://db/x", "REDIS_URL": "redis://r", "AMQP_URL": "amqp://q", "MERIDIAN_METRICS_ADDR": ":9090", "MERIDIAN_GRAPHIQL": graphiql}
	}
	for _, tc := range []struct {
		name string
		env  map[string]string
		want bool
	}{
		{"development", nil, true},
		{"development, off", map[string]string{"MERIDIAN_GRAPHIQL": "false"}, false},
		{"production", prod(""), false},
		{"production, on", prod("true"), true},
	} {
		if got := load(tc.env).GraphiQL; got != tc.want {
			t.Errorf("%s: GraphiQL %v, want %v", tc.name, got, tc.want)
		}
	}
	if _, err := Load(func(k string) string { return map[string]string{"MERIDIAN_GRAPHIQL": "sometimes"}[k] }); err == nil || !strings.Contains(err.Error(), "MERIDIAN_GRAPHIQL") {
		t.Errorf("MERIDIAN_GRAPHIQL=sometimes: %v", err)
	}
}

// TestMigrateAllowDestructive: destructive migrations are refused at start
// unless MERIDIAN_MIGRATE_ALLOW_DESTRUCTIVE says otherwise.
func TestMigrateAllowDestructive(t *testing.T) {
	for v, want := range map[string]bool{"": false, "false": false, "true": true, "1": true} {
		c, err := Load(func(k string) string { return map[string]string{"MERIDIAN_MIGRATE_ALLOW_DESTRUCTIVE": v}[k] })
		if err != nil || c.MigrateAllowDestructive != want {
			t.Errorf("%q: %v, %v; want %v", v, c.MigrateAllowDestructive, err, want)
		}
	}
	if _, err := Load(func(k string) string { return map[string]string{"MERIDIAN_MIGRATE_ALLOW_DESTRUCTIVE": "maybe"}[k] }); err == nil || !strings.Contains(err.Error(), "MERIDIAN_MIGRATE_ALLOW_DESTRUCTIVE") {
		t.Errorf("a bad value: %v", err)
	}
}
