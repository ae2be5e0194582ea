package storetest

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/meridian-graphql/meridian/analytics"
)

// Poison prepares s to refuse some rows that validation accepts — the way
// a database rule validation cannot foresee does (an operator's index, a
// constraint, a trigger) — and says how to make such a row.
type Poison func(t *testing.T, s analytics.Store) Refusal

// Refusal is what a Poison set up.
type Refusal struct {
	// Meta is the metadata of a row the store refuses.
	Meta map[string]any
	// Uncounted: the store cannot count the rows it stored of a refused
	// call. FerretDB stops an insertMany at a row its PostgreSQL refuses,
	// with the rows before it stored, and answers an InternalError that
	// says nothing of them: Track then counts those as duplicates. A real
	// MongoDB reports write errors per row and counts exactly.
	Uncounted bool
}

// RunRefusals runs the contract of refused rows on fresh stores from open,
// with poison making each backend refuse rows:
//
//   - Insert reports a refusal as analytics.ErrRefused, not as an outage;
//   - Service.Track stores every other event of the call, reports each
//     refused one on its own (Refused and an Err for the client), calls
//     OnStored with the events stored, and a retry of the same call stores
//     nothing twice.
func RunRefusals(t *testing.T, open func(t *testing.T) analytics.Store, poison Poison) {
	ctx := context.Background()
	ts := at("2026-03-10 10:00")
	input := func(id string, meta map[string]any) analytics.EventInput {
		return analytics.EventInput{ID: &id, UserID: 7, Type: "page_view", Timestamp: &ts, Metadata: meta}
	}

	t.Run("InsertSaysRefused", func(t *testing.T) {
		s := open(t)
		bad := poison(t, s).Meta
		var events []analytics.Event
		for _, in := range []analytics.EventInput{input("ok-1", nil), input("bad-1", bad), input("ok-2", nil)} {
			e, err := analytics.DefaultPolicy().Prepare(in, now)
			if err != nil {
				t.Fatalf("the poison must pass validation: %v", err)
			}
			events = append(events, e)
		}
		_, err := s.Insert(ctx, events)
		if !errors.Is(err, analytics.ErrRefused) || errors.Is(err, analytics.ErrUnavailable) {
			t.Fatalf("Insert with a refused row: %v; want analytics.ErrRefused", err)
		}
	})

	t.Run("TrackStoresTheRest", func(t *testing.T) {
		s := open(t)
		refusal := poison(t, s)
		bad := refusal.Meta
		var (
			mu       sync.Mutex
			notified []string
		)
		svc := &analytics.Service{Store: s, Policy: analytics.DefaultPolicy(), Now: func() time.Time { return now }, Log: slog.New(slog.DiscardHandler),
			OnStored: func(_ context.Context, evs []analytics.Event) {
				mu.Lock()
				defer mu.Unlock()
				for _, e := range evs {
					notified = append(notified, e.ID)
				}
			}}
		// Ten events, two refused (at 3 and 8), and an invalid one at 5.
		var in []analytics.EventInput
		for i := range 10 {
			switch i {
			case 3, 8:
				in = append(in, input(fmt.Sprintf("t-%02d", i), bad))
			case 5:
				in = append(in, analytics.EventInput{UserID: 0, Type: "page_view"})
			default:
				in = append(in, input(fmt.Sprintf("t-%02d", i), map[string]any{"i": float64(i)}))
			}
		}
		res, n, err := svc.Track(ctx, in)
		if err != nil {
			t.Fatalf("Track = %v; want the good events stored and the refused ones reported", err)
		}
		if n != 7 && !(refusal.Uncounted && n >= 0 && n < 7) {
			t.Errorf("Track inserted %d, want 7", n)
		}
		for i, r := range res {
			switch i {
			case 3, 8:
				if r.Refused == nil || !errors.Is(r.Refused, analytics.ErrRefused) || r.Err == nil || r.Event != nil {
					t.Errorf("result %d = %+v; want refused by the store, with an error for the client", i, r)
				}
			case 5:
				if r.Err == nil || r.Refused != nil {
					t.Errorf("result %d = %+v; want invalid", i, r)
				}
			default:
				if r.Err != nil || r.Refused != nil || r.Event == nil {
					t.Errorf("result %d = %+v; want stored", i, r)
				}
			}
		}
		want := "t-00 t-01 t-02 t-04 t-06 t-07 t-09"
		if got := storedIDs(t, s, "t-"); got != want {
			t.Errorf("stored %q, want %q", got, want)
		}
		mu.Lock()
		slices.Sort(notified)
		if got := strings.Join(slices.Compact(notified), " "); got != want {
			t.Errorf("OnStored saw %q, want %q", got, want)
		}
		mu.Unlock()
		dist, err := s.EventDistribution(ctx, analytics.Range{}, analytics.Filter{})
		if err != nil || len(dist) != 1 || dist[0].Count != 7 {
			t.Errorf("EventDistribution = %+v, %v; want page_view:7 (the rollup counts stored rows only)", dist, err)
		}

		// A redelivery of the same call: nothing stored twice, the same
		// refusals.
		res, n, err = svc.Track(ctx, in)
		if err != nil || n != 0 || res[3].Refused == nil || res[8].Refused == nil || res[0].Event == nil {
			t.Errorf("Track again = %d, %v (results 0, 3, 8: %+v %+v %+v); want 0 new, the same refusals", n, err, res[0], res[3], res[8])
		}
		if got := storedIDs(t, s, "t-"); got != want {
			t.Errorf("after the retry stored %q, want %q", got, want)
		}

		// A call of only the refused event.
		res, n, err = svc.Track(ctx, []analytics.EventInput{input("alone", bad)})
		if err != nil || n != 0 || res[0].Refused == nil {
			t.Errorf("Track(refused alone) = %+v, %d, %v; want it refused", res, n, err)
		}
	})
}

// storedIDs lists the stored ids with prefix, sorted.
func storedIDs(t *testing.T, s analytics.Store, prefix string) string {
	t.Helper()
	var ids []string
	for _, e := range export(t, s, analytics.Range{}, analytics.Filter{}) {
		if strings.HasPrefix(e.ID, prefix) {
			ids = append(ids, e.ID)
		}
	}
	slices.Sort(ids)
	return strings.Join(ids, " ")
}

// BulkyMetadata is valid metadata of about n bytes of random text (in
// strings under MaxMetadataStringBytes): too large for a B-tree index row
// whatever the compression, for poisons that index the metadata.
func BulkyMetadata(n int) map[string]any {
	m := map[string]any{}
	for i := 0; n > 0; i++ {
		size := min(n, analytics.MaxMetadataStringBytes)
		b := make([]byte, size*3/4)
		_, _ = rand.Read(b)
		m[fmt.Sprintf("blob%d", i)] = base64.StdEncoding.EncodeToString(b)[:size]
		n -= size
	}
	return m
}
