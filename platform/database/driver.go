package database

import (
	"context"
	stdsql "database/sql"
	"sync/atomic"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
)

// Driver wraps ent's SQL driver and counts every statement it runs: in total,
// and on the Counter carried by the context (one per GraphQL request).
type Driver struct {
	*entsql.Driver
	total atomic.Int64
}

// NewDriver wraps drv.
func NewDriver(drv *entsql.Driver) *Driver { return &Driver{Driver: drv} }

// Statements is the number of statements run since the driver was opened.
func (d *Driver) Statements() int64 { return d.total.Load() }

func (d *Driver) count(ctx context.Context) {
	d.total.Add(1)
	if c := CounterFrom(ctx); c != nil {
		c.n.Add(1)
	}
}

// Exec implements dialect.Driver.
func (d *Driver) Exec(ctx context.Context, query string, args, v any) error {
	d.count(ctx)
	return d.Driver.Exec(ctx, query, args, v)
}

// Query implements dialect.Driver.
func (d *Driver) Query(ctx context.Context, query string, args, v any) error {
	d.count(ctx)
	return d.Driver.Query(ctx, query, args, v)
}

// ExecContext runs a raw statement (ent's sql/execquery feature).
func (d *Driver) ExecContext(ctx context.Context, query string, args ...any) (stdsql.Result, error) {
	d.count(ctx)
	return d.Driver.ExecContext(ctx, query, args...)
}

// QueryContext runs a raw query (ent's sql/execquery feature).
func (d *Driver) QueryContext(ctx context.Context, query string, args ...any) (*stdsql.Rows, error) {
	d.count(ctx)
	return d.Driver.QueryContext(ctx, query, args...)
}

// Tx implements dialect.Driver.
func (d *Driver) Tx(ctx context.Context) (dialect.Tx, error) {
	return d.BeginTx(ctx, nil)
}

// BeginTx starts a transaction whose statements are counted too.
func (d *Driver) BeginTx(ctx context.Context, opts *entsql.TxOptions) (dialect.Tx, error) {
	tx, err := d.Driver.BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	return &countingTx{Tx: tx, d: d}, nil
}

type countingTx struct {
	dialect.Tx
	d *Driver
}

func (t *countingTx) Exec(ctx context.Context, query string, args, v any) error {
	t.d.count(ctx)
	return t.Tx.Exec(ctx, query, args, v)
}

func (t *countingTx) Query(ctx context.Context, query string, args, v any) error {
	t.d.count(ctx)
	return t.Tx.Query(ctx, query, args, v)
}

// ExecContext runs a raw statement inside the transaction (savepoints).
func (t *countingTx) ExecContext(ctx context.Context, query string, args ...any) (stdsql.Result, error) {
	t.d.count(ctx)
	return t.Tx.(interface {
		ExecContext(context.Context, string, ...any) (stdsql.Result, error)
	}).ExecContext(ctx, query, args...)
}

// QueryContext runs a raw query inside the transaction.
func (t *countingTx) QueryContext(ctx context.Context, query string, args ...any) (*stdsql.Rows, error) {
	t.d.count(ctx)
	return t.Tx.(interface {
		QueryContext(context.Context, string, ...any) (*stdsql.Rows, error)
	}).QueryContext(ctx, query, args...)
}

// Counter counts the statements run on behalf of one request.
type Counter struct{ n atomic.Int64 }

// N is the number of statements counted so far.
func (c *Counter) N() int64 { return c.n.Load() }

type counterKey struct{}

// WithCounter returns a context that counts statements on a new Counter.
func WithCounter(ctx context.Context) (context.Context, *Counter) {
	c := &Counter{}
	return context.WithValue(ctx, counterKey{}, c), c
}

// CounterFrom returns the context's Counter, or nil.
func CounterFrom(ctx context.Context) *Counter {
	c, _ := ctx.Value(counterKey{}).(*Counter)
	return c
}
