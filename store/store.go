// Package store owns the writes to the relational core: every mutation runs
// in one transaction, checks the entities it references, keeps derived
// fields (a user's total_spent and last_active_at follow the user's orders)
// in step, and reports failures as apperr errors. The batch import commits
// good rows and reports bad ones, row by row, through savepoints.
package store

import (
	"context"
	"fmt"
	"math"

	"meridian/apperr"
	"meridian/ent"
)

// Store writes through one ent client.
type Store struct {
	client *ent.Client
	// invalidate drops cached reads that a committed write made stale.
	invalidate func(ctx context.Context, tags ...string)
}

// Cache tags of the data a write changes (see the @cached directive).
const (
	TagGeo    = "geo"    // countries, cities
	TagUsers  = "users"  // users, addresses
	TagOrders = "orders" // orders, products (and so users' totals)
)

// New returns a Store over client. invalidate, when not nil, is called after
// every committed write with the cache tags it touched.
func New(client *ent.Client, invalidate func(ctx context.Context, tags ...string)) *Store {
	if invalidate == nil {
		invalidate = func(context.Context, ...string) {}
	}
	return &Store{client: client, invalidate: invalidate}
}

// tx runs fn in a transaction: committed when fn returns nil, rolled back
// (nothing written) otherwise. Errors come back translated to apperr. After
// a commit, cached reads carrying tags are invalidated.
func (s *Store) tx(ctx context.Context, fn func(tx *ent.Tx) error, tags ...string) error {
	tx, err := s.client.Tx(ctx)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	defer func() {
		if v := recover(); v != nil {
			_ = tx.Rollback()
			panic(v)
		}
	}()
	if err := fn(tx); err != nil {
		if rerr := tx.Rollback(); rerr != nil {
			return fmt.Errorf("%w (rollback: %v)", apperr.Translate(err), rerr)
		}
		return apperr.Translate(err)
	}
	if err := tx.Commit(); err != nil {
		return apperr.Translate(fmt.Errorf("commit: %w", err))
	}
	if len(tags) > 0 {
		s.invalidate(ctx, tags...)
	}
	return nil
}

// cents rounds money to two decimals, the precision amounts are kept at.
func cents(v float64) float64 { return math.Round(v*100) / 100 }

// finite reports a non-NaN, non-infinite value.
func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
