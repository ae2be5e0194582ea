package faultsvc

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Postgres is a private PostgreSQL cluster (trust auth on 127.0.0.1).
type Postgres struct {
	Version string // major version of the Debian cluster tools, "15"
	Name    string // cluster name
	Port    int
	tb      testing.TB
}

// StartPostgres creates and starts a cluster of the test's own on a free
// port; it is stopped and dropped at cleanup.
func StartPostgres(tb testing.TB) *Postgres {
	tb.Helper()
	need(tb, "pg_createcluster", "pg_ctlcluster", "pg_dropcluster")
	versions, _ := filepath.Glob("/etc/postgresql/*")
	if len(versions) == 0 {
		tb.Skip("faultsvc: no PostgreSQL cluster tools configured under /etc/postgresql")
	}
	p := &Postgres{Version: filepath.Base(versions[0]), Name: uniqueName("faults"), Port: freePort(tb), tb: tb}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	// fsync off: a kill -9 of the server loses nothing the kernel holds,
	// and the tests crash the server, not the machine.
	if out, err := sh(ctx, "pg_createcluster", p.Version, p.Name, "--port", strconv.Itoa(p.Port),
		"-o", "fsync=off", "-o", "max_connections=200",
		"--", "--auth=trust"); err != nil {
		tb.Fatalf("faultsvc: create cluster: %v\n%s", err, out)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_ = p.signalPostmaster(syscall.SIGKILL) // no clean shutdown needed
		if out, err := sh(ctx, "pg_dropcluster", p.Version, p.Name, "--stop"); err != nil {
			tb.Logf("faultsvc: drop cluster %s: %v\n%s", p.Name, err, out)
		}
	})
	if err := p.start(ctx); err != nil {
		tb.Fatal(err)
	}
	return p
}

// URL is the connection URL of database db ("postgres" when empty).
func (p *Postgres) URL(db string) string {
	if db == "" {
		db = "postgres"
	}
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", p.Port, db)
}

// CreateDatabase creates a database and returns its URL.
func (p *Postgres) CreateDatabase(name string) string {
	p.tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if out, err := sh(ctx, "psql", "-X", "-q", p.URL(""), "-c", "CREATE DATABASE "+name); err != nil {
		p.tb.Fatalf("faultsvc: create database: %v\n%s", err, out)
	}
	return p.URL(name)
}

// Psql runs one statement with psql and returns its unaligned output.
func (p *Postgres) Psql(db, stmt string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := sh(ctx, "psql", "-X", "-q", "-At", p.URL(db), "-c", stmt)
	return strings.TrimSpace(out), err
}

func (p *Postgres) pidFile() string {
	return filepath.Join("/var/lib/postgresql", p.Version, p.Name, "postmaster.pid")
}

func (p *Postgres) signalPostmaster(sig syscall.Signal) error {
	return signal(p.pidFile(), sig)
}

// Kill crashes the server: kill -9 of the postmaster. Its backends notice
// the postmaster's death and exit; nothing is shut down cleanly.
func (p *Postgres) Kill() {
	p.tb.Helper()
	pid, err := pidFile(p.pidFile())
	if err != nil {
		p.tb.Fatalf("faultsvc: kill postgres: %v", err)
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		p.tb.Fatalf("faultsvc: kill postgres: %v", err)
	}
	if !gone(pid, 10*time.Second) {
		p.tb.Fatalf("faultsvc: postgres %d still alive after kill -9", pid)
	}
}

// Start restarts the cluster after Kill (crash recovery) and waits until
// it accepts connections.
func (p *Postgres) Start() {
	p.tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := p.start(ctx); err != nil {
		p.tb.Fatal(err)
	}
}

// Down kills the server, keeps it down for d, then starts it again.
func (p *Postgres) Down(d time.Duration) {
	p.tb.Helper()
	p.Kill()
	time.Sleep(d)
	p.Start()
}

func (p *Postgres) start(ctx context.Context) error {
	var last error
	// Orphaned backends of a killed postmaster may hold its shared memory
	// for a moment; the start is retried until they are gone.
	for ctx.Err() == nil {
		out, err := sh(ctx, "pg_ctlcluster", "--skip-systemctl-redirect", p.Version, p.Name, "start")
		if err == nil {
			if err := waitReady(ctx, p); err == nil {
				return nil
			} else {
				last = err
			}
		} else {
			last = fmt.Errorf("%w\n%s", err, out)
		}
		time.Sleep(300 * time.Millisecond)
	}
	return fmt.Errorf("faultsvc: start postgres %s: %w", p.Name, last)
}

// waitReady waits until the server answers a query (not only the port:
// a recovering server accepts and refuses with "starting up").
func waitReady(ctx context.Context, p *Postgres) error {
	for {
		if _, err := p.Psql("", "SELECT 1"); err == nil {
			return nil
		} else if ctx.Err() != nil {
			return err
		}
		select {
		case <-ctx.Done():
		case <-time.After(100 * time.Millisecond):
		}
	}
}
