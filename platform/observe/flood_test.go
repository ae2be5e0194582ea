package observe

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

// floodAt is a Flood logging JSON to a buffer, on a clock the test steps.
func floodAt(t *testing.T) (*Flood, *bytes.Buffer, *time.Time) {
	t.Helper()
	var buf bytes.Buffer
	f := NewFlood(slog.New(slog.NewJSONHandler(&buf, nil)), "database", 10*time.Second)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f.now = func() time.Time { return now }
	return f, &buf, &now
}

func lines(buf *bytes.Buffer) []string {
	return strings.Split(strings.TrimSpace(buf.String()), "\n")
}

func TestFloodLogsStateChangesAndSummaries(t *testing.T) {
	f, buf, now := floodAt(t)
	ctx := context.Background()
	down := errors.New("dial tcp 127.0.0.1:5432: connect: connection refused")

	f.OK(ctx) // nothing was down: nothing to say
	if buf.Len() != 0 {
		t.Fatalf("OK with nothing down logged %q", buf.String())
	}
	// 25 s of an outage, a failure every 10 ms: 1,875 failed requests
	// and 625 deferred messages.
	for i := range 2500 {
		*now = now.Add(10 * time.Millisecond)
		what := "requests"
		if i%4 == 3 {
			what = "messages deferred"
		}
		f.Fail(ctx, what, down)
	}
	if !f.Down() {
		t.Error("Down() = false during the outage")
	}
	*now = now.Add(time.Second)
	f.OK(ctx)
	f.OK(ctx) // only the first success after the outage is news
	got := lines(buf)
	if len(got) != 4 {
		t.Fatalf("logged %d lines, want 4 (the failure, two summaries, the recovery):\n%s", len(got), buf)
	}
	for i, want := range []string{
		`"level":"WARN","msg":"database unreachable","what":"requests","err":"dial tcp`,
		`"level":"WARN","msg":"database still unreachable","for":"10s","failed":{"messages deferred":250,"requests":750}`,
		`"level":"WARN","msg":"database still unreachable","for":"20s","failed":{"messages deferred":250,"requests":750}`,
		`"level":"INFO","msg":"database reachable again","after":"25.99s","failed":{"messages deferred":625,"requests":1875}`,
	} {
		if !strings.Contains(got[i], want) {
			t.Errorf("line %d = %s\nwant it to contain %s", i, got[i], want)
		}
	}
	if f.Down() {
		t.Error("Down() = true after the recovery")
	}

	// A second outage starts over: its first failure is news again. A
	// success among its failures (a request in flight when it began) does
	// not end it; one a second after the last failure does.
	buf.Reset()
	f.Fail(ctx, "requests", down)
	f.OK(ctx)
	*now = now.Add(100 * time.Millisecond)
	f.Fail(ctx, "requests", down)
	*now = now.Add(time.Second)
	f.OK(ctx)
	got = lines(buf)
	if len(got) != 2 || !strings.Contains(got[0], `"msg":"database unreachable"`) || !strings.Contains(got[1], `"failed":{"requests":2}`) {
		t.Errorf("second outage logged:\n%s", buf)
	}
}

func TestFloodConcurrentFailures(t *testing.T) {
	f, buf, _ := floodAt(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 1000 {
				f.Fail(ctx, "requests", errors.New("refused"))
			}
		}()
	}
	wg.Wait()
	f.OK(ctx) // at the instant of the last failure: not over yet
	f.now = func() time.Time { return time.Date(2026, 1, 1, 0, 0, 1, 0, time.UTC) }
	f.OK(ctx)
	got := lines(buf)
	if len(got) != 2 || !strings.Contains(got[1], `"failed":{"requests":8000}`) {
		t.Errorf("8,000 failures at one instant logged:\n%s", buf)
	}
}

func TestFloodNil(t *testing.T) {
	var f *Flood
	f.Fail(context.Background(), "requests", errors.New("x"))
	f.OK(context.Background())
	f.Over(context.Background())
	if f.Down() {
		t.Error("a nil Flood is down")
	}
}

// TestFloodOver: a caller that knows the resource is back (a reconnect)
// ends the outage at once, where OK would wait out the settling second.
func TestFloodOver(t *testing.T) {
	f, buf, now := floodAt(t)
	ctx := context.Background()
	f.Over(ctx) // nothing was down: nothing to say
	for range 3 {
		*now = now.Add(200 * time.Millisecond)
		f.Fail(ctx, "connect attempts", errors.New("connection refused"))
	}
	f.OK(ctx) // within a second of the last failure: not over
	if !f.Down() {
		t.Fatal("OK right after a failure ended the outage")
	}
	f.Over(ctx)
	f.Over(ctx) // once only
	got := lines(buf)
	if len(got) != 2 || !strings.Contains(got[1], `"msg":"database reachable again","after":"400ms","failed":{"connect attempts":3}`) || f.Down() {
		t.Errorf("Over logged:\n%s", buf)
	}
}
