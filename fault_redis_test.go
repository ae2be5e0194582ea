package main

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/meridian-graphql/meridian/auth"
	"github.com/meridian-graphql/meridian/internal/faultsvc"
)

// TestFaultRedisDown: two instances share a database, a bus vhost and a
// private Redis. Instance A caches eventDistribution and purchaseAnalytics,
// Redis is killed (kill -9) or frozen (SIGSTOP) — or left up, the baseline
// — and 100 purchases are tracked through instance B in 10 batches. A
// must answer the new counts well before its local tier's 30 s TTL: B's
// invalidations reach A over the bus when Redis cannot carry them. The
// figure logged is the time from B's last answer to A's first fresh one.
func TestFaultRedisDown(t *testing.T) {
	t.Parallel()
	for _, fault := range []struct {
		name   string
		inject func(r *faultsvc.Redis)
	}{
		{"redis up", func(*faultsvc.Redis) {}},
		{"redis kill -9", (*faultsvc.Redis).Kill},
		{"redis SIGSTOP", (*faultsvc.Redis).Freeze},
	} {
		t.Run(fault.name, func(t *testing.T) {
			t.Parallel()
			r := faultsvc.StartRedis(t)
			// A rate limit the polling stays under (production refuses
			// none); its buckets share the private Redis.
			env := map[string]string{"REDIS_URL": r.URL(), "MERIDIAN_RATE_LIMIT": "10000", "MERIDIAN_RATE_BURST": "10000"}
			a := startProduction(t, env)
			b := startPeer(t, a, env)
			// Registered after the servers, so it runs before they stop:
			// they shut down against a Redis that answers.
			t.Cleanup(func() {
				if fault.name == "redis SIGSTOP" {
					r.Thaw()
				}
			})
			key := a.Keys[auth.Analyst]
			category := fmt.Sprintf("faults-%d", time.Now().UnixNano())
			before := readCounts(t, a, key, category)
			if again := readCounts(t, a, key, category); again != before {
				t.Fatalf("A's answers moved with nothing written: %+v then %+v", before, again)
			}

			fault.inject(r)

			const sent = 100
			var accepted []string
			ids := make([]string, 0, sent)
			for batch := range 10 {
				in := make([]map[string]any, 10)
				for i := range in {
					id := fmt.Sprintf("%s-%d", category, batch*10+i)
					ids = append(ids, id)
					in[i] = map[string]any{"id": id, "userId": 1 + i, "type": "purchase", "metadata": map[string]any{"price": 1, "category": category}}
				}
				res := b.gql(t, key, `mutation($in: [TrackEventInput!]!) { trackEvents(inputs: $in) { results { id error { message } } } }`, map[string]any{"in": in})
				var d struct {
					TrackEvents struct {
						Results []struct {
							ID    *string
							Error *struct{ Message string }
						}
					}
				}
				if len(res.Errors) > 0 || json.Unmarshal(res.Data, &d) != nil {
					t.Fatalf("trackEvents on B: %d %+v", res.Status, res.Errors)
				}
				for _, it := range d.TrackEvents.Results {
					if it.Error == nil && it.ID != nil {
						accepted = append(accepted, *it.ID)
					}
				}
			}
			written := time.Now()

			want := counts{Events: before.Events + len(accepted), Purchases: before.Purchases + len(accepted)}
			deadline := written.Add(10 * time.Second)
			var got counts
			var asked time.Time // when the query that answered fresh was sent
			staleAnswers := 0
			for ; ; staleAnswers++ {
				asked = time.Now()
				got = readCounts(t, a, key, category)
				if got == want {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("A still answers %+v 10 s after B stored %d events (want %+v): instances disagree", got, len(accepted), want)
				}
				time.Sleep(5 * time.Millisecond)
			}
			stale := time.Since(written)
			// An upper bound: it includes the fresh query's own latency
			// (with Redis down, that of the Redis timeouts on the request
			// path), logged beside it.
			t.Logf("faults: %s: instance A answered the new counts %v after B's last write, after %d stale answers (that query took %v; A's local TTL is 30 s)",
				fault.name, stale.Round(time.Millisecond), staleAnswers, time.Since(asked).Round(time.Millisecond))
			faultsvc.Count(sent, accepted, storedIDs(t, a.DatabaseURL, ids)).Report(t, fault.name+": invalidation across instances")
		})
	}
}

// counts are what A answers: all events, and the purchases of the test's
// category.
type counts struct{ Events, Purchases int }

// readCounts asks s for eventDistribution and purchaseAnalytics, both
// cached fields tagged "events".
func readCounts(t *testing.T, s *prodServer, key, category string) counts {
	t.Helper()
	res := s.gql(t, key, `{ eventDistribution { type count } purchaseAnalytics(groupBy: CATEGORY) { key orders } }`, nil)
	var d struct {
		EventDistribution []struct{ Count int }
		PurchaseAnalytics []struct {
			Key    string
			Orders int
		}
	}
	if len(res.Errors) > 0 || json.Unmarshal(res.Data, &d) != nil {
		t.Fatalf("analytics on %s: %d %+v", s.URL, res.Status, res.Errors)
	}
	var c counts
	for _, e := range d.EventDistribution {
		c.Events += e.Count
	}
	for _, g := range d.PurchaseAnalytics {
		if g.Key == category {
			c.Purchases = g.Orders
		}
	}
	return c
}

// storedIDs counts the rows of each id in the event store (PostgreSQL's
// events table).
func storedIDs(t *testing.T, dbURL string, ids []string) map[string]int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatalf("connect %s: %v", dbURL, err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT id, count(*) FROM events WHERE id = ANY($1) GROUP BY id`, ids)
	if err != nil {
		t.Fatalf("count stored events: %v", err)
	}
	out := map[string]int{}
	for rows.Next() {
		var id string
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			t.Fatal(err)
		}
		out[id] = n
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
