package database_test

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/meridian-graphql/meridian/internal/testdb"
	"github.com/meridian-graphql/meridian/internal/testlog"
	"github.com/meridian-graphql/meridian/platform/database"
)

func needPostgres(t *testing.T) {
	t.Helper()
	if !slices.Contains(testdb.Backends(), "postgres") {
		t.Skip("PostgreSQL left out by MERIDIAN_TEST_BACKENDS")
	}
}

// TestConcurrentOpenMigrates starts two "replicas" (separate pools) on a
// fresh database at the same moment, as docker-compose does: both migrate,
// then both run hand-written DDL of the kind the outbox, the consumers and
// the API keys create, under WithMigrationLock. Without the lock, every
// round failed (duplicate key value violates unique constraint
// "pg_type_typname_nsp_index").
func TestConcurrentOpenMigrates(t *testing.T) {
	needPostgres(t)
	for round := range 10 {
		url := testdb.NewPostgresDatabase(t)
		var (
			wg        sync.WaitGroup
			start     = make(chan struct{})
			opened    sync.WaitGroup
			errs      [2]error
			ddlErrs   [2]error
			dbs       [2]*database.DB
			statement = []string{
				`CREATE TABLE IF NOT EXISTS lock_probe (id TEXT PRIMARY KEY, at BIGINT NOT NULL)`,
				`CREATE INDEX IF NOT EXISTS lock_probe_at ON lock_probe (at)`,
			}
		)
		opened.Add(2)
		for i := range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				dbs[i], errs[i] = database.Open(t.Context(), url, "")
				opened.Done()
				if errs[i] != nil {
					return
				}
				opened.Wait() // run the DDL at the same moment too
				ddlErrs[i] = dbs[i].WithMigrationLock(t.Context(), func(ctx context.Context) error {
					for _, s := range statement {
						if _, err := dbs[i].Driver.ExecContext(ctx, s); err != nil {
							return err
						}
					}
					return nil
				})
			}()
		}
		close(start)
		wg.Wait()
		for i := range 2 {
			if errs[i] != nil {
				t.Errorf("round %d, replica %d: open: %v", round, i, errs[i])
				continue
			}
			if ddlErrs[i] != nil {
				t.Errorf("round %d, replica %d: DDL: %v", round, i, ddlErrs[i])
			}
			if n := dbs[i].SQL().Stats().InUse; n != 0 {
				t.Errorf("round %d, replica %d: %d connections still in use", round, i, n)
			}
			dbs[i].Close()
		}
	}
}

// hold takes the migration lock through db (another pool: another process)
// and keeps it until release is closed; it returns once the lock is held.
func hold(t *testing.T, db *database.DB, release <-chan struct{}) <-chan error {
	t.Helper()
	held := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- db.WithMigrationLock(context.Background(), func(context.Context) error {
			close(held)
			<-release
			return nil
		})
	}()
	select {
	case <-held:
	case err := <-done:
		t.Fatalf("hold the lock: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("hold the lock: timed out")
	}
	return done
}

// waitingLocks counts the sessions of db's database waiting for an advisory lock.
func waitingLocks(t *testing.T, db *sql.DB) int {
	t.Helper()
	var n int
	if err := db.QueryRowContext(context.Background(), `SELECT count(*) FROM pg_locks
		WHERE locktype = 'advisory' AND NOT granted
		AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestMigrationLockWaitsAndCancels(t *testing.T) {
	needPostgres(t)
	url := testdb.NewPostgresDatabase(t)
	holder := testdb.OpenURL(t, url)
	var logs testlog.Buffer
	db, err := database.Open(t.Context(), url, "", database.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	release := make(chan struct{})
	holderDone := hold(t, holder, release)

	for _, tc := range []struct {
		name string
		ctx  func() (context.Context, context.CancelFunc)
		want error
	}{
		{"cancel", func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(300*time.Millisecond, cancel)
			return ctx, cancel
		}, context.Canceled},
		{"deadline", func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 300*time.Millisecond)
		}, context.DeadlineExceeded},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := tc.ctx()
			defer cancel()
			var ran atomic.Bool
			began := time.Now()
			err := db.WithMigrationLock(ctx, func(context.Context) error { ran.Store(true); return nil })
			took := time.Since(began)
			t.Logf("returned after %v: %v", took, err)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v wrapped", err, tc.want)
			}
			if !strings.Contains(err.Error(), "migration lock") {
				t.Errorf("err = %q, want it to say what it waited for", err)
			}
			if ran.Load() {
				t.Error("fn ran without the lock")
			}
			if took < 250*time.Millisecond || took > 2*time.Second {
				t.Errorf("returned after %v, want about 300ms", took)
			}
			// The driver cancels the waiting query on the server too.
			deadline := time.Now().Add(5 * time.Second)
			for waitingLocks(t, holder.SQL()) != 0 {
				if time.Now().After(deadline) {
					t.Fatal("the cancelled wait is still queued on the server")
				}
				time.Sleep(20 * time.Millisecond)
			}
		})
	}

	// A caller without a deadline waits for the holder, logs that it waits
	// once a second has passed, and runs as soon as the lock is released.
	var ranAt atomic.Int64
	waiterDone := make(chan error, 1)
	began := time.Now()
	go func() {
		waiterDone <- db.WithMigrationLock(context.Background(), func(context.Context) error {
			ranAt.Store(int64(time.Since(began)))
			return nil
		})
	}()
	time.Sleep(1300 * time.Millisecond)
	if ranAt.Load() != 0 {
		t.Fatal("fn ran while another connection held the lock")
	}
	close(release)
	releasedAt := time.Since(began)
	if err := <-holderDone; err != nil {
		t.Fatal(err)
	}
	if err := <-waiterDone; err != nil {
		t.Fatal(err)
	}
	t.Logf("waiter ran %v after the holder released", time.Duration(ranAt.Load())-releasedAt)
	if got := logs.String(); !strings.Contains(got, "waiting for the migration lock") || !strings.Contains(got, "migration lock acquired") {
		t.Errorf("logs = %q, want the wait and the acquisition logged", got)
	}
	for _, d := range []*database.DB{holder, db} {
		if n := d.SQL().Stats().InUse; n != 0 {
			t.Errorf("%d connections still in use", n)
		}
	}
}

// TestMigrationLockReleasedOnErrorAndPanic: fn's error comes back unchanged
// and a panic goes on up; either way the lock is released at once.
func TestMigrationLockReleasedOnErrorAndPanic(t *testing.T) {
	needPostgres(t)
	url := testdb.NewPostgresDatabase(t)
	a, b := testdb.OpenURL(t, url), testdb.OpenURL(t, url)
	acquire := func() {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if err := b.WithMigrationLock(ctx, func(context.Context) error { return nil }); err != nil {
			t.Fatalf("the lock was not released: %v", err)
		}
	}

	boom := errors.New("boom")
	if err := a.WithMigrationLock(t.Context(), func(context.Context) error { return boom }); !errors.Is(err, boom) {
		t.Fatalf("err = %v, want %v", err, boom)
	}
	acquire()

	func() {
		defer func() {
			if r := recover(); r != "boom" {
				t.Fatalf("recovered %v, want the panic of fn", r)
			}
		}()
		_ = a.WithMigrationLock(t.Context(), func(context.Context) error { panic("boom") })
	}()
	acquire()
	if n := a.SQL().Stats().InUse; n != 0 {
		t.Errorf("%d connections still in use", n)
	}
}

// TestMigrationLockNested: a WithMigrationLock inside fn (say, Migrate
// wrapped with the other start-up DDL) runs directly instead of waiting for
// itself on another connection.
func TestMigrationLockNested(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		defer cancel()
		err := db.WithMigrationLock(ctx, func(ctx context.Context) error {
			return db.Migrate(ctx)
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}
