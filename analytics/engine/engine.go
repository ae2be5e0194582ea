package engine

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/meridian-graphql/meridian/analytics"
	"github.com/meridian-graphql/meridian/analytics/recs"
	"github.com/meridian-graphql/meridian/ent"
	"github.com/meridian-graphql/meridian/platform/apperr"
)

// ErrNotRunning answers the engine's fields on an instance wired without it.
var ErrNotRunning = apperr.Unavailablef("the analytics engine is not running on this instance")

// DefaultEmptyRecheck is how often Run looks for orders while the serving
// fit saw no customer.
const DefaultEmptyRecheck = 15 * time.Second

// MaxRecommendations bounds User.recommendations(limit).
const MaxRecommendations = 50

// Config configures an Engine.
type Config struct {
	Client *ent.Client
	// Events, when set, adds event activity to "last active" and feeds
	// the engagement score.
	Events     analytics.Store
	Thresholds Thresholds
	// ChurnHorizon is the window of "no purchase within" (default 90 days).
	ChurnHorizon time.Duration
	// CLVMonths and MonthlyDiscount define lifetime value: the expected
	// spend of the next CLVMonths months, each month discounted by
	// MonthlyDiscount (defaults 12 and 0.01).
	CLVMonths       int
	MonthlyDiscount float64
	Now             func() time.Time
	Log             *slog.Logger
	// EmptyRecheck is how often Run looks for orders while its fit saw no
	// customer (default DefaultEmptyRecheck).
	EmptyRecheck time.Duration
}

func (c Config) withDefaults() Config {
	if c.Thresholds == (Thresholds{}) {
		c.Thresholds = DefaultThresholds()
	}
	if c.ChurnHorizon <= 0 {
		c.ChurnHorizon = 90 * 24 * time.Hour
	}
	if c.CLVMonths <= 0 {
		c.CLVMonths = 12
	}
	if c.MonthlyDiscount <= 0 {
		c.MonthlyDiscount = 0.01
	}
	if c.Now == nil {
		c.Now = func() time.Time { return time.Now().UTC() }
	}
	if c.Log == nil {
		c.Log = slog.Default()
	}
	if c.EmptyRecheck <= 0 {
		c.EmptyRecheck = DefaultEmptyRecheck
	}
	return c
}

// Engine serves scores from its latest fit. Create it with New.
type Engine struct {
	cfg   Config
	snap  atomic.Pointer[snapshot]
	fitMu sync.Mutex // one fit at a time; waiters reuse its result
	// lastErr is the error of the latest fit attempt, nil after a success.
	lastErr atomic.Pointer[string]
}

// New returns an engine; it fits on first use or on Refit.
func New(cfg Config) (*Engine, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Thresholds.Validate(); err != nil {
		return nil, fmt.Errorf("engine: %w", err)
	}
	return &Engine{cfg: cfg}, nil
}

// Refit fits the models on the current data, rescores every user and
// replaces the snapshot. When the fit fails the previous snapshot keeps
// serving and the error shows in Status.
func (e *Engine) Refit(ctx context.Context) (*Status, error) {
	e.fitMu.Lock()
	defer e.fitMu.Unlock()
	start := time.Now()
	s, err := e.fit(ctx)
	if err != nil {
		msg := err.Error()
		e.lastErr.Store(&msg)
		e.cfg.Log.ErrorContext(ctx, "model fit failed; the previous fit keeps serving", "err", err)
		return e.Status(), fmt.Errorf("refit models: %w", err)
	}
	e.snap.Store(s)
	e.lastErr.Store(nil)
	e.cfg.Log.InfoContext(ctx, "models fitted", "users", len(s.scores), "customers", s.trainingUsers, "converged", s.converged, "took", time.Since(start).Round(time.Millisecond),
		"load", s.phases.Load.Round(time.Millisecond), "fit", s.phases.Fit.Round(time.Millisecond), "score", s.phases.Score.Round(time.Millisecond), "recommender", s.phases.Recommender.Round(time.Millisecond))
	return e.Status(), nil
}

// current returns the snapshot, fitting first if there is none yet.
func (e *Engine) current(ctx context.Context) (*snapshot, error) {
	if s := e.snap.Load(); s != nil {
		return s, nil
	}
	e.fitMu.Lock()
	s := e.snap.Load()
	e.fitMu.Unlock()
	if s != nil {
		return s, nil // another caller fitted while we waited
	}
	if _, err := e.Refit(ctx); err != nil {
		return nil, err
	}
	return e.snap.Load(), nil
}

// Run refits every interval until ctx ends (the first fit at once). While
// the serving fit saw no customer (an empty database, before someone runs
// `meridian seed` into it from another process) it also looks for orders
// every Config.EmptyRecheck and refits as soon as there are some: otherwise every
// user of the new data would be scored without a model (churn 1.00) until
// the next interval.
func (e *Engine) Run(ctx context.Context, every time.Duration) {
	for {
		if _, err := e.Refit(ctx); err != nil && ctx.Err() != nil {
			return
		}
		next := time.NewTimer(every)
		if !e.waitForData(ctx, next.C) {
			next.Stop()
			return
		}
		next.Stop()
	}
}

// waitForData waits for the interval's end, or, while the serving fit has
// no model, for the first order to appear. It reports false when ctx ends.
func (e *Engine) waitForData(ctx context.Context, interval <-chan time.Time) bool {
	var recheck <-chan time.Time
	if s := e.snap.Load(); s != nil && s.model == nil {
		t := time.NewTicker(e.cfg.EmptyRecheck)
		defer t.Stop()
		recheck = t.C
	}
	for {
		select {
		case <-ctx.Done():
			return false
		case <-interval:
			return true
		case <-recheck:
			has, err := e.cfg.Client.Order.Query().Exist(ctx)
			if err != nil {
				e.cfg.Log.WarnContext(ctx, "looking for orders to fit on", "err", err)
				continue
			}
			if has {
				e.cfg.Log.InfoContext(ctx, "orders appeared since a fit on no customers: refitting now")
				return true
			}
		}
	}
}

// CurrentStatus is Status after making sure a first fit has run (or
// failed, which the status then says).
func (e *Engine) CurrentStatus(ctx context.Context) *Status {
	_, _ = e.current(ctx)
	return e.Status()
}

// LastPhases returns how long the serving fit's steps took.
func (e *Engine) LastPhases() Phases {
	if s := e.snap.Load(); s != nil {
		return s.phases
	}
	return Phases{}
}

// Status reports the serving fit.
func (e *Engine) Status() *Status {
	st := &Status{Error: e.lastErr.Load()}
	s := e.snap.Load()
	if s == nil {
		return st
	}
	at := s.fittedAt
	st.FittedAt = &at
	st.TrainingUsers, st.ScoredUsers, st.Converged = s.trainingUsers, len(s.scores), s.converged
	if s.model != nil {
		p := s.model.parameters()
		st.Parameters = &p
		ll := s.model.logLikelihood()
		st.LogLikelihood = &ll
	}
	return st
}

// Profiles returns the scores of ids. Users the serving fit did not see
// (created since) are scored together with the current models: one load
// and one model pass for the whole batch.
func (e *Engine) Profiles(ctx context.Context, ids []int) (map[int]*Score, error) {
	s, err := e.current(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[int]*Score, len(ids))
	var missing []int
	for _, id := range ids {
		if sc, ok := s.scores[id]; ok {
			out[id] = sc
		} else {
			missing = append(missing, id)
		}
	}
	if len(missing) == 0 {
		return out, nil
	}
	d, err := loadUsers(ctx, e.cfg.Client, e.cfg.Events, missing, e.cfg.Now())
	if err != nil {
		return nil, err
	}
	for id, sc := range s.score(d, e.cfg) {
		out[id] = sc
	}
	return out, nil
}

// Recommendations returns up to limit products for each user.
func (e *Engine) Recommendations(ctx context.Context, ids []int, limit int) (map[int][]*Recommendation, error) {
	s, err := e.current(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[int][]*Recommendation, len(ids))
	if s.recs == nil {
		for _, id := range ids {
			out[id] = []*Recommendation{}
		}
		return out, nil
	}
	lists := s.recs.RecommendMany(ids, s.country, limit)
	for i, id := range ids {
		recsOut := make([]*Recommendation, len(lists[i]))
		for j, r := range lists[i] {
			recsOut[j] = &Recommendation{ProductID: r.Item, Score: finite(r.Score), Reason: r.Reason}
		}
		out[id] = recsOut
	}
	return out, nil
}

// Report returns the segment report of the serving fit.
func (e *Engine) Report(ctx context.Context) ([]*SegmentRow, error) {
	s, err := e.current(ctx)
	if err != nil {
		return nil, err
	}
	return s.report, nil
}

// trainRecs trains the recommender on the orders.
func trainRecs(ctx context.Context, d *dataset, country map[int]string) (*recs.Model, error) {
	xs := make([]recs.Interaction, 0, len(d.orders))
	for _, o := range d.orders {
		xs = append(xs, recs.Interaction{User: o.user, Item: o.product, At: o.at, Weight: recs.WeightPurchase})
	}
	if len(xs) == 0 {
		return nil, nil
	}
	return recs.Train(ctx, xs, country, recs.Options{})
}
