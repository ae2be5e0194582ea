package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"
	"golang.org/x/term"

	"github.com/meridian-graphql/meridian/platform/config"
	"github.com/meridian-graphql/meridian/platform/database"
)

// cli is what a subcommand gets: the environment, read only once its flags
// have parsed (so --help works whatever the environment holds), and the
// two output streams.
type cli struct {
	getenv         func(string) string
	stdout, stderr io.Writer
}

// config loads the configuration and the logger it asks for.
func (c *cli) config() (config.Config, *slog.Logger, error) {
	cfg, err := config.Load(c.getenv)
	if err != nil {
		return config.Config{}, nil, err
	}
	log := newLogger(cfg, c.stderr)
	// go-redis logs every failed dial through a process-wide logger; the
	// cache counts and rate-limits Redis errors itself, so keep these at
	// debug.
	redis.SetLogger(redisLogger{log})
	return cfg, log, nil
}

// database loads the configuration and opens the configured database
// (migrated, see openDatabase) for a command that works on it; the caller
// closes it.
func (c *cli) database(ctx context.Context) (config.Config, *database.DB, error) {
	cfg, log, err := c.config()
	if err != nil {
		return config.Config{}, nil, err
	}
	db, err := openDatabase(ctx, cfg, log)
	if err != nil {
		return config.Config{}, nil, err
	}
	return cfg, db, nil
}

// spec describes a (sub)command for its usage text.
type spec struct {
	name     string // "seed", "apikey create"
	synopsis string // after the name: "[flags]", "--id ID"
	summary  string
}

// flags returns the command's flag set. Its own output is discarded:
// parse prints the usage where it belongs (stdout for --help, stderr for a
// mistake), which the flag package cannot tell apart.
func (c *cli) flags(s spec) *flag.FlagSet {
	fs := flag.NewFlagSet(s.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return fs
}

// errHelp ends a command whose usage was asked for: run answers it with
// exit status 0.
var errHelp = errors.New("help shown")

// parse parses args into fs. --help (or -h) prints the usage to stdout and
// returns errHelp; a bad flag prints it to stderr and returns the error.
func (c *cli) parse(s spec, fs *flag.FlagSet, args []string) error {
	err := fs.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		c.usage(c.stdout, s, fs)
		return errHelp
	case err != nil:
		c.usage(c.stderr, s, fs)
		return fmt.Errorf("%s: %w", s.name, err)
	case fs.NArg() > 0:
		c.usage(c.stderr, s, fs)
		return fmt.Errorf("%s: unexpected argument %q", s.name, fs.Arg(0))
	}
	return nil
}

func (c *cli) usage(w io.Writer, s spec, fs *flag.FlagSet) {
	fmt.Fprintf(w, "Usage: meridian %s %s\n\n%s\n", s.name, s.synopsis, s.summary)
	if fs == nil {
		return
	}
	has := false
	fs.VisitAll(func(*flag.Flag) { has = true })
	if has {
		fmt.Fprintln(w, "\nFlags:")
		fs.SetOutput(w)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	}
}

// group answers a command made of subcommands (apikey, models): with none,
// or with --help, it lists them.
func (c *cli) group(name string, subs []spec, args []string) (string, error) {
	if len(args) > 0 {
		for _, s := range subs {
			if s.name == name+" "+args[0] {
				return args[0], nil
			}
		}
	}
	w, err := c.stderr, error(nil)
	switch {
	case len(args) == 0:
		err = fmt.Errorf("%s: want a subcommand", name)
	case isHelp(args[0]):
		w, err = c.stdout, errHelp
	default:
		err = fmt.Errorf("%s: unknown subcommand %q", name, args[0])
	}
	fmt.Fprintf(w, "Usage: meridian %s <subcommand> [flags]\n\nSubcommands:\n", name)
	for _, s := range subs {
		fmt.Fprintf(w, "  %-28s %s\n", s.name+" "+s.synopsis, s.summary)
	}
	fmt.Fprintf(w, "\nmeridian %s <subcommand> --help shows a subcommand's flags.\n", name)
	return "", err
}

func isHelp(arg string) bool {
	switch arg {
	case "-h", "-help", "--help", "help":
		return true
	}
	return false
}

// Set by builds that have no VCS information for Go to stamp (the
// Dockerfile's context has no .git): go build -ldflags "-X
// main.stampedVersion=… -X main.stampedRevision=…". Never written at run
// time.
var stampedVersion, stampedRevision string

// version is the binary's version as the build stamped it: the module
// version (a tag, or a pseudo-version from the VCS revision), the
// revision and its time, whether the tree had local changes, and Go's
// version.
func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "meridian (no build information)"
	}
	settings := map[string]string{"vcs.revision": stampedRevision}
	for _, s := range bi.Settings {
		settings[s.Key] = s.Value
	}
	v := "meridian " + bi.Main.Version
	if stampedVersion != "" {
		v = "meridian " + stampedVersion
	}
	var parts []string
	if rev := settings["vcs.revision"]; rev != "" {
		if len(rev) > 12 {
			rev = rev[:12]
		}
		parts = append(parts, "revision "+rev)
	}
	if t := settings["vcs.time"]; t != "" {
		parts = append(parts, t)
	}
	if settings["vcs.modified"] == "true" {
		parts = append(parts, "modified")
	}
	if len(parts) > 0 {
		v += " (" + strings.Join(parts, ", ") + ")"
	}
	return v + " " + bi.GoVersion
}

// width is the terminal's width for the usage text: COLUMNS when set,
// else the terminal's, else 100 (a pipe or a file).
func width(w io.Writer, getenv func(string) string) int {
	if n, err := strconv.Atoi(getenv("COLUMNS")); err == nil && n > 0 {
		return n
	}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		if n, _, err := term.GetSize(int(f.Fd())); err == nil && n > 0 {
			return n
		}
	}
	return 100
}

// isTerminal reports whether w is a terminal: progress bars, which redraw
// one line with \r, are drawn only there.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
