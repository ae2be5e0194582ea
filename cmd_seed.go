package main

import (
	"context"
	"fmt"
	"time"

	"github.com/meridian-graphql/meridian/analytics/engine"
	"github.com/meridian-graphql/meridian/analytics/eventstore"
	"github.com/meridian-graphql/meridian/seed"
)

func seedCmd(ctx context.Context, c *cli, args []string) error {
	sp := spec{"seed", "[flags]", "Generate deterministic demo data (countries, cities, addresses, users, products, orders\nand their events) into the configured database, which must be empty."}
	fs := c.flags(sp)
	users := fs.Int("users", 2000, "number of users to generate")
	s := fs.Uint64("seed", 1, "random seed: the same seed and flags give the same data")
	ifEmpty := fs.Bool("if-empty", false, "do nothing (and succeed) when the database already holds data")
	withEvents := fs.Bool("events", true, "also generate the matching event stream into the event store")
	geo := fs.String("geo", "", "directory with Natural Earth countries.csv and cities.csv (the team's ../shared/data/geo, not in the repository); default: the embedded table")
	if err := c.parse(sp, fs, args); err != nil {
		return err
	}
	if *users < 0 {
		return fmt.Errorf("seed: --users must not be negative")
	}
	stderr := c.stderr
	cfg, db, err := c.database(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	empty, err := seed.IsEmpty(ctx, db.Client)
	if err != nil {
		return err
	}
	if !empty {
		if *ifEmpty {
			fmt.Fprintln(stderr, "seed: the database already holds data; nothing to do")
			return nil
		}
		return fmt.Errorf("seed: the database already holds data; seed into an empty database")
	}
	opts := seed.Options{Users: *users, Seed: *s, GeoDir: *geo}
	if isTerminal(stderr) {
		opts.Progress = stderr // bars redraw a line with \r: a file would get every frame
	}
	sum, err := seed.Generate(ctx, db.Client, opts)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "seeded %d countries, %d cities, %d addresses, %d users, %d products, %d orders in %s\n",
		sum.Countries, sum.Cities, sum.Addresses, sum.Users, sum.Products, sum.Orders, sum.Took.Round(time.Millisecond))
	if !*withEvents {
		return nil
	}
	events, _, err := eventstore.Open(ctx, cfg.MongoURI, cfg.MongoDatabase, db)
	if err != nil {
		return err
	}
	defer events.Close(context.Background())
	start := time.Now()
	n, err := seed.Events(ctx, db.Client, events, opts)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "seeded %d events in %s\n", n, time.Since(start).Round(time.Millisecond))
	// The database was empty, so a server already running on it fitted on no
	// customers; its engine looks for orders and refits (engine.Run).
	fmt.Fprintf(stderr, "a server already running on this database refits its models within %s\n", engine.DefaultEmptyRecheck)
	return nil
}
