// Command meridian is the GraphQL analytics API server. main only reads the
// configuration and hands it to the command asked for; serving is the app
// (app.go), assembled from its parts in dependency order.
//
//	meridian                      serve (embedded SQLite and demo data by default)
//	meridian seed [flags]         generate demo data into the configured database
//	meridian --help               list commands and environment variables
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/redis/go-redis/v9"

	"github.com/meridian-graphql/meridian/platform/config"
	"github.com/meridian-graphql/meridian/platform/observe"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "meridian:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
		usage(stdout)
		return nil
	}
	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	log := newLogger(cfg, stderr)
	// go-redis logs every failed dial through a process-wide logger; the
	// cache counts and rate-limits Redis errors itself, so keep these at debug.
	redis.SetLogger(redisLogger{log})
	if len(args) == 0 {
		return serve(ctx, cfg, log)
	}
	switch args[0] {
	case "seed":
		return seedCmd(ctx, cfg, log, args[1:], stderr)
	case "export":
		return exportCmd(ctx, cfg, log, args[1:], stdout, stderr)
	case "healthcheck":
		return healthcheck(ctx, cfg)
	case "models":
		return modelsCmd(ctx, args[1:], stdout, stderr)
	case "apikey":
		return apikeyCmd(ctx, cfg, log, args[1:], stdout, stderr)
	default:
		usage(stderr)
		return fmt.Errorf("unknown command %q", args[0])
	}
}

func usage(w io.Writer) {
	fmt.Fprint(w, `Meridian — a GraphQL analytics API.

Usage:
  meridian                 serve GraphQL on MERIDIAN_ADDR (GraphiQL at /, API at /query)
  meridian seed [flags]    generate deterministic demo data (meridian seed --help)
  meridian export [flags]  stream events as NDJSON or CSV (meridian export --help)
  meridian healthcheck     exit 0 when the local server answers /readyz (for containers)
  meridian apikey create --name NAME --role viewer|analyst|admin
                           create an API key and print it (shown once; only its hash is kept)
  meridian apikey revoke --id ID
  meridian models evaluate --cdnow DIR
                           fit BG/NBD and Gamma-Gamma on CDNOW's calibration period and
                           score the holdout (per-frequency means, churn AUC and Brier)
  meridian models evaluate-recs [--users N] [--seed S]
                           leave-last-out precision, recall and NDCG@10 of the
                           recommender on the demo data, next to popularity
  meridian --help          this text

Environment:
`)
	config.PrintHelp(w)
}

func newLogger(cfg config.Config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	// LogHandler adds the request id (and trace ids) of the record's
	// context to every line.
	if cfg.LogJSON {
		return slog.New(observe.LogHandler(slog.NewJSONHandler(w, opts)))
	}
	return slog.New(observe.LogHandler(slog.NewTextHandler(w, opts)))
}

// redisLogger sends go-redis's own log lines to slog at debug level.
type redisLogger struct{ log *slog.Logger }

func (l redisLogger) Printf(ctx context.Context, format string, v ...any) {
	l.log.DebugContext(ctx, "redis: "+fmt.Sprintf(format, v...))
}
