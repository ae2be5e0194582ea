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
}

// New returns a Store over client.
func New(client *ent.Client) *Store { return &Store{client: client} }

// tx runs fn in a transaction: committed when fn returns nil, rolled back
// (nothing written) otherwise. Errors come back translated to apperr.
func (s *Store) tx(ctx context.Context, fn func(tx *ent.Tx) error) error {
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
	return nil
}

// cents rounds money to two decimals, the precision amounts are kept at.
func cents(v float64) float64 { return math.Round(v*100) / 100 }

// finite reports a non-NaN, non-infinite value.
func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
