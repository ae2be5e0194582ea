package main

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"net/url"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
)

// freshDatabase creates an empty database on the PostgreSQL server of
// adminURL and returns its URL and a function that drops it. Two servers
// need one database they can share, which the embedded SQLite file is not
// (the server takes it for one process: no migration lock there), and a
// fresh one per run keeps the runs apart and the event tables small.
func freshDatabase(ctx context.Context, adminURL, runID string) (string, func(), error) {
	u, err := url.Parse(adminURL)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return "", nil, fmt.Errorf("-database-url: want postgres://…, got %q", adminURL)
	}
	admin, err := sql.Open("pgx", adminURL)
	if err != nil {
		return "", nil, err
	}
	name := "livesubs_" + runID // runID is base 36: a valid identifier
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if _, err := admin.ExecContext(cctx, "CREATE DATABASE "+name); err != nil {
		admin.Close()
		return "", nil, fmt.Errorf("create database %s: %w", name, err)
	}
	drop := func() {
		defer admin.Close()
		dctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		// FORCE: a server killed after its SIGTERM grace may leave
		// connections the database would otherwise wait for.
		if _, err := admin.ExecContext(dctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			slog.Warn("could not drop the run's database", "database", name, "error", err)
		}
	}
	u.Path = "/" + name
	slog.Info("fresh database", "database", name)
	return u.String(), drop, nil
}
