package faultsvc_test

import (
	"context"
	"database/sql"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	amqp "github.com/rabbitmq/amqp091-go"
	"github.com/redis/go-redis/v9"

	"github.com/meridian-graphql/meridian/internal/faultsvc"
)

// The private instances come up, die by kill -9 (clients see it) and come
// back on the same address.

func TestPostgresKillAndRestart(t *testing.T) {
	t.Parallel()
	pg := faultsvc.StartPostgres(t)
	url := pg.CreateDatabase("f")
	db, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, "CREATE TABLE t (id int primary key); INSERT INTO t VALUES (1)"); err != nil {
		t.Fatal(err)
	}
	pg.Kill()
	if err := db.PingContext(ctx); err == nil {
		t.Fatal("ping succeeded with the server killed")
	}
	pg.Start()
	var n int
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM t").Scan(&n); err != nil || n != 1 {
		t.Fatalf("after restart: n=%d err=%v; want the committed row back", n, err)
	}
}

func TestRedisKillFreezeThaw(t *testing.T) {
	t.Parallel()
	r := faultsvc.StartRedis(t)
	c := redis.NewClient(&redis.Options{Addr: r.Addr(), ReadTimeout: 200 * time.Millisecond, MaxRetries: -1})
	defer c.Close()
	ctx := context.Background()
	if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	r.Freeze()
	if err := c.Get(ctx, "k").Err(); err == nil {
		t.Fatal("a frozen Redis answered")
	}
	r.Thaw()
	r.Kill()
	if err := c.Ping(ctx).Err(); err == nil {
		t.Fatal("a killed Redis answered")
	}
	r.Start()
	if err := c.Get(ctx, "k").Err(); err != redis.Nil {
		t.Fatalf("restarted Redis: %v; want an empty server", err)
	}
}

func TestRabbitMQKillAndRestart(t *testing.T) {
	t.Parallel()
	r := faultsvc.StartRabbitMQ(t)
	conn, err := amqp.Dial(r.URL())
	if err != nil {
		t.Fatal(err)
	}
	closed := conn.NotifyClose(make(chan *amqp.Error, 1))
	r.Kill()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("the connection did not notice the node's death")
	}
	r.Start()
	conn, err = amqp.Dial(r.URL())
	if err != nil {
		t.Fatalf("after restart: %v", err)
	}
	conn.Close()
}

func TestCount(t *testing.T) {
	got := faultsvc.Count(5, []string{"a", "b", "c"}, map[string]int{"a": 1, "b": 2, "d": 1})
	want := faultsvc.Tally{Sent: 5, Accepted: 3, Stored: 3, Lost: 1, Duplicated: 1}
	if got != want {
		t.Fatalf("Count = %+v, want %+v", got, want)
	}
}
