// Package store owns the writes to the relational core: every mutation runs
// in one transaction, checks the entities it references, keeps derived
// fields (a user's total_spent and last_active_at follow the user's orders)
// in step, and reports failures as apperr errors. The batch import commits
// good rows and reports bad ones, row by row, through savepoints.
package store

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strings"

	"github.com/meridian-graphql/meridian/broker"
	"github.com/meridian-graphql/meridian/broker/outbox"
	"github.com/meridian-graphql/meridian/ent"
	"github.com/meridian-graphql/meridian/platform/apperr"
)

// Store writes through one ent client.
type Store struct {
	client *ent.Client
	cfg    Config
}

// Config wires a Store to the rest of the system; every field is optional.
type Config struct {
	// Invalidate drops cached reads that a committed write made stale.
	Invalidate func(ctx context.Context, tags ...string)
	// Outbox receives, in the write's own transaction, the domain event of
	// every mutation ("user.created", "order.deleted", …) for the bus.
	Outbox *outbox.Writer
	// Committed runs after every commit (the outbox relay's Notify).
	Committed func()
}

// Cache tags of the data a write changes (see the @cached directive).
const (
	TagGeo    = "geo"    // countries, cities
	TagUsers  = "users"  // users, addresses
	TagOrders = "orders" // orders, products (and so users' totals)
)

// New returns a Store over client.
func New(client *ent.Client, cfg Config) *Store {
	return &Store{client: client, cfg: cfg}
}

// emit writes the domain event of a mutation to the outbox, when there is
// one, inside the mutation's transaction: the event exists exactly when the
// change committed.
func (s *Store) emit(ctx context.Context, tx *ent.Tx, typ string, v any) error {
	if s.cfg.Outbox == nil {
		return nil
	}
	body, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s event: %w", typ, err)
	}
	return s.cfg.Outbox.Add(ctx, tx, broker.ExchangeDataProcessing, typ, body)
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
	if len(tags) > 0 && s.cfg.Invalidate != nil {
		s.cfg.Invalidate(ctx, tags...)
	}
	if s.cfg.Committed != nil {
		s.cfg.Committed()
	}
	return nil
}

// cents rounds money to two decimals, the precision amounts are kept at.
func cents(v float64) float64 { return math.Round(v*100) / 100 }

// finite reports a non-NaN, non-infinite value.
func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// TagsOf returns the cache tags a domain event of type typ made stale: the
// same tags the mutation that emitted it invalidated at commit. Other
// instances use it to drop their local entries when they learn of the
// event from the bus.
func TagsOf(typ string) []string {
	entity, action, _ := strings.Cut(typ, ".")
	switch entity {
	case "country", "city":
		return []string{TagGeo}
	case "address":
		return []string{TagUsers}
	case "user":
		if action == "deleted" {
			return []string{TagUsers, TagOrders}
		}
		return []string{TagUsers}
	case "product", "order":
		return []string{TagOrders, TagUsers}
	}
	return nil
}
