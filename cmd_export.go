package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/meridian-graphql/meridian/analytics/eventstore"
	"github.com/meridian-graphql/meridian/analytics/export"
	"github.com/meridian-graphql/meridian/platform/config"
)

// exportCmd streams events like GET /export/events, with a progress bar on
// stderr.
func exportCmd(ctx context.Context, cfg config.Config, log *slog.Logger, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("export", flag.ContinueOnError)
	fs.SetOutput(stderr)
	from := fs.String("from", "", "RFC 3339 start (inclusive)")
	to := fs.String("to", "", "RFC 3339 end (exclusive)")
	var types stringList
	fs.Var(&types, "type", "event type to export (repeatable)")
	user := fs.String("user", "", "only this user id")
	country := fs.String("country", "", "only events in this ISO alpha-2 country")
	format := fs.String("format", "ndjson", "ndjson or csv")
	out := fs.String("out", "-", "output file, - for stdout")
	if err := fs.Parse(args); err != nil {
		return err
	}
	q := map[string][]string{"from": {*from}, "to": {*to}, "type": types, "user": {*user}, "country": {*country}, "format": {*format}}
	rg, f, fmtName, err := export.Params(q)
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	db, err := openDatabase(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer db.Close()
	events, _, err := eventstore.Open(ctx, cfg.MongoURI, cfg.MongoDatabase, db)
	if err != nil {
		return err
	}
	defer events.Close(context.Background())
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
	bar := progressbar.NewOptions64(-1, progressbar.OptionSetWriter(stderr), progressbar.OptionSetDescription("exporting events"),
		progressbar.OptionShowCount(), progressbar.OptionThrottle(200*time.Millisecond), progressbar.OptionClearOnFinish())
	n, err := export.Write(ctx, events, rg, f, fmtName, bw, func() { _ = bar.Add(1) })
	if err == nil {
		err = bw.Flush()
	}
	_ = bar.Finish()
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	fmt.Fprintf(stderr, "exported %d events\n", n)
	return nil
}

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }
