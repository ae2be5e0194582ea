// Command livesubs is the load benchmark of live subscriptions: it opens
// -subs WebSocket clients (graphql-transport-ws) subscribed to eventTracked,
// tracks -events events through the trackEvent mutation at -rate per second,
// and reports how many deliveries arrived, their latency (receive time minus
// the send time the producer put in each event's metadata) at p50 / p90 /
// p99 / max, and the server's resident memory (VmRSS, VmHWM).
//
// The server runs as a separate process, a meridian binary given by
// -server-bin and started with a fresh embedded SQLite data directory and
// the in-process bus (or RabbitMQ with -amqp), for two reasons: its RSS is
// then its own, not mixed with the memory of thousands of client
// connections, and it is the binary that ships, configured by environment
// as in production, rather than an in-test assembly of its packages.
// Clients and server still share the machine's CPUs, so the latencies are
// an upper bound of what the server alone would give.
//
// Usage:
//
//	go build -o /tmp/meridian . && go run ./bench/livesubs -server-bin /tmp/meridian -subs 2000
//
// The last line of output is a grep-able summary:
//
//	livesubs subs=2000 connected=2000 events=50 delivered=100000/100000 ratio=1.0000 p50=37.6ms p90=62.9ms p99=106.7ms max=183.9ms rss_mb=227 hwm_mb=227 bus=inproc
//
// Above it, a report adds the connect time, disconnects, the trackEvent
// round trip, p99.9, server memory per subscriber, and the CPU time of the
// server (per delivery), of the bench and of the rest of the machine while
// the events flowed: the server and its clients share the CPUs, so a busy
// machine shows there. -env passes extra server settings
// (-env MERIDIAN_REQUEST_TIMEOUT=10m), -amqp runs the bus on RabbitMQ.
//
// The exit status is 1 when fewer subscribers connected than requested or
// fewer than 99% of the expected deliveries arrived (the summary is still
// printed), 2 on a setup error.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"
)

type config struct {
	serverBin   string
	amqpURL     string
	subs        int
	events      int
	rate        float64
	dialConc    int
	settle      time.Duration
	drain       time.Duration
	timeout     time.Duration
	demoUsers   int
	minDelivery float64
	env         envList
}

// envList collects repeated -env flags.
type envList []string

func (e *envList) String() string { return strings.Join(*e, " ") }
func (e *envList) Set(v string) error {
	if !strings.Contains(v, "=") {
		return fmt.Errorf("want NAME=VALUE, got %q", v)
	}
	*e = append(*e, v)
	return nil
}

func main() {
	var c config
	flag.StringVar(&c.serverBin, "server-bin", "", "path of a built meridian binary (required)")
	flag.StringVar(&c.amqpURL, "amqp", "", "AMQP_URL for the server (RabbitMQ); empty runs the in-process bus")
	flag.IntVar(&c.subs, "subs", 2000, "concurrent WebSocket subscribers")
	flag.IntVar(&c.events, "events", 50, "events to track while everyone listens")
	flag.Float64Var(&c.rate, "rate", 10, "events per second")
	flag.IntVar(&c.dialConc, "dial-concurrency", 200, "connections opened at a time")
	flag.DurationVar(&c.settle, "settle", time.Second, "pause after the last subscribe before the warm-up event")
	flag.DurationVar(&c.drain, "drain", 20*time.Second, "how long to wait for outstanding deliveries after the last event")
	flag.DurationVar(&c.timeout, "timeout", 5*time.Minute, "overall deadline of the run")
	flag.IntVar(&c.demoUsers, "demo-users", 200, "MERIDIAN_DEMO_USERS of the server (small: fast start)")
	flag.Float64Var(&c.minDelivery, "min-delivery", 0.99, "delivery ratio below which the run fails")
	flag.Var(&c.env, "env", "extra NAME=VALUE for the server's environment, after the bench's own (repeatable)")
	flag.Parse()
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo})))
	if c.serverBin == "" || c.subs <= 0 || c.events <= 0 || c.rate <= 0 || c.dialConc <= 0 {
		fmt.Fprintln(os.Stderr, "livesubs: -server-bin is required; -subs, -events, -rate and -dial-concurrency must be positive")
		flag.Usage()
		os.Exit(2)
	}
	os.Exit(run(c, os.Stdout))
}

// run returns the exit status.
func run(c config, out io.Writer) int {
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	// The server inherits the raised limit: os/exec passes on a limit the
	// program set itself.
	if lim, err := raiseNoFile(); err != nil {
		slog.Warn("could not raise the open-files limit", "error", err)
	} else if lim < uint64(c.subs)+512 {
		slog.Warn("open-files limit below what the run needs", "limit", lim, "subs", c.subs)
	}

	bus := "inproc"
	if c.amqpURL != "" {
		bus = "amqp"
	}
	srv, err := startServer(ctx, c)
	if err != nil {
		slog.Error("server", "error", err)
		return 2
	}
	defer srv.stop()
	base := srv.mem()
	slog.Info("server ready", "pid", srv.pid(), "addr", srv.addr, "bus", bus, "rss_mb", int(mb(base.rss)))

	// Subscribers.
	pool := newPool(ctx, srv.addr)
	defer pool.close()
	res := pool.connect(ctx, c.subs, c.dialConc)
	slog.Info("connected", "ok", res.ok, "failed", res.failed, "took", res.took.Round(time.Millisecond), "first_error", res.firstErr)
	if err := srv.alive(); err != nil {
		slog.Error("server", "error", err)
		return 2
	}

	p := newProducer(srv.addr)
	if res.ok > 0 {
		sleep(ctx, c.settle)
		// A warm-up event proves that the server registered every
		// subscription before the measured events start.
		start := time.Now()
		if err := p.send(ctx, "warm", 0, warmKey); err != nil {
			slog.Error("warm-up event", "error", err)
			return 2
		}
		got := pool.waitWarm(ctx, 30*time.Second)
		slog.Info("warm-up event delivered", "subscribers", got, "of", res.ok, "took", time.Since(start).Round(time.Millisecond))
	}
	connected := srv.mem()

	// Producer: open loop at the given rate, so that a slow server shows as
	// latency rather than as a lower rate.
	slog.Info("tracking events", "events", c.events, "rate", c.rate)
	sendStart, srvCPU0, selfCPU0 := time.Now(), srv.cpu(), selfCPU()
	busy0, total0 := machineCPU()
	if err := p.run(ctx, c.events, c.rate); err != nil {
		if ctx.Err() != nil {
			slog.Error("producer interrupted", "error", context.Cause(ctx))
		} else {
			slog.Error("producer: the server refused an event", "error", err)
		}
		return 2
	}
	sendTook := time.Since(sendStart)
	expectedAll := int64(res.ok) * int64(c.events)
	slog.Info("events sent; waiting for deliveries", "took", sendTook.Round(time.Millisecond), "expected", expectedAll)
	drained := pool.waitDeliveries(ctx, expectedAll, c.drain)
	slog.Info("deliveries", "received", pool.received(), "expected", expectedAll, "waited", drained.Round(time.Millisecond))

	end := srv.mem()
	wall, srvCPU, benchCPU := time.Since(sendStart), srv.cpu()-srvCPU0, selfCPU()-selfCPU0
	busy1, total1 := machineCPU()
	machineBusy := 0.0
	if total1 > total0 {
		machineBusy = 100 * float64(busy1-busy0) / float64(total1-total0)
	}
	serverErr := srv.alive()
	st := pool.finish()

	// Report.
	lat := st.latencies
	slices.Sort(lat)
	// The ratio is of what the server owed its connected subscribers;
	// subscribers that never connected fail the run on their own.
	ratio := 0.0
	if expectedAll > 0 {
		ratio = float64(len(lat)) / float64(expectedAll)
	}
	w := func(format string, a ...any) { fmt.Fprintf(out, format+"\n", a...) }
	w("# live subscriptions: %d subscribers, %d events at %g/s, bus=%s, %d CPUs", c.subs, c.events, c.rate, bus, runtime.NumCPU())
	w("subscribers     requested=%d connected=%d failed=%d connect_time=%s first_error=%q", c.subs, res.ok, res.failed, res.took.Round(time.Millisecond), res.firstErr)
	if st.disconnected > 0 {
		w("disconnected    during run=%d (server completions=%d, errors=%d); first after %s connected: %s", st.disconnected, st.completed, st.errored, st.firstEndAfter.Round(time.Millisecond), st.firstEnd)
	} else {
		w("disconnected    none during the run")
	}
	w("events          sent=%d in %s (%.1f/s); trackEvent round trip p50=%s p99=%s max=%s",
		c.events, sendTook.Round(time.Millisecond), float64(c.events)/sendTook.Seconds(), ms(p.pct(0.50)), ms(p.pct(0.99)), ms(p.pct(1)))
	w("deliveries      received=%d expected=%d ratio=%.4f", len(lat), expectedAll, ratio)
	w("latency         p50=%s p90=%s p99=%s p999=%s max=%s", ms(pct(lat, 0.50)), ms(pct(lat, 0.90)), ms(pct(lat, 0.99)), ms(pct(lat, 0.999)), ms(pct(lat, 1)))
	w("server memory   ready rss=%.0fMB; connected rss=%.0fMB (%.1f KB per subscriber); end rss=%.0fMB hwm=%.0fMB",
		mb(base.rss), mb(connected.rss), perSub(connected.rss-base.rss, res.ok), mb(end.rss), mb(end.hwm))
	w("cpu             from the first event to the end of the drain (%s): server %.2fs (%.0f%% of one CPU, %.0fµs per delivery), bench %.2fs (%.0f%%), rest of the machine %.0f%%; machine %.0f%% busy on %d CPUs",
		wall.Round(time.Millisecond), srvCPU.Seconds(), 100*srvCPU.Seconds()/wall.Seconds(), perDelivery(srvCPU, len(lat)),
		benchCPU.Seconds(), 100*benchCPU.Seconds()/wall.Seconds(), 100*max(0, (busy1-busy0-srvCPU-benchCPU).Seconds())/wall.Seconds(), machineBusy, runtime.NumCPU())
	if serverErr != nil {
		w("server          %v", serverErr)
	}
	w("livesubs subs=%d connected=%d events=%d delivered=%d/%d ratio=%.4f p50=%s p90=%s p99=%s max=%s rss_mb=%.0f hwm_mb=%.0f bus=%s",
		c.subs, res.ok, c.events, len(lat), expectedAll, ratio,
		ms(pct(lat, 0.50)), ms(pct(lat, 0.90)), ms(pct(lat, 0.99)), ms(pct(lat, 1)), mb(end.rss), mb(end.hwm), bus)

	var fails []string
	if res.ok < c.subs {
		fails = append(fails, fmt.Sprintf("%d of %d subscribers connected", res.ok, c.subs))
	}
	if ratio < c.minDelivery {
		fails = append(fails, fmt.Sprintf("delivery ratio %.4f below %.2f", ratio, c.minDelivery))
	}
	if serverErr != nil {
		fails = append(fails, serverErr.Error())
	}
	if len(fails) > 0 {
		slog.Error("livesubs failed", "reasons", strings.Join(fails, "; "))
		return 1
	}
	return 0
}

// pct returns the q-quantile of sorted nanosecond samples (nearest rank).
func pct(sorted []int64, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q*float64(len(sorted))+0.5) - 1
	i = max(0, min(i, len(sorted)-1))
	return time.Duration(sorted[i])
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond)) }

func mb(kb int64) float64 { return float64(kb) / 1024 }

func perSub(kb int64, n int) float64 {
	if n == 0 {
		return 0
	}
	return float64(kb) / float64(n)
}

func perDelivery(cpu time.Duration, n int) float64 {
	if n == 0 {
		return 0
	}
	return float64(cpu.Microseconds()) / float64(n)
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

var errServerExited = errors.New("the server exited")
