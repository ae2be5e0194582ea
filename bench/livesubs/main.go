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
//	livesubs subs=2000 connected=2000 events=50 delivered=100000/100000 ratio=1.0000 p50=37.6ms p90=62.9ms p99=106.7ms max=183.9ms rss_mb=227 hwm_mb=227 bus=inproc filters=0 procs=1 instances=1 fanout=default
//
// Above it, a report adds the connect time, disconnects, the trackEvent
// round trip, p99.9, server memory per subscriber, and the CPU time of the
// server (per delivery), of the bench and of the rest of the machine while
// the events flowed: the server and its clients share the CPUs, so a busy
// machine shows there. -env passes extra server settings
// (-env MERIDIAN_REQUEST_TIMEOUT=10m, -env MERIDIAN_LIVE_FANOUT=false: the
// summary's fanout= is that setting, "default" when not given), -amqp runs
// the bus on RabbitMQ. -rate may be below 1 (0.5: an event every 2 s);
// -timeout is counted beyond the events' own schedule.
//
// -filters N spreads the subscribers round robin over N documents that
// differ only in their filter, eventTracked(filter: {country: "XX"}), and
// the events' geo.country cycles over the same N codes: each event is owed
// to subs/N subscribers, each subscriber the events of its country, and
// the expected deliveries count that (plan.go). It measures what identical
// subscriptions share on the server against distinct ones.
//
// -procs K splits the subscribers over K client processes: the bench runs
// itself again as children (child.go) that open their share and report
// their counts, latencies and CPU to this one, which reports as if it had
// held them all ("bench" CPU is the children's and its own). One process's
// open-files limit caps the subscribers it can hold; the server's limit is
// the one to find. At that limit the subscribers beyond it fail to connect
// and the run goes on with the others (the producer's connection is opened
// before them), so the report shows where the limit is.
//
// -instances 2 (with -amqp and -database-url) starts two servers on the same
// RabbitMQ and a fresh PostgreSQL database (created on the server of
// -database-url, dropped after the run); the subscribers are split into
// halves, the events tracked on the first server only, so the second's
// arrive through RabbitMQ. Memory and CPU are reported per server and
// summed (the summary's rss_mb and hwm_mb are sums). Subscribers count only
// the events of their own run, so a run beside another on one RabbitMQ
// still counts right (the other's subscribers may not, if older).
//
// The exit status is 1 when fewer subscribers connected than requested,
// fewer than 99% of the expected deliveries arrived or a server exited (the
// summary is still printed), 2 on a setup error (a client process that
// failed included).
//
// Tested by running it: bench/run.sh (make bench) runs it against a fresh
// server; it has no unit tests.
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
	databaseURL string
	subs        int
	filters     int
	procs       int
	instances   int
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

// get returns the last value of name, "" when absent.
func (e envList) get(name string) string {
	v := ""
	for _, kv := range e {
		if n, val, _ := strings.Cut(kv, "="); n == name {
			v = val
		}
	}
	return v
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == childArg {
		os.Exit(childMain(os.Stdin, os.Stdout))
	}
	var c config
	flag.StringVar(&c.serverBin, "server-bin", "", "path of a built meridian binary (required)")
	flag.StringVar(&c.amqpURL, "amqp", "", "AMQP_URL for the server (RabbitMQ); empty runs the in-process bus")
	flag.StringVar(&c.databaseURL, "database-url", "", "postgres://… of a PostgreSQL server on which each run creates (and then drops) a fresh database; empty runs the embedded SQLite")
	flag.IntVar(&c.subs, "subs", 2000, "concurrent WebSocket subscribers")
	flag.IntVar(&c.filters, "filters", 0, fmt.Sprintf("distinct country-filtered documents the subscribers are spread over, round robin (0: one unfiltered document; at most %d)", len(countries)))
	flag.IntVar(&c.procs, "procs", 1, "client processes the subscribers are split over (one process's open-files limit caps its subscribers)")
	flag.IntVar(&c.instances, "instances", 1, "server processes on the same RabbitMQ and database (needs -amqp and -database-url beyond 1); events are tracked on the first")
	flag.IntVar(&c.events, "events", 50, "events to track while everyone listens")
	flag.Float64Var(&c.rate, "rate", 10, "events per second (below 1 too: 0.5 is one every 2 s)")
	flag.IntVar(&c.dialConc, "dial-concurrency", 200, "connections opened at a time, over all client processes")
	flag.DurationVar(&c.settle, "settle", time.Second, "pause after the last subscribe before the warm-up event")
	flag.DurationVar(&c.drain, "drain", 20*time.Second, "how long to wait for outstanding deliveries after the last event")
	flag.DurationVar(&c.timeout, "timeout", 5*time.Minute, "overall deadline of the run, beyond the events' own schedule (events/rate)")
	flag.IntVar(&c.demoUsers, "demo-users", 200, "MERIDIAN_DEMO_USERS of the server (small: fast start)")
	flag.Float64Var(&c.minDelivery, "min-delivery", 0.99, "delivery ratio below which the run fails")
	flag.Var(&c.env, "env", "extra NAME=VALUE for the server's environment, after the bench's own (repeatable)")
	flag.Parse()
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo})))
	if msg := c.check(); msg != "" {
		fmt.Fprintln(os.Stderr, "livesubs:", msg)
		flag.Usage()
		os.Exit(2)
	}
	os.Exit(run(c, os.Stdout))
}

// check returns what is wrong with the flags, "" when nothing is.
func (c config) check() string {
	switch {
	case c.serverBin == "":
		return "-server-bin is required"
	case c.subs <= 0 || c.events <= 0 || c.rate <= 0 || c.dialConc <= 0:
		return "-subs, -events, -rate and -dial-concurrency must be positive"
	case c.filters < 0 || c.filters > len(countries):
		return fmt.Sprintf("-filters must be between 0 and %d", len(countries))
	case c.procs < 1 || c.procs > c.subs:
		return "-procs must be between 1 and -subs"
	case c.instances < 1 || c.instances > c.subs:
		return "-instances must be between 1 and -subs"
	case c.instances > 1 && c.amqpURL == "":
		// The in-process bus does not leave its process.
		return "-instances above 1 needs -amqp"
	case c.instances > 1 && c.databaseURL == "":
		return "-instances above 1 needs -database-url: two servers cannot share the embedded SQLite file"
	}
	return ""
}

// run returns the exit status.
func run(c config, out io.Writer) int {
	// The events' schedule alone can exceed -timeout at a low -rate.
	schedule := time.Duration(float64(c.events) / c.rate * float64(time.Second))
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout+schedule)
	defer cancel()
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	deadline, _ := ctx.Deadline()

	// The servers and the client processes inherit the raised limit:
	// os/exec passes on a limit the program set itself.
	if lim, err := raiseNoFile(); err != nil {
		slog.Warn("could not raise the open-files limit", "error", err)
	} else if need := uint64(max(c.subs/c.instances, c.subs/c.procs)) + 512; lim < need {
		slog.Warn("open-files limit below what the run needs", "limit", lim, "subs per server", c.subs/c.instances, "subs per client process", c.subs/c.procs)
	}

	bus := "inproc"
	if c.amqpURL != "" {
		bus = "amqp"
	}
	runID := newRunID()
	dbURL := ""
	if c.databaseURL != "" {
		u, drop, err := freshDatabase(ctx, c.databaseURL, runID)
		if err != nil {
			slog.Error("database", "error", err)
			return 2
		}
		defer drop() // after the servers stopped: deferred first
		dbURL = u
	}
	var srvs []*server
	defer func() {
		for _, s := range srvs {
			s.stop()
		}
	}()
	// One after the other: the second migrates a database the first has
	// already created, and the first's start-up is not mixed in its RSS.
	for i := range c.instances {
		srv, err := startServer(ctx, c, dbURL)
		if err != nil {
			slog.Error("server", "instance", i+1, "error", err)
			return 2
		}
		srvs = append(srvs, srv)
	}
	addrs := make([]string, len(srvs))
	base := make([]memory, len(srvs))
	for i, s := range srvs {
		addrs[i], base[i] = s.addr, s.mem()
		slog.Info("server ready", "instance", i+1, "pid", s.pid(), "addr", s.addr, "bus", bus, "rss_mb", int(mb(base[i].rss)))
	}
	alive := func() error {
		var errs []error
		for i, s := range srvs {
			if err := s.alive(); err != nil {
				errs = append(errs, fmt.Errorf("server %d: %w", i+1, err))
			}
		}
		return errors.Join(errs...)
	}

	pl := plan{Subs: c.subs, Filters: c.filters, Instances: c.instances, Events: c.events}
	p := newProducer(srvs[0].addr, runID, pl)
	if err := p.prime(ctx); err != nil {
		slog.Error("producer", "error", err)
		return 2
	}

	// Subscribers, in this process or split over client processes.
	var clients shards
	defer func() { clients.close() }()
	if c.procs == 1 {
		clients = shards{&localShard{pool: newPool(ctx, addrs, pl, runID), from: 0, to: c.subs, conc: c.dialConc}}
	} else {
		for k := range c.procs {
			ch, err := startChild(shardSpec{
				Addrs: addrs, Plan: pl, From: k * c.subs / c.procs, To: (k + 1) * c.subs / c.procs,
				DialConc: max(1, (c.dialConc+c.procs-1)/c.procs), RunID: runID, Deadline: deadline, Proc: k + 1,
			})
			if err != nil {
				slog.Error("client processes", "error", err)
				return 2
			}
			clients = append(clients, ch)
		}
	}
	res, err := clients.connect(ctx)
	if err != nil {
		slog.Error("subscribers", "error", err)
		return 2
	}
	slog.Info("connected", "ok", res.ok, "failed", res.failed, "took", res.took.Round(time.Millisecond), "first_error", res.firstErr)
	if err := alive(); err != nil {
		slog.Error("server", "error", err)
		return 2
	}

	if res.ok > 0 {
		sleep(ctx, c.settle)
		// A warm-up event per document proves that the servers
		// registered every subscription before the measured events start.
		start := time.Now()
		if err := p.warm(ctx); err != nil {
			slog.Error("warm-up event", "error", err)
			return 2
		}
		got, err := clients.waitWarm(ctx, 30*time.Second)
		if err != nil {
			slog.Error("subscribers", "error", err)
			return 2
		}
		slog.Info("warm-up event delivered", "subscribers", got, "of", res.ok, "took", time.Since(start).Round(time.Millisecond))
	}
	connected := make([]memory, len(srvs))
	srvCPU0 := make([]time.Duration, len(srvs))
	for i, s := range srvs {
		connected[i] = s.mem()
	}

	// Producer: open loop at the given rate, so that a slow server shows as
	// latency rather than as a lower rate.
	slog.Info("tracking events", "events", c.events, "rate", c.rate)
	sendStart, selfCPU0, childCPU0 := time.Now(), selfCPU(), clients.cpu()
	for i, s := range srvs {
		srvCPU0[i] = s.cpu()
	}
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
	expectedAll := res.expected
	slog.Info("events sent; waiting for deliveries", "took", sendTook.Round(time.Millisecond), "expected", expectedAll)
	drainStart := time.Now()
	received, err := clients.drain(ctx, c.drain)
	if err != nil {
		slog.Error("subscribers", "error", err)
		return 2
	}
	slog.Info("deliveries", "received", received, "expected", expectedAll, "waited", time.Since(drainStart).Round(time.Millisecond))

	end := make([]memory, len(srvs))
	srvCPU := make([]time.Duration, len(srvs))
	for i, s := range srvs {
		end[i], srvCPU[i] = s.mem(), s.cpu()-srvCPU0[i]
	}
	// The children's CPU is theirs from their warm-up reply to their
	// drain reply: the same window, give or take a pipe's round trip.
	wall, benchCPU := time.Since(sendStart), selfCPU()-selfCPU0+clients.cpu()-childCPU0
	busy1, total1 := machineCPU()
	machineBusy := 0.0
	if total1 > total0 {
		machineBusy = 100 * float64(busy1-busy0) / float64(total1-total0)
	}
	serverErr := alive()
	st, err := clients.finish(ctx)
	if err != nil {
		slog.Error("subscribers", "error", err)
		return 2
	}

	// Report.
	lat := st.latencies
	slices.Sort(lat)
	// The ratio is of what the servers owed their connected subscribers;
	// subscribers that never connected fail the run on their own.
	ratio := 0.0
	if expectedAll > 0 {
		ratio = float64(len(lat)) / float64(expectedAll)
	}
	fanout := c.env.get("MERIDIAN_LIVE_FANOUT")
	if fanout == "" {
		fanout = "default"
	}
	w := func(format string, a ...any) { fmt.Fprintf(out, format+"\n", a...) }
	w("# live subscriptions: %d subscribers, %s, %d events at %g/s, bus=%s, %d server(s), %d client process(es), MERIDIAN_LIVE_FANOUT=%s, %d CPUs",
		c.subs, documents(c.filters), c.events, c.rate, bus, c.instances, c.procs, fanout, runtime.NumCPU())
	w("subscribers     requested=%d connected=%d failed=%d connect_time=%s first_error=%q", c.subs, res.ok, res.failed, res.took.Round(time.Millisecond), res.firstErr)
	if st.disconnected > 0 {
		w("disconnected    during run=%d (server completions=%d, errors=%d); first after %s connected: %s", st.disconnected, st.completed, st.errored, st.firstEndAfter.Round(time.Millisecond), st.firstEnd)
	} else {
		w("disconnected    none during the run")
	}
	// The rate is of the intervals between events (n-1 of them), which
	// -rate sets; n over the time taken would overstate a short run's.
	sentRate := float64(c.events) / sendTook.Seconds()
	if c.events > 1 {
		sentRate = float64(c.events-1) / sendTook.Seconds()
	}
	w("events          sent=%d in %s (%.3g/s); trackEvent round trip p50=%s p99=%s max=%s",
		c.events, sendTook.Round(time.Millisecond), sentRate, ms(p.pct(0.50)), ms(p.pct(0.99)), ms(p.pct(1)))
	owed := "every event to every subscriber"
	if c.filters > 0 {
		owed = "each subscriber the events of its country"
	}
	w("deliveries      received=%d expected=%d (%s) ratio=%.4f", len(lat), expectedAll, owed, ratio)
	if st.extra > 0 {
		// The ratio then overstates what arrived: a filter let other
		// events through, or events arrived twice.
		w("extra           %d deliveries beyond what their subscriber was owed", st.extra)
	}
	w("latency         p50=%s p90=%s p99=%s p999=%s max=%s", ms(pct(lat, 0.50)), ms(pct(lat, 0.90)), ms(pct(lat, 0.99)), ms(pct(lat, 0.999)), ms(pct(lat, 1)))
	var sum struct {
		base, connected, end memory
		cpu                  time.Duration
	}
	for i := range srvs {
		sum.base.rss += base[i].rss
		sum.connected.rss += connected[i].rss
		sum.end.rss += end[i].rss
		sum.end.hwm += end[i].hwm
		sum.cpu += srvCPU[i]
	}
	if len(srvs) > 1 {
		for i := range srvs {
			subsOn, delivered := 0, int64(0)
			if i < len(res.onInstance) {
				subsOn = res.onInstance[i]
			}
			if i < len(st.perInstance) {
				delivered = st.perInstance[i]
			}
			w("server %d        %d subscribers connected (%d deliveries); memory ready rss=%.0fMB, connected rss=%.0fMB (%.1f KB per subscriber), end rss=%.0fMB hwm=%.0fMB; cpu %.2fs (%.0f%% of one CPU, %.0fµs per delivery)",
				i+1, subsOn, delivered, mb(base[i].rss), mb(connected[i].rss), perSub(connected[i].rss-base[i].rss, subsOn), mb(end[i].rss), mb(end[i].hwm),
				srvCPU[i].Seconds(), 100*srvCPU[i].Seconds()/wall.Seconds(), perDelivery(srvCPU[i], int(delivered)))
		}
	}
	servers, summed := "server", ""
	if len(srvs) > 1 {
		servers, summed = "servers summed", fmt.Sprintf("summed over %d servers: ", len(srvs))
	}
	w("server memory   %sready rss=%.0fMB; connected rss=%.0fMB (%.1f KB per subscriber); end rss=%.0fMB hwm=%.0fMB",
		summed, mb(sum.base.rss), mb(sum.connected.rss), perSub(sum.connected.rss-sum.base.rss, res.ok), mb(sum.end.rss), mb(sum.end.hwm))
	w("cpu             from the first event to the end of the drain (%s): %s %.2fs (%.0f%% of one CPU, %.0fµs per delivery), bench %.2fs (%.0f%%, %d process(es)), rest of the machine %.0f%%; machine %.0f%% busy on %d CPUs",
		wall.Round(time.Millisecond), servers, sum.cpu.Seconds(), 100*sum.cpu.Seconds()/wall.Seconds(), perDelivery(sum.cpu, len(lat)),
		benchCPU.Seconds(), 100*benchCPU.Seconds()/wall.Seconds(), c.procs+b2i(c.procs > 1),
		100*max(0, (busy1-busy0-sum.cpu-benchCPU).Seconds())/wall.Seconds(), machineBusy, runtime.NumCPU())
	if serverErr != nil {
		w("server          %v", serverErr)
	}
	w("livesubs subs=%d connected=%d events=%d delivered=%d/%d ratio=%.4f p50=%s p90=%s p99=%s max=%s rss_mb=%.0f hwm_mb=%.0f bus=%s filters=%d procs=%d instances=%d fanout=%s",
		c.subs, res.ok, c.events, len(lat), expectedAll, ratio,
		ms(pct(lat, 0.50)), ms(pct(lat, 0.90)), ms(pct(lat, 0.99)), ms(pct(lat, 1)), mb(sum.end.rss), mb(sum.end.hwm), bus,
		c.filters, c.procs, c.instances, fanout)

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

var errServerExited = errors.New("the server exited")
