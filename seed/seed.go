// Package seed owns Meridian's deterministic demo data: it fills an empty
// database with countries and cities taken from a real geo table (a compact
// built-in one, or the full Natural Earth tables via Options.GeoDir), and
// with synthetic addresses, users, products and orders on top of them.
//
// Same seed, same options and same geo table give the same rows, down to
// the last cent and second: everything is drawn from one math/rand/v2 PCG
// stream per phase, maps are never iterated, and times are relative to
// Options.Now. (Different CPU architectures could round a math.Exp
// differently, so the promise is per platform.)
//
// The data has the shapes an analytics demo needs to show something:
//
//   - Geography: users are spread over cities with weight population^0.8,
//     so big cities and countries get many users and small ones a few, and
//     every user lives in a real place with true coordinates. About 3% of
//     users have no address.
//   - Growth and churn: signups span the last two years with exponential
//     growth (today's rate is about 4.5× that of two years ago); about 25%
//     of users are dormant (last active more than 90 days ago).
//   - Spending: order counts per user are log-normal, and a 5% minority of
//     heavy spenders orders several times more than the rest. Quantities are
//     mostly 1, sometimes 2–3. Prices are log-normal per category, ending in
//     .99. total_spent is exactly the sum of the user's order amounts
//     (computed in integer cents).
//   - Latent tastes, for recommenders: every user has a hidden preference
//     vector over the 10 product categories drawn from a sparse Dirichlet
//     (concentration 2 spread by each category's share of sales), so most
//     users have one or two dominant categories; every product has a hidden
//     log-normal popularity. Each order first picks a category from the
//     user's tastes, then a product in it weighted by popularity. Users who
//     bought in a category are therefore likely to buy there again, and
//     popular products dominate each category — real signal for
//     collaborative filtering or "customers also bought" queries.
//
// Rows go in with ent's CreateBulk (multi-row INSERTs) in one transaction,
// so a failed or interrupted run leaves the database empty and the server's
// first-start seeding (see IsEmpty) simply runs again.
//
// EvaluateRecs (recsdemo.go) scores the recommender of package recs on
// this data, in a scratch database: the demo's wiring lives here, beside
// the data it builds.
package seed

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/meridian-graphql/meridian/ent"
)

// DefaultUsers is the number of users when Options.Users is 0.
const DefaultUsers = 2000

// Options of a generation run.
type Options struct {
	// Users is the number of users (DefaultUsers when 0).
	Users int
	// Seed seeds the PRNG: same seed + same options => identical data.
	Seed uint64
	// GeoDir, when set, names a directory with the full Natural Earth tables
	// (countries.csv, cities.csv, see LoadGeoDir) to use instead of the
	// embedded table.
	GeoDir string
	// Now is the reference "now" (zero: time.Now().UTC()); all generated
	// times lie before it and are in UTC, whole seconds.
	Now time.Time
	// Progress, when non-nil, receives a progress bar over the users and
	// orders inserted, and one over the users whose events are generated.
	// Nothing is printed when it is nil (the CLI passes its stderr only
	// when that is a terminal: the bars redraw one line with \r).
	Progress io.Writer
}

// bar is a progress bar over total items on opts.Progress, nil without one.
func (opts Options) bar(total int64, what string) *progressbar.ProgressBar {
	if opts.Progress == nil {
		return nil
	}
	return progressbar.NewOptions64(total,
		progressbar.OptionSetWriter(opts.Progress),
		progressbar.OptionSetDescription(what),
		progressbar.OptionShowCount(),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionOnCompletion(func() { fmt.Fprintln(opts.Progress) }),
	)
}

// Summary counts the rows a run inserted.
type Summary struct {
	Countries, Cities, Addresses, Users, Products, Orders int
	Took                                                  time.Duration
}

// Generate fills an empty database with demo data (see the package
// documentation). It refuses a database that already has countries, since
// the country codes of the geo table would collide with them.
func Generate(ctx context.Context, client *ent.Client, opts Options) (Summary, error) {
	start := time.Now()
	if opts.Users < 0 {
		return Summary{}, fmt.Errorf("seed: users must not be negative, got %d", opts.Users)
	}
	if opts.Users == 0 {
		opts.Users = DefaultUsers
	}
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	// Whole seconds: both backends then store and return exactly what was
	// generated (PostgreSQL keeps microseconds, SQLite's text format more).
	opts.Now = opts.Now.UTC().Truncate(time.Second)

	var (
		countries []GeoCountry
		cities    []GeoCity
	)
	if opts.GeoDir != "" {
		var err error
		if countries, cities, err = LoadGeoDir(opts.GeoDir); err != nil {
			return Summary{}, fmt.Errorf("seed: %w", err)
		}
	} else {
		countries, cities = EmbeddedGeo()
	}
	p, err := buildPlan(countries, cities, opts)
	if err != nil {
		return Summary{}, fmt.Errorf("seed: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return Summary{}, fmt.Errorf("seed: %w", err)
	}

	bar := opts.bar(int64(len(p.users)+len(p.orders)), "seeding users and orders")
	if err := insertPlan(ctx, client, p, bar); err != nil {
		return Summary{}, fmt.Errorf("seed: %w", err)
	}
	if bar != nil {
		_ = bar.Finish() // only fails when the terminal write fails; the data is in
	}
	// Fresh statistics: a bulk load leaves the planner none until autovacuum
	// comes by, and without them PostgreSQL guesses 310 addresses per city
	// instead of 13 and plans a place's users by walking every user
	// (issue 14: 2.9 s for a read that takes 30 ms after ANALYZE).
	if _, err := client.ExecContext(ctx, "ANALYZE"); err != nil {
		return Summary{}, fmt.Errorf("seed: analyze: %w", err)
	}
	return Summary{
		Countries: len(p.countries),
		Cities:    len(p.cities),
		Addresses: len(p.addresses),
		Users:     len(p.users),
		Products:  len(p.products),
		Orders:    len(p.orders),
		Took:      time.Since(start),
	}, nil
}

// IsEmpty reports whether the database has no countries, i.e. was never
// seeded nor filled by hand, so that the server seeds it on first start.
func IsEmpty(ctx context.Context, client *ent.Client) (bool, error) {
	exists, err := client.Country.Query().Exist(ctx)
	if err != nil {
		return false, fmt.Errorf("seed: check for countries: %w", err)
	}
	return !exists, nil
}
