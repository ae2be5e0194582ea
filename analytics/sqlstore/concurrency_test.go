package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/meridian-graphql/meridian/analytics"
	"github.com/meridian-graphql/meridian/platform/database"
)

// TestConcurrentWrites: writers inserting overlapping batches while the
// retention job deletes neither deadlock nor double-count: every id is
// stored once, the inserted counts add up, and the rollup matches the
// events.
func TestConcurrentWrites(t *testing.T) {
	each(t, func(t *testing.T, s *Store, _ *database.DB) {
		ctx := context.Background()
		start := at("2026-03-01 00:00")
		pool := make([]analytics.Event, 3000)
		for i := range pool {
			pool[i] = ev(t, fmt.Sprintf("c%04d", i), 1+i%30, analytics.DefaultTypes()[i%5], start.Add(time.Duration(i)*7*time.Minute), nil,
				[]*analytics.Geo{nil, {Country: "UA", Lat: 50, Lon: 30}}[i%2])
		}
		const writers = 4
		var (
			wg       sync.WaitGroup
			mu       sync.Mutex
			inserted int
			deleted  int64
			errs     []error
		)
		fail := func(err error) {
			mu.Lock()
			errs = append(errs, err)
			mu.Unlock()
		}
		for w := range writers {
			wg.Go(func() {
				// Each writer covers the whole pool in its own order of
				// overlapping batches.
				rng := newRand(uint64(w))
				for range 12 {
					lo := rng.IntN(len(pool) - 500)
					n, err := s.Insert(ctx, pool[lo:lo+500])
					if err != nil {
						fail(err)
						return
					}
					mu.Lock()
					inserted += n
					mu.Unlock()
				}
				n, err := s.Insert(ctx, pool)
				if err != nil {
					fail(err)
					return
				}
				mu.Lock()
				inserted += n
				mu.Unlock()
			})
		}
		wg.Go(func() {
			for i := range 5 {
				n, err := s.DeleteBefore(ctx, start.Add(time.Duration(i)*6*time.Hour+time.Minute))
				if err != nil {
					fail(err)
					return
				}
				mu.Lock()
				deleted += n
				mu.Unlock()
				time.Sleep(5 * time.Millisecond)
			}
		})
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatal(err)
		}
		stored := len(exportAll(t, s, analytics.Range{}, analytics.Filter{}))
		if int64(inserted)-deleted != int64(stored) {
			t.Errorf("inserted %d − deleted %d ≠ %d stored", inserted, deleted, stored)
		}
		checkRollup(t, s)
	})
}
