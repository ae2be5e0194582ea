package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/meridian-graphql/meridian/analytics/engine"
	"github.com/meridian-graphql/meridian/analytics/eventstore"
	"github.com/meridian-graphql/meridian/platform/config"
	"github.com/meridian-graphql/meridian/seed"
)

func seedCmd(ctx context.Context, cfg config.Config, log *slog.Logger, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("seed", flag.ContinueOnError)
	fs.SetOutput(stderr)
	users := fs.Int("users", 2000, "number of users to generate")
	s := fs.Uint64("seed", 1, "random seed: the same seed and flags give the same data")
	ifEmpty := fs.Bool("if-empty", false, "do nothing (and succeed) when the database already holds data")
	withEvents := fs.Bool("events", true, "also generate the matching event stream into the event store")
	geo := fs.String("geo", "", "directory with Natural Earth countries.csv and cities.csv (e.g. ../shared/data/geo); default: the embedded table")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *users < 0 {
		return fmt.Errorf("seed: --users must not be negative")
	}
	db, err := openDatabase(ctx, cfg, log)
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
	opts := seed.Options{Users: *users, Seed: *s, GeoDir: *geo, Progress: stderr}
	sum, err := seed.Generate(ctx, db.Client, opts)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "\nseeded %d countries, %d cities, %d addresses, %d users, %d products, %d orders in %s\n",
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
