package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/meridian-graphql/meridian/auth"
	"github.com/meridian-graphql/meridian/internal/faultsvc"
	"github.com/meridian-graphql/meridian/internal/gqltest"
	"github.com/meridian-graphql/meridian/platform/database"
)

// TestMain lets the test binary be the server: with MERIDIAN_TEST_SERVE=1
// it runs main, as the meridian binary does, so that a fault test can send
// a real signal to a real process (serveChild).
func TestMain(m *testing.M) {
	if os.Getenv("MERIDIAN_TEST_SERVE") == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// serveChild runs the server of s.Vars as a child process (this test
// binary, through TestMain), its log into s.Logs, and returns once it is
// ready; exited reports the process's end. The process is killed at
// cleanup if it is still running.
func (s *prodServer) serveChild(t *testing.T) (cmd *exec.Cmd, exited <-chan error) {
	t.Helper()
	cmd = exec.Command(os.Args[0])
	// Only the server's variables (config reads nothing else), not this
	// shell's DATABASE_URL or the like.
	cmd.Env = []string{"MERIDIAN_TEST_SERVE=1", "PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "TMPDIR=" + os.TempDir()}
	for k, v := range s.Vars {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Stdout, cmd.Stderr = io.Discard, s.Logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("start the server process: %v", err)
	}
	// waitErr is set before gone closes: every reader sees the exit.
	var waitErr error
	gone := make(chan struct{})
	go func() { waitErr = cmd.Wait(); close(gone) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-gone
	})
	ready, out := make(chan error, 1), make(chan error, 1)
	go func() { <-gone; ready <- waitErr; out <- waitErr }()
	s.waitReady(t, ready)
	return cmd, out
}

// slowAnalytics is one request of 12 analytics fields over the 200-user
// seed's ~100k events: ~100 ms alone, a second or more when 32 run at
// once on two cores. Its dates are the request's own, so that no
// two requests share a cached field.
func slowAnalytics(k int) map[string]any {
	var b strings.Builder
	b.WriteString("query($f0: Time!, $f1: Time!, $f2: Time!) {")
	for i := range 4 {
		f := fmt.Sprintf("$f%d", i%3)
		fmt.Fprintf(&b, " a%d: userActivity(from: %s, limit: 200) { userId events user { username } }", i, f)
		fmt.Fprintf(&b, " n%d: eventsNear(lon: 2.35, lat: 48.85, radiusKm: 500, limit: 1000, from: %s) { distanceKm event { id } }", i, f)
		fmt.Fprintf(&b, " r%d: retention(period: DAY, intervals: 52, type: RECURRING, from: %s) { cohortStart cohortSize values }", i, f)
	}
	b.WriteString(" }")
	day := func(year int) string { return time.Date(year, 1, 1+k, 0, 0, 0, 0, time.UTC).Format(time.RFC3339) }
	return map[string]any{"query": b.String(), "variables": map[string]any{"f0": day(2020), "f1": day(2021), "f2": day(2019)}}
}

// TestFaultSIGTERMDrain sends a real SIGTERM to a production server process
// while 32 slow queries, 40 user sign-ups (each a domain event the bus
// consumers store as a signup event) and three subscriptions (both
// WebSocket subprotocols and SSE) are in flight, and checks the graceful
// shutdown of issue 13: every request in flight is answered in full; a new
// connection is refused (or /readyz says 503); each subscription gets its
// complete and each WebSocket a close frame 1012; the process exits 0
// before the grace period ends, having logged each stage once; no message
// in hand at the signal is handed back; and after a restart every accepted
// sign-up is stored exactly once.
func TestFaultSIGTERMDrain(t *testing.T) {
	const grace = 15 * time.Second
	s := newProduction(t, map[string]string{"MERIDIAN_SHUTDOWN_TIMEOUT": grace.String()})
	cmd, exited := s.serveChild(t)
	analyst, admin := s.Keys[auth.Analyst], s.Keys[auth.Admin]
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()

	// Subscribers, each proven live by one event before the signal.
	const sub = `subscription { eventTracked { id type } }`
	var sockets []*gqltest.WS
	for _, proto := range []string{"graphql-transport-ws", "graphql-ws"} {
		ws := gqltest.DialWS(t, ctx, s.URL, proto, map[string]any{"Authorization": analyst})
		ws.Start("live", sub)
		sockets = append(sockets, ws)
	}
	sse := s.sseLines(t, analyst, sub, func(l string) bool { return strings.HasPrefix(l, "event:") || strings.HasPrefix(l, "data:") })
	// The subscriptions attach asynchronously: track until all three see one.
	seen := func() bool {
		r := s.gql(t, analyst, `mutation { trackEvent(input: {userId: 1, type: "click"}) { id } }`, nil)
		if len(r.Errors) > 0 {
			t.Fatalf("trackEvent: %+v", r.Errors)
		}
		for _, ws := range sockets {
			if f, ok := ws.NextWithin(2 * time.Second); !ok || (f.Type != "next" && f.Type != "data") {
				return false
			}
		}
		for {
			l, ok := next(sse, 2*time.Second)
			if !ok {
				return false
			}
			if strings.HasPrefix(l, "data:") {
				return true
			}
		}
	}
	if !seen() {
		t.Fatalf("the subscriptions did not receive an event\n%s", s.Logs)
	}

	// The load: slow queries and sign-ups, all sent before the signal.
	const slow, signups = 32, 40
	type outcome struct {
		res *gqlResult
		err error
		at  time.Time
	}
	slowOut, signupOut := make([]outcome, slow), make([]outcome, signups)
	var wg sync.WaitGroup
	for k := range slow {
		wg.Go(func() {
			b, _ := json.Marshal(slowAnalytics(k))
			res, err := s.send(analyst, "", b)
			slowOut[k] = outcome{res, err, time.Now()}
		})
	}
	for k := range signups {
		wg.Go(func() {
			b, _ := json.Marshal(map[string]any{"query": `mutation($u: String!, $e: String!) { createUser(input: {username: $u, email: $e}) { id } }`,
				"variables": map[string]any{"u": fmt.Sprintf("drain-%d", k), "e": fmt.Sprintf("drain-%d@example.com", k)}})
			res, err := s.send(admin, "", b)
			signupOut[k] = outcome{res, err, time.Now()}
		})
	}
	wait(300 * time.Millisecond) // the scenario's pause: requests reach the server
	sigAt := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}

	// A new connection after the signal: refused, or told not ready.
	refused := ""
	for refused == "" && time.Since(sigAt) < 5*time.Second {
		res, err := http.Get(s.URL + "/readyz")
		switch {
		case err != nil:
			refused = "connection refused: " + err.Error()
		case res.StatusCode == http.StatusServiceUnavailable:
			refused = "503 from /readyz"
		}
		if res != nil {
			res.Body.Close()
		}
		wait(10 * time.Millisecond)
	}
	if refused == "" {
		t.Errorf("a new connection after SIGTERM still got /readyz 200 for 5 s")
	}

	// Subscriptions: a complete each, then the WebSocket close frame.
	for _, ws := range sockets {
		var frames []string
		for {
			f, ok := ws.NextWithin(grace)
			if !ok {
				break
			}
			frames = append(frames, f.Type+" "+f.ID)
		}
		_, err := ws.Closed()
		code := websocket.CloseStatus(err)
		if len(frames) == 0 || frames[len(frames)-1] != "complete live" || code != 1012 {
			t.Errorf("WebSocket at SIGTERM: frames %v, close %d (%v); want complete live, then close 1012", frames, code, err)
		}
	}
	var sseTail []string
	for {
		l, ok := next(sse, grace)
		if !ok {
			break
		}
		sseTail = append(sseTail, l)
	}
	if len(sseTail) == 0 || sseTail[len(sseTail)-1] != "event: complete" {
		t.Errorf("SSE at SIGTERM ended with %q; want event: complete", sseTail)
	}

	wg.Wait()
	var exitErr error
	select {
	case exitErr = <-exited:
	case <-time.After(grace + 10*time.Second):
		t.Fatalf("the server did not exit within the grace period and a margin\n%s", s.Logs)
	}
	took := time.Since(sigAt)
	if exitErr != nil {
		t.Errorf("server exit: %v (want status 0)", exitErr)
	}
	if took >= grace {
		t.Errorf("server exited %s after SIGTERM, not before its grace period of %s", took, grace)
	}

	inFlight, ok, failed := 0, 0, 0
	for k, o := range slowOut {
		if o.at.After(sigAt) {
			inFlight++
		}
		if o.err == nil && o.res.Status == http.StatusOK && len(o.res.Errors) == 0 && len(o.res.Data) > 0 && string(o.res.Data) != "null" {
			ok++
			continue
		}
		failed++
		if o.res != nil {
			t.Errorf("slow query %d: HTTP %d, errors %+v, %v", k, o.res.Status, o.res.Errors, o.err)
		} else {
			t.Errorf("slow query %d: %v", k, o.err)
		}
	}
	accepted := 0
	for k, o := range signupOut {
		if o.err == nil && o.res.Status == http.StatusOK && len(o.res.Errors) == 0 {
			accepted++
		} else if o.res != nil {
			t.Errorf("sign-up %d: HTTP %d, errors %+v, %v", k, o.res.Status, o.res.Errors, o.err)
		} else {
			t.Errorf("sign-up %d: %v", k, o.err)
		}
	}
	t.Logf("SIGTERM under load: slow queries sent %d, in flight at the signal %d, succeeded %d, failed %d; sign-ups sent %d, accepted %d; new connection: %s; exit after %s (grace %s)",
		slow, inFlight, ok, failed, signups, accepted, refused, took.Round(time.Millisecond), grace)
	if inFlight < slow/2 {
		t.Errorf("only %d of %d slow queries were still in flight at SIGTERM: the test proves little", inFlight, slow)
	}
	for _, st := range []string{"http", "consumers", "outbox relay", "live hub", "background jobs", "stores"} {
		if n := s.Logs.Count(`"msg":"shutdown stage"`, `"stage":"`+st+`"`); n != 1 {
			t.Errorf("shutdown stage %q logged %d times, want once", st, n)
		}
	}
	// A message the consumers held at the signal is finished and acked,
	// not handed back for another instance to do again.
	handedBack := s.Logs.Count(`"msg":"message failed"`, "context canceled")

	// The next instance: every committed sign-up's signup event is stored
	// once, by whichever instance handled its message.
	s.serveInProcess(t)
	db, err := database.Open(ctx, s.DatabaseURL, "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var committed, stored, lost, duplicated int
	deadline := time.Now().Add(30 * time.Second)
	for {
		committed, stored, lost, duplicated = signupsStored(t, ctx, db)
		if lost == 0 || time.Now().After(deadline) {
			break
		}
		wait(200 * time.Millisecond)
	}
	t.Logf("sign-ups through the bus: sent %d, accepted %d, committed %d, stored %d, lost %d, duplicated %d; messages handed back at SIGTERM %d",
		signups, accepted, committed, stored, lost, duplicated, handedBack)
	faultsvc.Tally{Sent: slow, Accepted: ok, Stored: ok, Lost: slow - ok}.Report(t, "SIGTERM under load: slow queries in flight")
	faultsvc.Tally{Sent: signups, Accepted: accepted, Stored: stored, Lost: lost, Duplicated: duplicated}.Report(t, "SIGTERM under load: sign-ups through the bus")
	if committed < accepted || lost != 0 || duplicated != 0 || handedBack != 0 {
		t.Errorf("sign-ups: accepted %d, committed %d, lost %d, duplicated %d, handed back %d; want every accepted one committed and stored once, none handed back",
			accepted, committed, lost, duplicated, handedBack)
	}
	if t.Failed() {
		t.Logf("server log:\n%s", s.Logs)
	} else {
		for _, l := range strings.Split(s.Logs.String(), "\n") {
			if strings.Contains(l, `"msg":"shutt`) || strings.Contains(l, `"msg":"shutdown`) {
				t.Log(l)
			}
		}
	}
}

// signupsStored counts the test's users (drain-*) in the database and
// their signup events in the event store.
func signupsStored(t *testing.T, ctx context.Context, db *database.DB) (committed, stored, lost, duplicated int) {
	t.Helper()
	for _, n := range signupEvents(t, ctx, db, "drain-") {
		committed++
		stored += min(n, 1)
		if n == 0 {
			lost++
		}
		duplicated += max(n-1, 0)
	}
	return committed, stored, lost, duplicated
}

// signupEvents is, for each user whose username starts with prefix, how
// many signup events the bus consumers stored for it (0 for none yet).
func signupEvents(t *testing.T, ctx context.Context, db *database.DB, prefix string) map[string]int {
	t.Helper()
	rows, err := db.SQL().QueryContext(ctx, `SELECT u.username, (SELECT count(*) FROM events e WHERE e.type = 'signup' AND e.user_id = u.id)
		FROM users u WHERE u.username LIKE $1 || '%'`, prefix)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var name string
		var n int
		if err := rows.Scan(&name, &n); err != nil {
			t.Fatal(err)
		}
		out[name] = n
	}
	if err := rows.Err(); err != nil && !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
	return out
}

// TestFaultSIGTERMDelay: with MERIDIAN_SHUTDOWN_DELAY a signalled server
// answers /readyz 503 at once but goes on serving new connections for the
// delay — a load balancer polling /readyz takes it out before anything is
// refused — and only then drains and exits.
func TestFaultSIGTERMDelay(t *testing.T) {
	const delay = 2 * time.Second
	s := newProduction(t, map[string]string{"MERIDIAN_SHUTDOWN_DELAY": delay.String(), "MERIDIAN_SHUTDOWN_TIMEOUT": "5s"})
	cmd, exited := s.serveChild(t)
	analyst := s.Keys[auth.Analyst]
	sigAt := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// Within the delay: not ready, and a query on a fresh connection is
	// served in full.
	fresh := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	var unready time.Duration
	served, refusedEarly := 0, 0
	for time.Since(sigAt) < delay*3/4 {
		res, err := fresh.Get(s.URL + "/readyz")
		if err != nil {
			refusedEarly++
		} else {
			res.Body.Close()
			if res.StatusCode == http.StatusServiceUnavailable && unready == 0 {
				unready = time.Since(sigAt)
			}
		}
		b, _ := json.Marshal(map[string]any{"query": `{ users(first: 1) { totalCount } }`})
		if r, err := s.send(analyst, "", b); err == nil && r.Status == http.StatusOK && len(r.Errors) == 0 {
			served++
		} else {
			refusedEarly++
		}
		wait(100 * time.Millisecond)
	}
	var exitErr error
	select {
	case exitErr = <-exited:
	case <-time.After(delay + 15*time.Second):
		t.Fatalf("the server did not exit\n%s", s.Logs)
	}
	took := time.Since(sigAt)
	t.Logf("SIGTERM with a %s delay: /readyz 503 after %s; %d queries served and %d refused within the delay; exit after %s",
		delay, unready.Round(time.Millisecond), served, refusedEarly, took.Round(time.Millisecond))
	if unready == 0 || unready > time.Second {
		t.Errorf("/readyz did not answer 503 within a second of SIGTERM (%s)", unready)
	}
	if served == 0 || refusedEarly > 0 {
		t.Errorf("within the delay %d queries were served and %d refused; want all served", served, refusedEarly)
	}
	if exitErr != nil || took < delay {
		t.Errorf("exit %v after %s; want status 0 after the %s delay", exitErr, took, delay)
	}
	faultsvc.Tally{Sent: served + refusedEarly, Accepted: served, Stored: served, Lost: refusedEarly}.Report(t, "SIGTERM with MERIDIAN_SHUTDOWN_DELAY: queries in the delay")
}
