package dbschema

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"time"

	"entgo.io/ent/dialect"
	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver
	_ "modernc.org/sqlite"             // the "sqlite" driver
)

// SQLiteDev returns two in-memory SQLite databases, for Diff; close closes
// them.
func SQLiteDev() (dev Dev, closeDev func(), err error) {
	open := func() (*sql.DB, error) {
		db, err := sql.Open("sqlite", "file:dev?mode=memory&_pragma=foreign_keys(1)")
		if err != nil {
			return nil, fmt.Errorf("in-memory SQLite: %w", err)
		}
		db.SetMaxOpenConns(1) // the database lives on its one connection
		return db, nil
	}
	dev.Dialect = dialect.SQLite
	if dev.Desired, err = open(); err != nil {
		return Dev{}, nil, err
	}
	if dev.Replay, err = open(); err != nil {
		dev.Desired.Close()
		return Dev{}, nil, err
	}
	return dev, func() { dev.Desired.Close(); dev.Replay.Close() }, nil
}

// PostgresDev creates two empty databases on the PostgreSQL server of
// adminURL (which must allow CREATE DATABASE), for Diff; closeDev drops
// them.
func PostgresDev(ctx context.Context, adminURL string) (dev Dev, closeDev func(), err error) {
	admin, err := sql.Open("pgx", adminURL)
	if err != nil {
		return Dev{}, nil, fmt.Errorf("dev PostgreSQL: %w", err)
	}
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := admin.PingContext(pingCtx); err != nil {
		admin.Close()
		return Dev{}, nil, fmt.Errorf("dev PostgreSQL %s is unreachable (the postgres directory is diffed on a scratch database there): %w", redact(adminURL), err)
	}
	u, err := url.Parse(adminURL)
	if err != nil {
		admin.Close()
		return Dev{}, nil, fmt.Errorf("dev PostgreSQL URL: %w", err)
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	base := "meridian_migrate_" + hex.EncodeToString(b)
	var made []string
	var pools []*sql.DB
	closeDev = func() {
		for _, p := range pools {
			p.Close()
		}
		dropCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		for _, name := range made {
			_, _ = admin.ExecContext(dropCtx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
		}
		admin.Close()
	}
	open := func(suffix string) (*sql.DB, error) {
		name := base + "_" + suffix
		if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
			return nil, fmt.Errorf("create the dev database: %w", err)
		}
		made = append(made, name)
		v := *u
		v.Path = "/" + name
		db, err := sql.Open("pgx", v.String())
		if err != nil {
			return nil, fmt.Errorf("open the dev database: %w", err)
		}
		pools = append(pools, db)
		return db, nil
	}
	dev.Dialect = dialect.Postgres
	if dev.Desired, err = open("desired"); err == nil {
		dev.Replay, err = open("replay")
	}
	if err != nil {
		closeDev()
		return Dev{}, nil, err
	}
	return dev, closeDev, nil
}

// redact hides the password of a URL.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}
