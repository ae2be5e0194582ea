package database

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"ariga.io/atlas/sql/migrate"
	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	"go.opentelemetry.io/otel/trace"
	_ "modernc.org/sqlite" // registers the pure-Go "sqlite" driver

	"github.com/meridian-graphql/meridian/ent"
)

// DB is an open database: the ent client and the counting driver under it.
type DB struct {
	Client  *ent.Client
	Driver  *Driver
	Dialect string // dialect.SQLite or dialect.Postgres
	// Embedded reports whether this is the embedded SQLite file.
	Embedded bool
	sql      *sql.DB
	log      *slog.Logger // nil: slog.Default()
	pool     Pool
	tp       trace.TracerProvider // nil: statements are not traced
	// noMigrate: Open leaves the schema alone (WithoutMigrate).
	noMigrate bool
	// allowDestructive: Migrate applies destructive files too
	// (WithAllowDestructive).
	allowDestructive bool
	// dir replaces the embedded migration directory (tests).
	dir *migrate.MemDir
}

// Pool sizes the PostgreSQL connection pool (MERIDIAN_DB_MAX_CONNS,
// MERIDIAN_DB_IDLE_TIMEOUT). Every open connection may stay idle: with
// fewer idle slots than open ones, a load between the two closes and
// reopens sessions all the time (issue 14 saw 606 new PostgreSQL sessions
// in 43,700 requests at 16 clients with 20 open / 10 idle), each costing a
// backend start and its authentication.
type Pool struct {
	MaxConns    int           // open connections at most; 0: 20
	IdleTimeout time.Duration // an idle connection closes after it; 0: 5 minutes
}

// WithPool sizes the PostgreSQL pool; SQLite keeps its own settings.
func WithPool(p Pool) Option { return func(d *DB) { d.pool = p } }

func (p Pool) apply(db *sql.DB) {
	if p.MaxConns <= 0 {
		p.MaxConns = 20
	}
	if p.IdleTimeout <= 0 {
		p.IdleTimeout = 5 * time.Minute
	}
	db.SetMaxOpenConns(p.MaxConns)
	db.SetMaxIdleConns(p.MaxConns)
	db.SetConnMaxIdleTime(p.IdleTimeout)
}

// Option configures Open.
type Option func(*DB)

// WithLogger sets the logger of the database (e.g. for a migration that
// waits for another process); the default is slog.Default().
func WithLogger(log *slog.Logger) Option { return func(d *DB) { d.log = log } }

// Open connects to databaseURL, or — when it is empty — to the embedded
// SQLite file meridian.db in dataDir, and migrates the schema (see
// Migrate) unless WithoutMigrate.
func Open(ctx context.Context, databaseURL, dataDir string, opts ...Option) (*DB, error) {
	var (
		db       *sql.DB
		dia      string
		err      error
		embedded bool
		set      DB // the options, read before the pool is sized
		// where names the database in errors: the SQLite file's path (the
		// embedded default has no URL to show) or the redacted URL.
		where = redact(databaseURL)
	)
	for _, o := range opts {
		o(&set)
	}
	switch {
	case databaseURL == "":
		if err := os.MkdirAll(dataDir, 0o755); err != nil {
			return nil, fmt.Errorf("create data directory %s: %w", dataDir, err)
		}
		where = filepath.Join(dataDir, "meridian.db")
		db, err = openSQLite(where, set.tp)
		dia, embedded = dialect.SQLite, true
	case strings.HasPrefix(databaseURL, "postgres://"), strings.HasPrefix(databaseURL, "postgresql://"):
		db, err = sqlOpen("pgx", databaseURL, "postgresql", set.tp)
		dia = dialect.Postgres
		if err == nil {
			set.pool.apply(db)
		}
	case strings.HasPrefix(databaseURL, "sqlite:"), strings.HasPrefix(databaseURL, "file:"):
		path := strings.TrimPrefix(strings.TrimPrefix(databaseURL, "sqlite:"), "file:")
		path = strings.TrimPrefix(path, "//")
		if i := strings.IndexByte(path, '?'); i >= 0 {
			path = path[:i]
		}
		where = path
		db, err = openSQLite(path, set.tp)
		dia, embedded = dialect.SQLite, true
	default:
		return nil, fmt.Errorf("DATABASE_URL: unsupported scheme in %q (want postgres://, sqlite: or empty for the embedded default)", redact(databaseURL))
	}
	if err != nil {
		return nil, fmt.Errorf("open %s database %s: %w", dia, where, err)
	}
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := db.PingContext(pingCtx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connect to %s database %s: %w", dia, where, err)
	}
	drv := NewDriver(entsql.OpenDB(dia, db))
	out := &DB{
		Client:   ent.NewClient(ent.Driver(drv)),
		Driver:   drv,
		Dialect:  dia,
		Embedded: embedded,
		sql:      db,
	}
	for _, o := range opts {
		o(out)
	}
	if out.noMigrate {
		return out, nil
	}
	if err := out.Migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return out, nil
}

// openSQLite opens a SQLite file with foreign keys on, WAL journaling and a
// busy timeout. Writes take the lock at BEGIN (txlock=immediate) so that two
// writers never deadlock upgrading a read lock. Times are stored in SQLite's
// own format, converted to UTC, so that its date functions and string
// comparisons work on them whatever zone a client sent.
func openSQLite(path string, tp trace.TracerProvider) (*sql.DB, error) {
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("create directory for %s: %w", path, err)
		}
	}
	q := url.Values{}
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Set("_txlock", "immediate")
	q.Set("_time_format", "sqlite")
	q.Set("_timezone", "UTC")
	db, err := sqlOpen("sqlite", "file:"+path+"?"+q.Encode(), "sqlite", tp)
	if err != nil {
		return nil, err
	}
	// One writer at a time is all SQLite allows; a small pool keeps readers
	// concurrent under WAL without piling up busy writers.
	db.SetMaxOpenConns(4)
	return db, nil
}

// Ping checks the connection, for /readyz.
func (d *DB) Ping(ctx context.Context) error {
	if err := d.sql.PingContext(ctx); err != nil {
		return fmt.Errorf("ping %s: %w", d.Dialect, err)
	}
	return nil
}

// Close closes the client and the pool.
func (d *DB) Close() error { return d.Client.Close() }

// redact hides the password of a connection URL for logs and errors.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}

// SQL is the connection pool, for code that needs database/sql directly
// (the event store's bulk ingest). Statements run through it are not counted.
func (d *DB) SQL() *sql.DB { return d.sql }
