// Command load is the load generator of make bench-peers (issue 14): a closed
// loop of N clients POSTing one GraphQL workload to Meridian or PostGraphile
// for a fixed time, every response checked (HTTP 200, no errors), printing
// throughput, latency percentiles and the CPU the server process used.
//
//	load -target meridian -url http://127.0.0.1:P/query -workload W1 -pid PID [-c 16] [-d 20s] [-usernames FILE]
//	load -check -meridian URL -postgraphile URL -usernames FILE [-workloads W1,W2,W3,W4]
//	load -capture -url URL -workload W2 -usernames FILE -db DB -out FILE  (Meridian's SQL for pgbench)
//	load -settle -pid PID   (wait until the server is idle)
//	load -print -target meridian -workload W2 -usernames FILE   (the request body)
//	load -ceiling 127.0.0.1:P -response FILE   (the HTTP ceiling: ceiling.go)
//
// A pass prints one line, space-separated, for bench/peers/run.sh to parse:
//
//	RESULT <workload> <target> <rps> <p50 ms> <p99 ms> <cpu s> <requests>
//
// The check mode fetches each workload once from both servers, unwraps the
// two response shapes (Relay edges/node and PostGraphile nodes, the field
// names of PostGraphile's relations) into the same tree of values and fails
// unless the trees are equal, so that both sides serve the same rows.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// workload is one request shape, written for each server.
type workload struct {
	meridian, postgraphile string
	// byUsername: the query takes $u, cycled through the usernames file.
	byUsername bool
}

var workloads = map[string]workload{
	// W1: 10 countries by code → 20 cities each by name → 10 users each by
	// id (through addresses) → the user's address.
	"W1": {
		meridian:     `{ countries(first: 10, orderBy: {field: CODE}) { edges { node { code cities(first: 20, orderBy: {field: NAME}) { edges { node { name users(first: 10) { edges { node { username address { street postalCode } } } } } } } } } } }`,
		postgraphile: `{ allCountries(first: 10, orderBy: CODE_ASC) { nodes { code citiesByCountryId(first: 20, orderBy: [NAME_ASC, PRIMARY_KEY_ASC]) { nodes { name users(first: 10) { nodes { username addressByAddressId { street postalCode } } } } } } } }`,
	},
	// W2: one user by username → address → city → country.
	"W2": {
		meridian:     `query($u: String!) { user(username: $u) { username email address { street city { name country { name code } } } } }`,
		postgraphile: `query($u: String!) { userByUsername(username: $u) { username email addressByAddressId { street cityByCityId { name countryByCountryId { name code } } } } }`,
		byUsername:   true,
	},
	// W3: every country's user count and average total spent (Meridian's
	// Country.stats; PostGraphile's countries_stats computed column).
	"W3": {
		meridian:     `{ countries(first: 1000) { edges { node { code stats { userCount avgTotalSpent } } } } }`,
		postgraphile: `{ allCountries(first: 1000, orderBy: PRIMARY_KEY_ASC) { nodes { code stats { userCount avgTotalSpent } } } }`,
	},
	// W4: the top 20 users by total spent → address → city → country.
	"W4": {
		meridian:     `{ users(first: 20, orderBy: {field: TOTAL_SPENT, direction: DESC}) { edges { node { username totalSpent address { street city { name country { name code } } } } } } }`,
		postgraphile: `{ allUsers(first: 20, orderBy: [TOTAL_SPENT_DESC, PRIMARY_KEY_ASC]) { nodes { username totalSpent addressByAddressId { street cityByCityId { name countryByCountryId { name code } } } } } }`,
	},
}

func main() {
	var (
		target     = flag.String("target", "meridian", "meridian or postgraphile: which query text to send")
		url        = flag.String("url", "", "GraphQL endpoint of the target")
		name       = flag.String("workload", "W1", "W1, W2, W3 or W4 (W3c: W3, named apart for the cached server)")
		pid        = flag.Int("pid", 0, "process id of the target server, for its CPU seconds (0: not measured)")
		clients    = flag.Int("c", 16, "concurrent clients (closed loop)")
		duration   = flag.Duration("d", 20*time.Second, "measured duration of the pass")
		warmup     = flag.Duration("warmup", 2*time.Second, "unmeasured load before the pass")
		usersFile  = flag.String("usernames", "", "file of usernames, one a line (W2)")
		check      = flag.Bool("check", false, "fetch each workload from both servers and compare the rows")
		meridian   = flag.String("meridian", "", "Meridian's endpoint (-check)")
		postgraph  = flag.String("postgraphile", "", "PostGraphile's endpoint (-check)")
		names      = flag.String("workloads", "W1,W2,W3,W4", "workloads to check (-check)")
		doCapture  = flag.Bool("capture", false, "record the SQL of one Meridian request of -workload from the PostgreSQL log into -out")
		logPath    = flag.String("log", "/var/log/postgresql/postgresql-15-main.log", "PostgreSQL's log (-capture)")
		dbName     = flag.String("db", "", "database whose statements to keep (-capture)")
		outFile    = flag.String("out", "", "file of the captured statements, a pgbench script (-capture)")
		freePort   = flag.Bool("freeport", false, "print a free TCP port of 127.0.0.1 and exit")
		doSettle   = flag.Bool("settle", false, "wait until process -pid is idle (at most 120 s), then exit")
		printQuery = flag.Bool("print", false, "print the request body of -target/-workload (first username) and exit")
		ceiling    = flag.String("ceiling", "", "serve the HTTP ceiling on this address: every POST answered with the bytes of -response")
		response   = flag.String("response", "", "response file of the HTTP ceiling (-ceiling)")
	)
	flag.Parse()
	var usernames []string
	if *usersFile != "" {
		var err error
		if usernames, err = readLines(*usersFile); err != nil {
			fail(err)
		}
	}
	ctx := context.Background()
	client := &http.Client{
		Timeout: 60 * time.Second,
		// Neither server compresses for this client: the comparison is of
		// the servers' work, not of gzip.
		Transport: &http.Transport{MaxIdleConnsPerHost: 256, MaxConnsPerHost: 0, DisableCompression: true},
	}
	switch {
	case *freePort:
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			fail(err)
		}
		fmt.Println(l.Addr().(*net.TCPAddr).Port)
		l.Close()
	case *ceiling != "":
		if err := serveCeiling(ctx, *ceiling, *response); err != nil {
			fail(err)
		}
	case *doSettle:
		if err := settle(*pid, 120*time.Second); err != nil {
			fail(err)
		}
	case *doCapture:
		w, err := lookup(*name)
		if err != nil {
			fail(err)
		}
		if *url == "" || *dbName == "" || *outFile == "" {
			fail(errors.New("-capture needs -url, -db and -out"))
		}
		if err := capture(ctx, client, *url, w, usernames, *logPath, *dbName, *outFile); err != nil {
			fail(fmt.Errorf("capture %s: %w", *name, err))
		}
	case *check:
		if err := checkAll(ctx, client, *meridian, *postgraph, strings.Split(*names, ","), usernames); err != nil {
			fail(err)
		}
	case *printQuery:
		w, err := lookup(*name)
		if err != nil {
			fail(err)
		}
		b, err := body(w, *target, usernames, 0)
		if err != nil {
			fail(err)
		}
		fmt.Println(string(b))
	default:
		w, err := lookup(*name)
		if err != nil {
			fail(err)
		}
		if *url == "" {
			fail(errors.New("-url is required"))
		}
		r, err := run(ctx, client, w, *target, *url, usernames, *clients, *warmup, *duration, *pid)
		if err != nil {
			fail(fmt.Errorf("%s on %s: %w", *name, *target, err))
		}
		fmt.Printf("RESULT %s %s %.1f %.2f %.2f %s %d\n", *name, *target, r.rps, ms(r.p50), ms(r.p99), r.cpu, r.requests)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "load:", err)
	os.Exit(1)
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func lookup(name string) (workload, error) {
	w, ok := workloads[strings.TrimSuffix(strings.TrimSpace(name), "c")]
	if !ok {
		return w, fmt.Errorf("unknown workload %q (W1, W2, W3, W3c, W4)", name)
	}
	return w, nil
}

func readLines(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("usernames: %w", err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if s := strings.TrimSpace(sc.Text()); s != "" {
			out = append(out, s)
		}
	}
	return out, sc.Err()
}

// body is the JSON request of w for target; i picks the username.
func body(w workload, target string, usernames []string, i int) ([]byte, error) {
	req := map[string]any{}
	switch target {
	case "meridian":
		req["query"] = w.meridian
	case "postgraphile":
		req["query"] = w.postgraphile
	default:
		return nil, fmt.Errorf("unknown target %q", target)
	}
	if w.byUsername {
		if len(usernames) == 0 {
			return nil, errors.New("this workload needs -usernames")
		}
		req["variables"] = map[string]any{"u": usernames[i%len(usernames)]}
	}
	return json.Marshal(req)
}

// post sends one request and returns the decoded response's data and the
// sqlStatements extension (Meridian's; 0 elsewhere), failing on any status
// but 200 and on any GraphQL error.
func post(ctx context.Context, c *http.Client, url string, b []byte) (json.RawMessage, int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(b))
	if err != nil {
		return nil, 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, 0, fmt.Errorf("read response: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, 0, fmt.Errorf("status %d: %.300s", resp.StatusCode, raw)
	}
	var r struct {
		Data       json.RawMessage `json:"data"`
		Errors     json.RawMessage `json:"errors"`
		Extensions struct {
			SQLStatements int `json:"sqlStatements"`
		} `json:"extensions"`
	}
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, 0, fmt.Errorf("decode response: %w: %.300s", err, raw)
	}
	if len(r.Errors) > 0 && string(r.Errors) != "null" {
		return nil, 0, fmt.Errorf("errors: %.300s", r.Errors)
	}
	if len(r.Data) == 0 || string(r.Data) == "null" {
		return nil, 0, fmt.Errorf("no data: %.300s", raw)
	}
	return r.Data, r.Extensions.SQLStatements, nil
}

type result struct {
	rps      float64
	p50, p99 time.Duration
	cpu      string
	requests int
}

// run is one pass: warm-up, then the measured closed loop.
func run(ctx context.Context, c *http.Client, w workload, target, url string, usernames []string, clients int, warmup, d time.Duration, pid int) (result, error) {
	bodies := [][]byte{}
	n := 1
	if w.byUsername {
		n = len(usernames)
	}
	for i := 0; i < n; i++ {
		b, err := body(w, target, usernames, i)
		if err != nil {
			return result{}, err
		}
		bodies = append(bodies, b)
	}
	var next atomic.Int64
	loop := func(ctx context.Context, until time.Time, lat *[]time.Duration) error {
		for time.Now().Before(until) {
			b := bodies[int(next.Add(1)-1)%len(bodies)]
			t0 := time.Now()
			if _, _, err := post(ctx, c, url, b); err != nil {
				return err
			}
			if lat != nil {
				*lat = append(*lat, time.Since(t0))
			}
		}
		return nil
	}
	pass := func(until time.Time, measure bool) ([][]time.Duration, error) {
		lats := make([][]time.Duration, clients)
		errs := make([]error, clients)
		var wg sync.WaitGroup
		for i := 0; i < clients; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				var l *[]time.Duration
				if measure {
					l = &lats[i]
				}
				errs[i] = loop(ctx, until, l)
			}(i)
		}
		wg.Wait()
		return lats, errors.Join(errs...)
	}
	if warmup > 0 {
		if _, err := pass(time.Now().Add(warmup), false); err != nil {
			return result{}, fmt.Errorf("warm-up: %w", err)
		}
	}
	cpu0, cerr := cpuSeconds(pid)
	start := time.Now()
	lats, err := pass(start.Add(d), true)
	elapsed := time.Since(start)
	cpu1, cerr1 := cpuSeconds(pid)
	if err != nil {
		return result{}, err
	}
	var all []time.Duration
	for _, l := range lats {
		all = append(all, l...)
	}
	if len(all) == 0 {
		return result{}, errors.New("no request completed")
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	r := result{
		rps:      float64(len(all)) / elapsed.Seconds(),
		p50:      all[len(all)*50/100],
		p99:      all[min(len(all)-1, len(all)*99/100)],
		cpu:      "-",
		requests: len(all),
	}
	if pid > 0 && cerr == nil && cerr1 == nil {
		r.cpu = strconv.FormatFloat(cpu1-cpu0, 'f', 1, 64)
	}
	return r, nil
}

// cpuSeconds is utime+stime of pid from /proc/<pid>/stat.
func cpuSeconds(pid int) (float64, error) {
	if pid <= 0 {
		return 0, errors.New("no pid")
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("cpu of %d: %w", pid, err)
	}
	// The command name (field 2) is in parentheses and may hold spaces:
	// the fields after its closing parenthesis start at field 3 (state).
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, fmt.Errorf("cpu of %d: unexpected stat %q", pid, s)
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("cpu of %d: short stat", pid)
	}
	ut, err1 := strconv.ParseFloat(f[11], 64) // field 14 utime
	st, err2 := strconv.ParseFloat(f[12], 64) // field 15 stime
	if err := errors.Join(err1, err2); err != nil {
		return 0, fmt.Errorf("cpu of %d: %w", pid, err)
	}
	const clockTicks = 100 // USER_HZ on Linux
	return (ut + st) / clockTicks, nil
}
