package main

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/meridian-graphql/meridian/auth"
	"github.com/meridian-graphql/meridian/platform/observe"
)

// The monitoring kit: deploy/prometheus (scrape configuration, alert rules),
// deploy/grafana (provisioning, the dashboard) and the compose file's
// monitoring profile. These tests keep it in step with the code: every
// metric a PromQL expression names is one the server exports, with the
// labels the expression selects on. promtool is not available here, and
// github.com/prometheus/prometheus (its PromQL parser) is far too heavy a
// module to require for a test, so the rules' structure is checked and
// their PromQL only for the metric and label names it uses.

const (
	dashboardFile  = "deploy/grafana/dashboards/meridian.json"
	alertsFile     = "deploy/prometheus/alerts.yml"
	prometheusFile = "deploy/prometheus/prometheus.yml"
	composeFile    = "docker-compose.yml"
)

// promSelector finds a metric name and, when it has them, its label
// matchers: meridian_x_total{code=~"5..",route!="/readyz"}. Only the
// families Meridian exports (and Prometheus's own up) are looked for.
var (
	promSelector = regexp.MustCompile(`\b((?:meridian|go|process)_[a-z0-9_]+|up)\b(\{[^}]*\})?`)
	promMatcher  = regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)\s*"`)
	// promGrouping finds by (…) / without (…) / on (…) clauses.
	promGrouping = regexp.MustCompile(`\b(?:by|without|on|ignoring)\s*\(([^)]*)\)`)
)

// selector is one metric named in an expression, with the labels the
// expression selects or groups it on.
type selector struct {
	metric string
	labels []string
}

// selectors are the metrics of expr and the labels it uses on them. The
// labels of by (…) clauses are attributed to every metric of the
// expression: each must carry them.
func selectors(expr string) []selector {
	var grouped []string
	for _, m := range promGrouping.FindAllStringSubmatch(expr, -1) {
		for l := range strings.SplitSeq(m[1], ",") {
			if l = strings.TrimSpace(l); l != "" && l != "le" {
				grouped = append(grouped, l)
			}
		}
	}
	var out []selector
	for _, m := range promSelector.FindAllStringSubmatch(expr, -1) {
		s := selector{metric: m[1]}
		for _, lm := range promMatcher.FindAllStringSubmatch(m[2], -1) {
			s.labels = append(s.labels, lm[1])
		}
		if s.metric != "up" {
			s.labels = append(s.labels, grouped...)
		}
		out = append(out, s)
	}
	return out
}

// dashboard is the part of the Grafana dashboard JSON these tests read.
type dashboard struct {
	UID        string `json:"uid"`
	Title      string `json:"title"`
	Templating struct {
		List []struct {
			Name  string `json:"name"`
			Type  string `json:"type"`
			Query any    `json:"query"`
		} `json:"list"`
	} `json:"templating"`
	Panels []dashboardPanel `json:"panels"`
}

type dashboardPanel struct {
	ID         int    `json:"id"`
	Type       string `json:"type"`
	Title      string `json:"title"`
	Datasource *struct {
		Type string `json:"type"`
		UID  string `json:"uid"`
	} `json:"datasource"`
	GridPos struct{ H, W, X, Y int } `json:"gridPos"`
	Targets []struct {
		RefID string `json:"refId"`
		Expr  string `json:"expr"`
	} `json:"targets"`
}

func readDashboard(t *testing.T) dashboard {
	t.Helper()
	b, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("%s: %v", dashboardFile, err)
	}
	return d
}

// alertRules is deploy/prometheus/alerts.yml.
type alertRules struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []struct {
			Alert       string            `yaml:"alert"`
			Record      string            `yaml:"record"`
			Expr        string            `yaml:"expr"`
			For         string            `yaml:"for"`
			Labels      map[string]string `yaml:"labels"`
			Annotations map[string]string `yaml:"annotations"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

// readYAML decodes path into v; strict refuses the keys v does not name.
func readYAML(t *testing.T, path string, v any, strict bool) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var opts []yaml.DecodeOption
	if strict {
		opts = append(opts, yaml.Strict())
	}
	if err := yaml.UnmarshalWithOptions(b, v, opts...); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// expressions are every PromQL expression of the dashboard and the alert
// rules, each with where it comes from.
func expressions(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, p := range readDashboard(t).Panels {
		for _, tg := range p.Targets {
			out[fmt.Sprintf("%s: panel %q %s", dashboardFile, p.Title, tg.RefID)] = tg.Expr
		}
	}
	var rules alertRules
	readYAML(t, alertsFile, &rules, true)
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			out[fmt.Sprintf("%s: %s", alertsFile, r.Alert)] = r.Expr
		}
	}
	return out
}

// scrapeJob is the job name prometheus.yml gives the API replicas.
func scrapeJob(t *testing.T) string {
	t.Helper()
	var cfg struct {
		RuleFiles     []string `yaml:"rule_files"`
		ScrapeConfigs []struct {
			JobName       string `yaml:"job_name"`
			MetricsPath   string `yaml:"metrics_path"`
			Authorization struct {
				Type            string `yaml:"type"`
				CredentialsFile string `yaml:"credentials_file"`
			} `yaml:"authorization"`
			StaticConfigs []struct {
				Targets []string `yaml:"targets"`
			} `yaml:"static_configs"`
		} `yaml:"scrape_configs"`
	}
	b, err := os.ReadFile(prometheusFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, &cfg); err != nil {
		t.Fatalf("%s: %v", prometheusFile, err)
	}
	for _, sc := range cfg.ScrapeConfigs {
		var targets []string
		for _, st := range sc.StaticConfigs {
			targets = append(targets, st.Targets...)
		}
		if slices.Contains(targets, "api1:9090") {
			if !slices.Contains(targets, "api2:9090") || sc.MetricsPath != "/metrics" || sc.Authorization.Type != "Bearer" || sc.Authorization.CredentialsFile == "" {
				t.Errorf("%s: job %s: want api1:9090 and api2:9090 on /metrics with a bearer token file, got %+v", prometheusFile, sc.JobName, sc)
			}
			return sc.JobName
		}
	}
	t.Fatalf("%s scrapes no api1:9090 (docker-compose.yml's MERIDIAN_METRICS_ADDR)", prometheusFile)
	return ""
}

// TestAlertRulesAreWellFormed checks what promtool check rules would of
// the rule file's shape: groups of named rules, each alert with an
// expression, a duration, a severity and the annotations the docs rely
// on; the alerts the operator docs describe are all there, once.
func TestAlertRulesAreWellFormed(t *testing.T) {
	var rules alertRules
	readYAML(t, alertsFile, &rules, true)
	if len(rules.Groups) == 0 {
		t.Fatal("no rule groups")
	}
	duration := regexp.MustCompile(`^([0-9]+(ms|s|m|h|d|w|y))+$`)
	name := regexp.MustCompile(`^Meridian[A-Z][A-Za-z0-9]+$`)
	seen := map[string]bool{}
	groups := map[string]bool{}
	for _, g := range rules.Groups {
		if g.Name == "" || groups[g.Name] || len(g.Rules) == 0 {
			t.Errorf("group %q: needs a unique name and rules", g.Name)
		}
		groups[g.Name] = true
		for _, r := range g.Rules {
			switch {
			case r.Record != "":
				t.Errorf("%s: recording rule %s: the dashboard and alerts use none", g.Name, r.Record)
			case !name.MatchString(r.Alert) || seen[r.Alert]:
				t.Errorf("%s: alert %q: want a unique Meridian… name", g.Name, r.Alert)
			}
			seen[r.Alert] = true
			if strings.TrimSpace(r.Expr) == "" || strings.Count(r.Expr, "(") != strings.Count(r.Expr, ")") {
				t.Errorf("%s: expr %q: empty or unbalanced", r.Alert, r.Expr)
			}
			if r.For != "" && !duration.MatchString(r.For) {
				t.Errorf("%s: for %q is not a Prometheus duration", r.Alert, r.For)
			}
			if s := r.Labels["severity"]; s != "critical" && s != "warning" && s != "info" {
				t.Errorf("%s: severity %q, want critical, warning or info", r.Alert, s)
			}
			for _, a := range []string{"summary", "description"} {
				if strings.TrimSpace(r.Annotations[a]) == "" {
					t.Errorf("%s: no %s annotation", r.Alert, a)
				}
			}
		}
	}
	docs, err := os.ReadFile("docs/deployment.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"MeridianDeadLettersAppeared", "MeridianDeadLettersWaiting", "MeridianOutboxBacklog", "MeridianOutboxStalled",
		"MeridianCacheBreakerOpen", "MeridianReplicaNotReady", "MeridianReplicaDown", "MeridianNoReplicaReady", "MeridianHigh5xxRatio",
	} {
		if !seen[want] {
			t.Errorf("alert %s missing", want)
		}
	}
	for a := range seen {
		if !strings.Contains(string(docs), a) {
			t.Errorf("docs/deployment.md does not say what %s means", a)
		}
	}
	job := scrapeJob(t)
	for where, expr := range expressions(t) {
		for _, s := range selectors(expr) {
			if s.metric == "up" && !strings.Contains(expr, `up{job="`+job+`"`) {
				t.Errorf("%s: up without job=%q (prometheus.yml's job)", where, job)
			}
		}
	}
}

// TestGrafanaDashboardIsWellFormed: the dashboard parses, its panels have
// unique ids, sit on the 24-column grid without overlapping, and query
// the data source variable; it has the panels the kit promises (by the
// metrics they read), and the hit ratio comes from the counters' rates.
func TestGrafanaDashboardIsWellFormed(t *testing.T) {
	d := readDashboard(t)
	if d.UID == "" || d.Title == "" {
		t.Fatal("no uid or title")
	}
	vars := map[string]string{}
	for _, v := range d.Templating.List {
		vars[v.Name] = v.Type
	}
	if vars["datasource"] != "datasource" || vars["instance"] != "query" {
		t.Errorf("template variables %v: want datasource (a data source) and instance (a query)", vars)
	}
	ids := map[int]bool{}
	type cell struct{ x, y int }
	taken := map[cell]string{}
	var exprs []string
	for _, p := range d.Panels {
		if ids[p.ID] || p.ID == 0 {
			t.Errorf("panel %q: id %d missing or not unique", p.Title, p.ID)
		}
		ids[p.ID] = true
		g := p.GridPos
		if g.W <= 0 || g.H <= 0 || g.X < 0 || g.X+g.W > 24 {
			t.Errorf("panel %q: gridPos %+v off the 24-column grid", p.Title, g)
		}
		for x := g.X; x < g.X+g.W; x++ {
			for y := g.Y; y < g.Y+g.H; y++ {
				if other, ok := taken[cell{x, y}]; ok {
					t.Fatalf("panel %q overlaps %q at %d,%d", p.Title, other, x, y)
				}
				taken[cell{x, y}] = p.Title
			}
		}
		if p.Type == "row" {
			continue
		}
		if p.Title == "" || len(p.Targets) == 0 {
			t.Errorf("panel %d: no title or no queries", p.ID)
		}
		if p.Datasource == nil || p.Datasource.Type != "prometheus" || p.Datasource.UID != "${datasource}" {
			t.Errorf("panel %q: data source %+v, want prometheus ${datasource}", p.Title, p.Datasource)
		}
		for _, tg := range p.Targets {
			if strings.TrimSpace(tg.Expr) == "" || strings.Count(tg.Expr, "(") != strings.Count(tg.Expr, ")") {
				t.Errorf("panel %q %s: expr %q empty or unbalanced", p.Title, tg.RefID, tg.Expr)
			}
			exprs = append(exprs, tg.Expr)
		}
	}
	all := strings.Join(exprs, "\n")
	for _, want := range []string{
		`sum by (route) (rate(meridian_http_requests_total`,
		`histogram_quantile(0.5, sum by (le, route) (rate(meridian_http_request_duration_seconds_bucket`,
		`histogram_quantile(0.99, sum by (le, route) (rate(meridian_http_request_duration_seconds_bucket`,
		`sum by (code) (rate(meridian_graphql_errors_total`,
		`rate(meridian_cache_hits_total`, `rate(meridian_cache_misses_total`,
		`meridian_cache_breaker_open`, `meridian_outbox_pending`, `meridian_outbox_oldest_pending_age_seconds`,
		`rate(meridian_bus_published_total`, `rate(meridian_bus_consumed_total`, `outcome="dead_letter"`, `meridian_bus_dead_letters`,
		`meridian_live_subscribers`, `meridian_live_groups`, `rate(meridian_live_executions_total`,
		`go_sql_in_use_connections`, `go_sql_wait_count_total`, `go_goroutines`, `go_memstats_heap_alloc_bytes`, `meridian_ready`,
	} {
		if !strings.Contains(all, want) {
			t.Errorf("no panel queries %s", want)
		}
	}
	if strings.Contains(all, "meridian_cache_hit_ratio") {
		t.Error("a panel reads the removed since-start hit ratio gauge")
	}
}

// TestMonitoringProfile: the compose file runs Prometheus and Grafana
// only under the monitoring profile, with pinned images, Grafana alone
// published and on the host's loopback; the files they mount are the
// ones in deploy/ and the paths the configurations name.
func TestMonitoringProfile(t *testing.T) {
	type service struct {
		Image    string   `yaml:"image"`
		Profiles []string `yaml:"profiles"`
		Ports    []string `yaml:"ports"`
		Volumes  []string `yaml:"volumes"`
		Tmpfs    []string `yaml:"tmpfs"`
		Networks []string `yaml:"networks"`
	}
	var compose struct {
		Services map[string]service `yaml:"services"`
		Networks map[string]struct {
			Internal bool `yaml:"internal"`
		} `yaml:"networks"`
	}
	b, err := os.ReadFile(composeFile)
	if err != nil {
		t.Fatal(err)
	}
	// A service's own keys override those of the <<: *api it merges.
	if err := yaml.UnmarshalWithOptions(b, &compose, yaml.AllowDuplicateMapKey()); err != nil {
		t.Fatalf("%s: %v", composeFile, err)
	}
	pinned := regexp.MustCompile(`^[a-z0-9./-]+:v?[0-9]+\.[0-9]+\.[0-9]+$`)
	mounts := map[string]string{} // container path → host path
	for _, name := range []string{"prometheus", "grafana"} {
		s, ok := compose.Services[name]
		if !ok {
			t.Fatalf("no %s service", name)
		}
		if !slices.Equal(s.Profiles, []string{"monitoring"}) {
			t.Errorf("%s: profiles %v, want [monitoring]", name, s.Profiles)
		}
		if !pinned.MatchString(s.Image) {
			t.Errorf("%s: image %q is not pinned to a release", name, s.Image)
		}
		for _, v := range s.Volumes {
			parts := strings.Split(v, ":")
			if strings.HasPrefix(parts[0], "./") {
				if _, err := os.Stat(parts[0]); err != nil {
					t.Errorf("%s mounts %s: %v", name, parts[0], err)
				}
				mounts[parts[1]] = parts[0]
			}
		}
		for _, n := range s.Networks {
			if _, ok := compose.Networks[n]; !ok {
				t.Errorf("%s: network %s is not declared", name, n)
			}
		}
	}
	if p := compose.Services["prometheus"]; len(p.Ports) != 0 || !slices.Contains(p.Networks, "edge") || !slices.Contains(p.Tmpfs, "/run/prometheus") {
		t.Errorf("prometheus: ports %v (want none), networks %v (want edge, where api1 and api2 serve /metrics), tmpfs %v (the token file)", p.Ports, p.Networks, p.Tmpfs)
	}
	if g := compose.Services["grafana"]; !slices.Equal(g.Ports, []string{"127.0.0.1:3000:3000"}) {
		t.Errorf("grafana: ports %v, want 127.0.0.1:3000:3000 only", g.Ports)
	}
	if !compose.Networks["monitoring"].Internal {
		t.Error("the monitoring network is not internal")
	}
	for container, host := range map[string]string{
		"/etc/prometheus/prometheus.yml": prometheusFile,
		"/etc/prometheus/alerts.yml":     alertsFile,
		"/etc/grafana/provisioning":      "deploy/grafana/provisioning",
		"/etc/grafana/dashboards":        filepath.Dir(dashboardFile),
	} {
		if mounts[container] != "./"+host {
			t.Errorf("%s is mounted from %q, want ./%s", container, mounts[container], host)
		}
	}
	prom, _ := os.ReadFile(prometheusFile)
	for _, want := range []string{"- /etc/prometheus/alerts.yml", "credentials_file: /run/prometheus/metrics_token"} {
		if !strings.Contains(string(prom), want) {
			t.Errorf("%s does not say %q", prometheusFile, want)
		}
	}
	var provider struct {
		Providers []struct {
			Options struct {
				Path string `yaml:"path"`
			} `yaml:"options"`
		} `yaml:"providers"`
	}
	readYAML(t, "deploy/grafana/provisioning/dashboards/meridian.yml", &provider, false)
	if len(provider.Providers) != 1 || provider.Providers[0].Options.Path != "/etc/grafana/dashboards" {
		t.Errorf("dashboard provider %+v, want one on /etc/grafana/dashboards", provider)
	}
	var ds struct {
		Datasources []struct {
			Type string `yaml:"type"`
			URL  string `yaml:"url"`
		} `yaml:"datasources"`
	}
	readYAML(t, "deploy/grafana/provisioning/datasources/prometheus.yml", &ds, false)
	if len(ds.Datasources) != 1 || ds.Datasources[0].Type != "prometheus" || ds.Datasources[0].URL != "http://prometheus:9090" {
		t.Errorf("data sources %+v, want the prometheus service", ds)
	}
}

// exposition is a /metrics page read back: each sample's name with the
// label names seen on it.
type exposition map[string]map[string]bool

func parseExposition(page string) exposition {
	label := regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)="`)
	out := exposition{}
	for line := range strings.SplitSeq(page, "\n") {
		if line == "" || line[0] == '#' {
			continue
		}
		end := strings.IndexAny(line, "{ ")
		if end < 0 {
			continue
		}
		name := line[:end]
		if out[name] == nil {
			out[name] = map[string]bool{}
		}
		if line[end] == '{' {
			if close := strings.Index(line, "}"); close > end {
				for _, m := range label.FindAllStringSubmatch(line[end:close], -1) {
					out[name][m[1]] = true
				}
			}
		}
	}
	return out
}

// describedNames are the metric names NewMetrics registers, as openMetrics
// builds it (every source), whether or not they have a series yet: a
// labelled vector shows on /metrics only once a label value was used
// (meridian_bus_redelivered_total after a redelivery).
func describedNames(t *testing.T) map[string]bool {
	t.Helper()
	db, err := sql.Open("sqlite", ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	m, err := observe.NewMetrics(nil, observe.MetricsOptions{SQL: db, Sources: observe.Sources{
		Cache: func() observe.CacheStats { return observe.CacheStats{} },
		Live:  func() observe.LiveStats { return observe.LiveStats{} },
	}})
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan *prometheus.Desc)
	go func() { m.Registry().Describe(ch); close(ch) }()
	fq := regexp.MustCompile(`fqName: "([^"]+)"`)
	out := map[string]bool{}
	for d := range ch {
		if s := fq.FindStringSubmatch(d.String()); s != nil {
			out[s[1]] = true
		}
	}
	return out
}

// TestMonitoringMetricsExist starts the production server (PostgreSQL,
// Redis, RabbitMQ, a metrics token), serves a few requests of each kind
// (a query, a GraphQL error, a sign-up through the outbox and the bus,
// /readyz, a path of random segments), scrapes /metrics over HTTP as
// Prometheus does, with the bearer token, and checks that every metric the
// dashboard and the alert rules name is exported, with the labels they
// select or group on. It also checks the route label on the real
// handler: /query, /readyz and "unmatched", never the random path.
func TestMonitoringMetricsExist(t *testing.T) {
	const token = "monitoring-test-token"
	s := startProduction(t, map[string]string{"MERIDIAN_METRICS_TOKEN": token})
	viewer, admin := s.Keys[auth.Viewer], s.Keys[auth.Admin]
	if r := s.gql(t, viewer, `query Countries { countries(first: 2) { edges { node { code } } } }`, nil); len(r.Errors) > 0 {
		t.Fatalf("query: %+v", r.Errors)
	}
	if r := s.gql(t, viewer, `{ nope }`, nil); r.Code() != "GRAPHQL_VALIDATION_FAILED" {
		t.Fatalf("a bad field answered %q, want GRAPHQL_VALIDATION_FAILED", r.Code())
	}
	if r := s.gql(t, admin, `mutation($u: String!, $e: String!) { createUser(input: {username: $u, email: $e}) { id } }`,
		map[string]any{"u": "monitoring", "e": "monitoring@example.com"}); len(r.Errors) > 0 {
		t.Fatalf("sign-up: %+v", r.Errors)
	}
	random := fmt.Sprintf("/zq%x/%x/x", time.Now().UnixNano(), time.Now().UnixNano()>>7)
	for _, path := range []string{"/readyz", random, "/healthz"} {
		if res, _ := s.get(t, path); path == random && res.StatusCode != http.StatusNotFound {
			t.Fatalf("GET %s: %d, want 404", path, res.StatusCode)
		}
	}

	scrape := func(credential string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, "http://"+s.MetricsAddr+"/metrics", nil)
		if credential != "" {
			req.Header.Set("Authorization", credential)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	if code, _ := scrape(""); code != http.StatusUnauthorized {
		t.Errorf("/metrics without the token: %d, want 401", code)
	}
	// The sign-up's event goes out through the outbox and comes back from
	// the bus to the consumers: wait for both counters.
	var page string
	deadline := time.Now().Add(30 * time.Second)
	for {
		code, p := scrape("Bearer " + token)
		if code != http.StatusOK {
			t.Fatalf("/metrics with the token: %d", code)
		}
		page = p
		if strings.Contains(page, "meridian_bus_consumed_total{") && strings.Contains(page, "meridian_bus_published_total{") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no bus counters after 30 s:\n%s", grepLines(page, "meridian_bus"))
		}
		time.Sleep(200 * time.Millisecond)
	}

	got := parseExposition(page)
	for _, want := range []string{`route="/query"`, `route="/readyz"`, `route="/healthz"`, `route="unmatched"`} {
		if !strings.Contains(page, "meridian_http_requests_total{") || !strings.Contains(grepLines(page, "meridian_http_requests_total{"), want) {
			t.Errorf("meridian_http_requests_total has no %s:\n%s", want, grepLines(page, "meridian_http_requests_total{"))
		}
	}
	if seg := strings.Split(random, "/")[1]; strings.Contains(page, seg) {
		t.Errorf("the random path %s reached /metrics", random)
	}
	if !strings.Contains(page, "\nmeridian_ready 1") {
		t.Errorf("meridian_ready is not 1 after a successful /readyz:\n%s", grepLines(page, "meridian_ready"))
	}

	described := describedNames(t)
	prometheusOwn := map[string]bool{"up": true}
	onlyDescribed := map[string]bool{}
	exprs := expressions(t)
	wheres := make([]string, 0, len(exprs))
	for w := range exprs {
		wheres = append(wheres, w)
	}
	sort.Strings(wheres)
	names := 0
	for _, where := range wheres {
		for _, sel := range selectors(exprs[where]) {
			names++
			if prometheusOwn[sel.metric] {
				continue
			}
			labels, ok := got[sel.metric]
			if !ok {
				base := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(sel.metric, "_bucket"), "_sum"), "_count")
				if described[sel.metric] || described[base] {
					onlyDescribed[sel.metric] = true
					continue
				}
				t.Errorf("%s: %s is not a metric the server exports", where, sel.metric)
				continue
			}
			for _, l := range sel.labels {
				if l != "instance" && l != "job" && !labels[l] {
					t.Errorf("%s: %s has no label %q (it has %v)", where, sel.metric, l, keys(labels))
				}
			}
		}
	}
	if names < 50 {
		t.Errorf("only %d metric references found: is the regexp still right?", names)
	}
	t.Logf("%d metric references in %d expressions checked against the scrape; registered but without a series yet: %v", names, len(exprs), keys(onlyDescribed))
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// grepLines keeps the lines of page that contain s.
func grepLines(page, s string) string {
	var out []string
	for line := range strings.SplitSeq(page, "\n") {
		if strings.Contains(line, s) {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}
