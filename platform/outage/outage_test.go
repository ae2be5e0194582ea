package outage_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	_ "modernc.org/sqlite"

	"github.com/meridian-graphql/meridian/platform/outage"
)

// closedAddr is a local address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// The errors the drivers return when the store is away, produced for real:
// a dial to a closed port through pgconn, net and the MongoDB driver, and
// a SQLite file locked by another connection.
func realOutages(t *testing.T) map[string]error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	addr := closedAddr(t)
	out := map[string]error{}

	_, err := pgconn.Connect(ctx, "postgres://postgres@"+addr+"/x?connect_timeout=2")
	out["pgconn connect refused"] = fmt.Errorf("look up api key: %w", err)

	_, err = net.Dial("tcp", addr)
	out["net dial refused"] = err

	mc, err := mongo.Connect(options.Client().ApplyURI("mongodb://" + addr).SetServerSelectionTimeout(200 * time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	out["mongo server selection"] = mc.Ping(ctx, nil)
	_ = mc.Disconnect(ctx)
	_, err = mc.Database("x").Collection("y").InsertOne(ctx, map[string]int{"a": 1})
	out["mongo client disconnected"] = err

	path := filepath.Join(t.TempDir(), "locked.db")
	a, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(0)")
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(0)")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if _, err := a.Exec(`CREATE TABLE t (x INTEGER)`); err != nil {
		t.Fatal(err)
	}
	conn, err := a.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `BEGIN EXCLUSIVE`); err != nil {
		t.Fatal(err)
	}
	_, err = b.Exec(`INSERT INTO t VALUES (1)`)
	out["sqlite database is locked"] = err
	_, _ = conn.ExecContext(ctx, `ROLLBACK`)
	return out
}

func TestIsOnRealDriverErrors(t *testing.T) {
	for name, err := range realOutages(t) {
		if err == nil {
			t.Errorf("%s: the driver returned no error", name)
			continue
		}
		if !outage.Is(err) || !outage.Transient(err) {
			t.Errorf("%s: Is = %v, Transient = %v for %T %v; want both true", name, outage.Is(err), outage.Transient(err), err, err)
		}
	}
}

func TestIsOnServerAnswers(t *testing.T) {
	pg := func(code, msg string) error {
		return fmt.Errorf("query: %w", &pgconn.PgError{Severity: "FATAL", Code: code, Message: msg})
	}
	for _, tc := range []struct {
		name          string
		err           error
		is, transient bool
	}{
		{"starting up", pg("57P03", "the database system is starting up"), true, true},
		{"admin shutdown", pg("57P01", "terminating connection due to administrator command"), true, true},
		{"postmaster died", pg("57P01", "terminating connection due to unexpected postmaster exit"), true, true},
		{"crash of another process", pg("57P02", "terminating connection because of crash of another server process"), true, true},
		{"connection failure", pg("08006", "connection failure"), true, true},
		{"too many connections", pg("53300", "sorry, too many clients already"), true, true},
		{"io error", pg("58030", "could not write"), true, true},
		{"statement timeout", pg("57014", "canceling statement due to statement timeout"), false, true},
		{"deadlock", pg("40P01", "deadlock detected"), false, true},
		{"serialization", pg("40001", "could not serialize access"), false, true},
		{"unique violation", pg("23505", "duplicate key"), false, false},
		{"index row too big", pg("54000", "index row requires 12024 bytes"), false, false},
		{"string too long", pg("22001", "value too long"), false, false},
		{"undefined table", pg("42P01", "relation does not exist"), false, false},
		{"unexpected EOF", fmt.Errorf("failed to receive message: %w", errUnexpectedEOF()), true, true},
		{"bad conn", fmt.Errorf("exec: %w", driverErrBadConn()), true, true},
		{"caller cancelled", fmt.Errorf("query: %w", context.Canceled), false, true},
		{"caller deadline", fmt.Errorf("query: %w", context.DeadlineExceeded), false, true},
		{"no rows", sql.ErrNoRows, false, false},
		{"plain", errors.New("resolver bug"), false, false},
		{"nil", nil, false, false},
		{"mongo shutting down", mongo.CommandError{Code: 91, Message: "shutdown in progress"}, true, true},
		{"mongo bad value", mongo.CommandError{Code: 2, Message: "bad value"}, false, false},
	} {
		if got := outage.Is(tc.err); got != tc.is {
			t.Errorf("%s: Is = %v, want %v", tc.name, got, tc.is)
		}
		if got := outage.Transient(tc.err); got != tc.transient {
			t.Errorf("%s: Transient = %v, want %v", tc.name, got, tc.transient)
		}
	}
}

func errUnexpectedEOF() error { return io.ErrUnexpectedEOF }
func driverErrBadConn() error { return driver.ErrBadConn }
