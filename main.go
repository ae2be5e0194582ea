// Command meridian is the GraphQL analytics API server. main only reads the
// configuration and hands it to the command asked for; serving is the app
// (app.go), assembled from its parts in dependency order.
//
//	meridian                      serve (embedded SQLite and demo data by default)
//	meridian seed [flags]         generate demo data into the configured database
//	meridian migrate status|up    list or apply the schema migrations
//	meridian --help               list commands and environment variables
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

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
	c := &cli{getenv: getenv, stdout: stdout, stderr: stderr}
	err := dispatch(ctx, c, args)
	if errors.Is(err, errHelp) {
		return nil // the usage asked for is printed: exit 0
	}
	return err
}

func dispatch(ctx context.Context, c *cli, args []string) error {
	if len(args) == 0 {
		cfg, log, err := c.config()
		if err != nil {
			return err
		}
		return serve(ctx, cfg, log)
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		usage(c.stdout, width(c.stdout, c.getenv))
		return nil
	case "-version", "--version", "version":
		fmt.Fprintln(c.stdout, version())
		return nil
	case "seed":
		return seedCmd(ctx, c, args[1:])
	case "export":
		return exportCmd(ctx, c, args[1:])
	case "healthcheck":
		return healthcheck(ctx, c, args[1:])
	case "models":
		return modelsCmd(ctx, c, args[1:])
	case "apikey":
		return apikeyCmd(ctx, c, args[1:])
	case "migrate":
		return migrateCmd(ctx, c, args[1:])
	default:
		usage(c.stderr, width(c.stderr, c.getenv))
		return fmt.Errorf("unknown command %q (meridian --help lists them)", args[0])
	}
}

func usage(w io.Writer, width int) {
	fmt.Fprint(w, `Meridian — a GraphQL analytics API.

Usage:
  meridian                 serve GraphQL on MERIDIAN_ADDR (GraphiQL at /, API at /query)
  meridian seed [flags]    generate deterministic demo data
  meridian export [flags]  stream events as NDJSON or CSV
  meridian healthcheck     exit 0 when the local server answers /readyz (for containers)
  meridian apikey create|revoke [flags]
                           create an API key (shown once; only its hash is kept) or revoke one
  meridian migrate status|up [flags]
                           list the schema migrations (applied, pending) or apply the pending ones
  meridian models evaluate|evaluate-recs [flags]
                           score the analytics models offline (CDNOW holdout; recommender)
  meridian --version       the version, VCS revision and Go version of this build
  meridian --help          this text

Every command takes --help for its own flags.

Environment:
`)
	config.PrintHelp(w, width)
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
