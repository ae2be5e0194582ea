package consumers_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/meridian-graphql/meridian/analytics/storetest"
	"github.com/meridian-graphql/meridian/broker"
	"github.com/meridian-graphql/meridian/broker/consumers"
	"github.com/meridian-graphql/meridian/internal/faultsvc"
	"github.com/meridian-graphql/meridian/internal/testdb"
)

// TestFaultPoisonIngest is issue 13 item 1 on the real RabbitMQ and
// PostgreSQL: one batch of good tracked events with two poison messages
// among them —
//
//   - a purchase whose category is 12 KB of random text: the issue's
//     message, which PostgreSQL refused (54000) and the consumer retried
//     for ever; validation refuses it now, so it is retried with its
//     attempts spent (a newer version might accept it) and dead-lettered
//     after the third;
//   - an event validation accepts but the database refuses (an index on
//     the metadata text, which large metadata cannot fit: 54000 again, a
//     rule validation cannot foresee): permanent, dead-lettered at its
//     first delivery.
//
// Every good message is stored at its first delivery, nothing is lost or
// stored twice, and the poison messages stop being delivered.
func TestFaultPoisonIngest(t *testing.T) {
	const good = 50
	db := testdb.Open(t, "postgres")
	bus := openRabbit(t, 1)[0]
	e := start(t, db, bus, []time.Duration{100 * time.Millisecond, 200 * time.Millisecond})
	ctx := context.Background()
	if _, err := db.SQL().ExecContext(ctx, `CREATE INDEX events_metadata_text ON events ((metadata::text))`); err != nil {
		t.Fatal(err)
	}

	at := time.Now().UTC().Add(-time.Hour)
	random := make([]byte, 9<<10)
	_, _ = rand.Read(random)
	category := base64.StdEncoding.EncodeToString(random) // 12 KB
	invalid := message(t, "poison-invalid", map[string]any{"id": "poison-invalid", "userId": 1, "type": "purchase", "timestamp": at,
		"metadata": map[string]any{"price": 10.0, "category": category}})
	refused := message(t, "poison-refused", map[string]any{"id": "poison-refused", "userId": 1, "type": "page_view", "timestamp": at,
		"metadata": storetest.BulkyMetadata(8 << 10)})
	var msgs []broker.Message
	for i := range good {
		msgs = append(msgs, trackMessage(fmt.Sprintf("poi-%03d", i), 1+i%7, at))
		switch i {
		case 10:
			msgs = append(msgs, invalid)
		case 30:
			msgs = append(msgs, refused)
		}
	}
	sent := time.Now()
	if err := bus.Publish(ctx, broker.ExchangeDataProcessing, msgs...); err != nil {
		t.Fatal(err)
	}
	stored := func() int { return count(t, db, `SELECT COUNT(*) FROM events WHERE id LIKE 'poi-%'`) }
	waitFor(t, 30*time.Second, "the good events stored", func() bool { return stored() == good })
	storedAfter := time.Since(sent)
	dlqDepth := func() int {
		_, dlq, err := bus.Depths(ctx, consumers.QueueIngest)
		if err != nil {
			t.Fatal(err)
		}
		return dlq
	}
	waitFor(t, 30*time.Second, "both poison messages dead-lettered", func() bool { return dlqDepth() == 2 })
	deadAfter := time.Since(sent)

	// Well past the backoff schedule: nothing is delivered again.
	settled := len(e.obs.of(consumers.QueueIngest, ""))
	time.Sleep(time.Second)
	if n := len(e.obs.of(consumers.QueueIngest, "")); n != settled {
		t.Errorf("%d more deliveries after both poison messages were dead-lettered: retried for ever", n-settled)
	}

	for i := range good {
		id := fmt.Sprintf("msg-poi-%03d", i)
		ds := e.obs.of(consumers.QueueIngest, id)
		if len(ds) != 1 || ds[0].err != nil {
			t.Errorf("good message %s: %d deliveries (want 1, stored at once), first error %v", id, len(ds), firstErr(ds))
		}
	}
	ds := e.obs.of(consumers.QueueIngest, "poison-refused")
	if len(ds) != 1 || !broker.IsPermanent(ds[0].err) {
		t.Errorf("the refused message was delivered %d times (want 1) with error %v (want permanent)", len(ds), firstErr(ds))
	}
	ds = e.obs.of(consumers.QueueIngest, "poison-invalid")
	if len(ds) != 3 || ds[len(ds)-1].attempt != 3 || broker.IsUnavailable(ds[0].err) {
		t.Errorf("the invalid message was delivered %d times (want 3, attempts spent), first error %v", len(ds), firstErr(ds))
	} else {
		t.Logf("invalid message: %v", ds[0].err)
	}

	total := count(t, db, `SELECT COUNT(*) FROM events WHERE id LIKE 'poi-%' OR id LIKE 'poison-%'`)
	distinct := count(t, db, `SELECT COUNT(DISTINCT id) FROM events WHERE id LIKE 'poi-%' OR id LIKE 'poison-%'`)
	dead := dlqDepth()
	lost := len(msgs) - distinct - dead
	t.Logf("sent %d; stored %d (%d distinct) after %v; dead-lettered %d after %v; lost %d; duplicated %d; rollup %d",
		len(msgs), total, distinct, storedAfter.Round(time.Millisecond), dead, deadAfter.Round(time.Millisecond), lost, total-distinct, totalInRollup(t, e))
	faultsvc.Tally{Sent: len(msgs), Accepted: len(msgs), Stored: distinct + dead, Lost: lost, Duplicated: total - distinct}.Report(t, "poison messages in an ingest batch (stored = stored + dead-lettered)")
	if total != good || distinct != good || dead != 2 || lost != 0 {
		t.Errorf("stored %d (%d distinct), dead-lettered %d, lost %d; want %d, %d, 2, 0", total, distinct, dead, lost, good, good)
	}
	if n := totalInRollup(t, e); n != good {
		t.Errorf("daily rollup counts %d events, want %d", n, good)
	}
}

// message is an event.track message with body as its JSON.
func message(t *testing.T, id string, body map[string]any) broker.Message {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	return broker.Message{ID: id, Type: consumers.TypeTrack, OccurredAt: time.Now().UTC(), SchemaVersion: 1, Body: b}
}

func firstErr(ds []delivery) error {
	for _, d := range ds {
		if d.err != nil {
			return d.err
		}
	}
	return nil
}
