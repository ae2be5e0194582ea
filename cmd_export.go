package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/meridian-graphql/meridian/analytics"
	"github.com/meridian-graphql/meridian/analytics/eventstore"
	"github.com/meridian-graphql/meridian/analytics/export"
)

// exportCmd streams events like GET /export/events, with a progress bar
// on stderr when that is a terminal.
func exportCmd(ctx context.Context, c *cli, args []string) error {
	sp := spec{"export", "[flags]", "Stream the events of the configured event store as NDJSON or CSV, in time order\n(what GET /export/events serves)."}
	fs := c.flags(sp)
	from := fs.String("from", "", "RFC 3339 start (inclusive)")
	to := fs.String("to", "", "RFC 3339 end (exclusive)")
	var types stringList
	fs.Var(&types, "type", "event type to export (repeatable)")
	user := fs.String("user", "", "only this user id")
	country := fs.String("country", "", "only events in this ISO alpha-2 country")
	format := fs.String("format", "ndjson", "ndjson or csv")
	out := fs.String("out", "-", "output file, - for stdout")
	if err := c.parse(sp, fs, args); err != nil {
		return err
	}
	q := map[string][]string{"from": {*from}, "to": {*to}, "type": types, "user": {*user}, "country": {*country}, "format": {*format}}
	rg, f, fmtName, err := export.Params(q)
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	cfg, db, err := c.database(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	events, _, err := eventstore.Open(ctx, cfg.MongoURI, cfg.MongoDatabase, db)
	if err != nil {
		return err
	}
	defer events.Close(context.Background())
	stdout, stderr := c.stdout, c.stderr
	w := stdout
	if *out != "-" {
		file, err := os.Create(*out)
		if err != nil {
			return fmt.Errorf("export: %w", err)
		}
		defer file.Close()
		w = file
	}
	bw := bufio.NewWriterSize(w, 1<<16)
	tick := func() {}
	if isTerminal(stderr) {
		bar, err := exportBar(ctx, events, rg, f, stderr)
		if err != nil {
			return fmt.Errorf("export: %w", err)
		}
		defer func() { _ = bar.Finish() }()
		tick = func() { _ = bar.Add(1) }
	}
	n, err := export.Write(ctx, events, rg, f, fmtName, bw, tick)
	if err == nil {
		err = bw.Flush()
	}
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	fmt.Fprintf(stderr, "exported %d events\n", n)
	return nil
}

// exportBar is a progress bar over the events the export will write: their
// number is the sum of the range's distribution by type (one aggregate
// query), so the bar shows a total and the time left.
func exportBar(ctx context.Context, events analytics.Store, rg analytics.Range, f analytics.Filter, w io.Writer) (*progressbar.ProgressBar, error) {
	dist, err := events.EventDistribution(ctx, rg, f)
	if err != nil {
		return nil, fmt.Errorf("count the events to export: %w", err)
	}
	var total int64
	for _, tc := range dist {
		total += tc.Count
	}
	return progressbar.NewOptions64(total, progressbar.OptionSetWriter(w), progressbar.OptionSetDescription("exporting events"),
		progressbar.OptionShowCount(), progressbar.OptionSetPredictTime(true), progressbar.OptionThrottle(200*time.Millisecond),
		progressbar.OptionClearOnFinish()), nil
}

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }
