package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/meridian-graphql/meridian/analytics"
	"github.com/meridian-graphql/meridian/analytics/sqlstore"
	"github.com/meridian-graphql/meridian/auth"
	"github.com/meridian-graphql/meridian/httpapi"
	"github.com/meridian-graphql/meridian/internal/gqltest"
	"github.com/meridian-graphql/meridian/internal/testdb"
)

// BenchmarkTrackEvents ingests batches of 10,000 new events through the
// trackEvents mutation, end to end over HTTP, and reports events per second.
func BenchmarkTrackEvents(b *testing.B) {
	for _, run := range trackRuns() {
		backend := strings.TrimSuffix(run, "/parallel")
		b.Run(run, func(b *testing.B) {
			db := testdb.Open(b, backend)
			events, err := sqlstore.New(context.Background(), db)
			if err != nil {
				b.Fatal(err)
			}
			srv := httptest.NewServer(httpapi.NewHandler(httpapi.Deps{DB: db, Auth: gqltest.Grant(auth.Analyst), Events: events}))
			defer srv.Close()
			const batch = 10000
			types := analytics.DefaultTypes()
			base := time.Now().UTC().Add(-24 * time.Hour)
			body := func(iter int) []byte {
				items := make([]map[string]any, batch)
				for i := range items {
					typ := types[i%len(types)]
					it := map[string]any{
						"id": fmt.Sprintf("b%d-%d", iter, i), "userId": 1 + i%5000, "type": typ,
						"timestamp": base.Add(time.Duration(i) * time.Second).Format(time.RFC3339),
						"geo":       map[string]any{"country": "UA", "lon": 30 + float64(i%100)/100, "lat": 50 + float64(i%50)/100},
					}
					if typ == "purchase" {
						it["metadata"] = map[string]any{"price": float64(i%50) + 0.99, "category": "books"}
					}
					items[i] = it
				}
				q, _ := json.Marshal(map[string]any{"query": `mutation($in: [TrackEventInput!]!) { trackEvents(inputs: $in) { inserted rejected } }`, "variables": map[string]any{"in": items}})
				return q
			}
			post := func(q []byte) {
				res, err := http.Post(srv.URL+"/query", "application/json", bytes.NewReader(q))
				if err != nil {
					b.Error(err)
					return
				}
				defer res.Body.Close()
				var out struct {
					Data struct {
						TrackEvents struct{ Inserted, Rejected int }
					}
					Errors []any
				}
				if err := json.NewDecoder(res.Body).Decode(&out); err != nil || len(out.Errors) > 0 || out.Data.TrackEvents.Inserted != batch {
					b.Errorf("batch: %v %v %+v", err, out.Errors, out.Data)
				}
			}
			// clients posts concurrently, as several producers would.
			clients := 1
			if strings.HasSuffix(b.Name(), "parallel") {
				clients = 2
			}
			var total time.Duration
			for i := 0; b.Loop(); i++ {
				b.StopTimer()
				bodies := make([][]byte, clients)
				for c := range bodies {
					bodies[c] = body(i*clients + c)
				}
				b.StartTimer()
				start := time.Now()
				var wg sync.WaitGroup
				for _, q := range bodies {
					wg.Add(1)
					go func() { defer wg.Done(); post(q) }()
				}
				wg.Wait()
				total += time.Since(start)
			}
			b.ReportMetric(float64(batch*clients*b.N)/total.Seconds(), "events/s")
		})
	}
}

// BenchmarkExport1M streams 1,000,000 events out of PostgreSQL through
// /export/events and reports how much the process's RSS grew meanwhile.
func BenchmarkExport1M(b *testing.B) {
	db := testdb.Open(b, "postgres")
	store, err := sqlstore.New(context.Background(), db)
	if err != nil {
		b.Fatal(err)
	}
	const n = 1_000_000
	now := time.Now().UTC()
	base := now.Add(-90 * 24 * time.Hour)
	policy := analytics.DefaultPolicy()
	for off := 0; off < n; off += 10000 {
		batch := make([]analytics.Event, 0, 10000)
		for i := off; i < off+10000; i++ {
			id := "x" + strconv.Itoa(i)
			ts := base.Add(time.Duration(i) * 7 * time.Second)
			e, err := policy.Prepare(analytics.EventInput{ID: &id, UserID: 1 + i%20000, Type: "page_view", Timestamp: &ts,
				Metadata: map[string]any{"path": "/p/" + strconv.Itoa(i%500)}}, now)
			if err != nil {
				b.Fatal(err)
			}
			batch = append(batch, e)
		}
		if _, err := store.Insert(context.Background(), batch); err != nil {
			b.Fatal(err)
		}
	}
	srv := httptest.NewServer(httpapi.NewHandler(httpapi.Deps{DB: db, Auth: gqltest.Grant(auth.Analyst), Events: store}))
	defer srv.Close()
	var growth float64
	for b.Loop() {
		runtime.GC()
		before := rssMB(b)
		peak := before
		done := make(chan struct{})
		go func() {
			t := time.NewTicker(50 * time.Millisecond)
			defer t.Stop()
			for {
				select {
				case <-done:
					return
				case <-t.C:
					if r := rssMB(b); r > peak {
						peak = r
					}
				}
			}
		}()
		res, err := http.Get(srv.URL + "/export/events?format=ndjson")
		if err != nil {
			b.Fatal(err)
		}
		lines, err := countLines(res.Body)
		res.Body.Close()
		close(done)
		if err != nil || lines != n {
			b.Fatalf("exported %d lines, %v", lines, err)
		}
		growth = max(growth, peak-before)
	}
	b.ReportMetric(growth, "rss-growth-MB")
}

// trackRuns: each backend with one client, then with two concurrent ones.
func trackRuns() []string {
	var out []string
	for _, b := range testdb.Backends() {
		out = append(out, b, b+"/parallel")
	}
	return out
}

func countLines(r io.Reader) (int, error) {
	buf := make([]byte, 1<<16)
	n := 0
	for {
		k, err := r.Read(buf)
		n += bytes.Count(buf[:k], []byte{'\n'})
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}

// rssMB is the resident set size of this process, from /proc.
func rssMB(b *testing.B) float64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		b.Skip("no /proc/self/status")
	}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			f := strings.Fields(line)
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return 0
}
