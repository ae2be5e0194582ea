package consumers_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/meridian-graphql/meridian/analytics"
	"github.com/meridian-graphql/meridian/broker"
	"github.com/meridian-graphql/meridian/broker/consumers"
	"github.com/meridian-graphql/meridian/broker/rabbit"
	"github.com/meridian-graphql/meridian/internal/testbus"
	"github.com/meridian-graphql/meridian/internal/testdb"
)

// openRabbit opens n buses on one RabbitMQ topology: n server instances.
func openRabbit(t *testing.T, n int) []*rabbit.Bus {
	t.Helper()
	if testing.Short() {
		t.Skip("RabbitMQ fault tests are slow")
	}
	return testbus.Open(t, n)
}

func trackMessage(id string, user int, at time.Time) broker.Message {
	body, _ := json.Marshal(map[string]any{"id": id, "userId": user, "type": "page_view", "timestamp": at, "metadata": map[string]any{"path": "/p/" + id}})
	return broker.Message{ID: "msg-" + id, Type: consumers.TypeTrack, OccurredAt: at, SchemaVersion: 1, Body: body}
}

// totalInRollup sums the daily rollup through EventDistribution: a double
// insert would count twice there even if the primary key hid it.
func totalInRollup(t *testing.T, e *env) int {
	t.Helper()
	dist, err := e.events.EventDistribution(context.Background(), analytics.Range{From: time.Now().AddDate(0, 0, -2), To: time.Now().AddDate(0, 0, 1)}, analytics.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, d := range dist {
		n += int(d.Count)
	}
	return n
}

// TestIngestExactlyOnceWhileConnectionsAreKilled is acceptance 1 of the
// bus: 10,000 events published through RabbitMQ to two consuming
// instances while every broker connection is force-closed three times;
// exactly 10,000 events are stored, none twice.
func TestIngestExactlyOnceWhileConnectionsAreKilled(t *testing.T) {
	ctl, err := exec.LookPath("rabbitmqctl")
	if err != nil {
		t.Skip("rabbitmqctl not installed: cannot inject connection failures")
	}
	const total = 10000
	db := testdb.Open(t, "postgres")
	buses := openRabbit(t, 3) // two consuming instances and a producer
	a := start(t, db, buses[0], []time.Duration{50 * time.Millisecond, 100 * time.Millisecond})
	b := start(t, db, buses[1], []time.Duration{50 * time.Millisecond, 100 * time.Millisecond})
	producer := buses[2]

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	publishing := make(chan struct{})
	var kills []string
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range 3 {
			select {
			case <-publishing:
				kills = append(kills, fmt.Sprintf("kill %d skipped: publishing finished", i+1))
				continue
			case <-time.After(250 * time.Millisecond):
			}
			out, err := exec.CommandContext(ctx, ctl, "close_all_connections", "test").CombinedOutput()
			if err != nil {
				kills = append(kills, fmt.Sprintf("kill %d failed: %v: %s", i+1, err, out))
				continue
			}
			kills = append(kills, "kill "+fmt.Sprint(i+1)+" at "+time.Now().Format("15:04:05.000"))
		}
	}()
	start := time.Now()
	at := time.Now().UTC().Add(-time.Hour)
	for i := 0; i < total; i += 50 {
		batch := make([]broker.Message, 50)
		for j := range batch {
			batch[j] = trackMessage(fmt.Sprintf("acc1-%05d", i+j), 1+(i+j)%97, at)
		}
		if err := producer.Publish(ctx, broker.ExchangeDataProcessing, batch...); err != nil {
			t.Fatalf("publish: %v", err)
		}
		time.Sleep(10 * time.Millisecond) // stretch the run so the kills land mid-stream
	}
	close(publishing)
	pub := time.Since(start)
	wg.Wait()
	landed := 0
	for _, k := range kills {
		t.Log(k)
		if strings.Contains(k, " at ") {
			landed++
		}
	}
	if landed < 2 {
		t.Fatalf("only %d connection kills landed while publishing; the test proves nothing", landed)
	}
	waitFor(t, 2*time.Minute, "all events stored", func() bool {
		return count(t, db, `SELECT COUNT(*) FROM events WHERE id LIKE 'acc1-%'`) >= total
	})
	time.Sleep(time.Second) // let stragglers (redeliveries) arrive
	stored := count(t, db, `SELECT COUNT(*) FROM events WHERE id LIKE 'acc1-%'`)
	distinct := count(t, db, `SELECT COUNT(DISTINCT id) FROM events WHERE id LIKE 'acc1-%'`)
	handled := len(a.obs.of(consumers.QueueIngest, "")) + len(b.obs.of(consumers.QueueIngest, ""))
	t.Logf("published %d in %v; stored %d (%d distinct) after %v; ingest handled %d deliveries (%d by A, %d by B), %d redelivered",
		total, pub.Round(time.Millisecond), stored, distinct, time.Since(start).Round(time.Millisecond), handled,
		len(a.obs.of(consumers.QueueIngest, "")), len(b.obs.of(consumers.QueueIngest, "")), handled-total)
	if stored != total || distinct != total {
		t.Fatalf("stored %d events (%d distinct), want exactly %d", stored, distinct, total)
	}
	if n := totalInRollup(t, a); n != total {
		t.Errorf("daily rollup counts %d events, want %d", n, total)
	}
	if len(a.obs.of(consumers.QueueIngest, "")) == 0 || len(b.obs.of(consumers.QueueIngest, "")) == 0 {
		t.Errorf("one instance did no work: the queue is shared by competing consumers")
	}
}

// TestIngestWaitsOutStoreOutage is acceptance 2: while the event store
// fails (its table is renamed away on the real PostgreSQL) messages are
// retried with growing delays — longer than the whole backoff schedule,
// without being dead-lettered — and all are stored once it is back; a
// poison message in the same stream lands in the dead-letter queue after 3
// attempts.
func TestIngestWaitsOutStoreOutage(t *testing.T) {
	const good = 200
	db := testdb.Open(t, "postgres")
	bus := openRabbit(t, 1)[0]
	backoff := []time.Duration{100 * time.Millisecond, 200 * time.Millisecond}
	e := start(t, db, bus, backoff)
	ctx := context.Background()

	if _, err := db.SQL().ExecContext(ctx, `ALTER TABLE events RENAME TO events_away`); err != nil {
		t.Fatal(err)
	}
	outageStart := time.Now()
	at := time.Now().UTC().Add(-time.Hour)
	msgs := []broker.Message{{ID: "poison", Type: consumers.TypeTrack, OccurredAt: at, Body: []byte(`{"userId": 1, "type": `)}}
	for i := range good {
		msgs = append(msgs, trackMessage(fmt.Sprintf("acc2-%04d", i), 1+i%13, at))
	}
	if err := bus.Publish(ctx, broker.ExchangeDataProcessing, msgs...); err != nil {
		t.Fatal(err)
	}
	// Keep the store away for several full backoff schedules (0.3 s each).
	waitFor(t, 30*time.Second, "four failed deliveries of a good message", func() bool {
		return len(e.obs.of(consumers.QueueIngest, "msg-acc2-0000")) >= 4
	})
	if _, err := db.SQL().ExecContext(ctx, `ALTER TABLE events_away RENAME TO events`); err != nil {
		t.Fatal(err)
	}
	outage := time.Since(outageStart)
	waitFor(t, 30*time.Second, "all good events stored and the poison dead-lettered", func() bool {
		_, dlq, err := bus.Depths(ctx, consumers.QueueIngest)
		return err == nil && dlq == 1 && count(t, db, `SELECT COUNT(*) FROM events WHERE id LIKE 'acc2-%'`) == good
	})
	time.Sleep(300 * time.Millisecond)
	if n := count(t, db, `SELECT COUNT(*) FROM events WHERE id LIKE 'acc2-%'`); n != good {
		t.Errorf("stored %d good events, want %d", n, good)
	}
	_, dlq, _ := bus.Depths(ctx, consumers.QueueIngest)
	if dlq != 1 {
		t.Errorf("dead-letter queue holds %d, want only the poison message", dlq)
	}

	ds := e.obs.of(consumers.QueueIngest, "msg-acc2-0000")
	t.Logf("store away for %v; message acc2-0000 delivered %d times", outage.Round(time.Millisecond), len(ds))
	for i := 1; i < len(ds); i++ {
		gap := ds[i].at.Sub(ds[i-1].at)
		want := backoff[min(i, len(backoff))-1]
		t.Logf("  delivery %d: attempt %d, deferrals %d, %v after the previous, err %v", i+1, ds[i].attempt, ds[i].deferrals, gap.Round(time.Millisecond), ds[i-1].err)
		if gap < want {
			t.Errorf("delivery %d came %v after the previous, want at least %v", i+1, gap, want)
		}
		if ds[i].attempt != 1 {
			t.Errorf("an outage spent attempts: delivery %d has attempt %d", i+1, ds[i].attempt)
		}
	}
	if last := ds[len(ds)-1]; last.err != nil {
		t.Errorf("last delivery failed: %v", last.err)
	}
	ps := e.obs.of(consumers.QueueIngest, "poison")
	attempts := 0
	for _, p := range ps {
		if p.err == nil {
			t.Fatalf("poison message succeeded")
		}
		attempts = max(attempts, p.attempt)
	}
	if attempts != 3 || ps[len(ps)-1].attempt != 3 {
		t.Errorf("poison message reached attempt %d (last %d), want dead-lettered after attempt 3", attempts, ps[len(ps)-1].attempt)
	}
}
