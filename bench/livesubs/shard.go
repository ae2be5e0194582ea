package main

import (
	"context"
	"errors"
	"sync"
	"time"
)

// A shard is the subscribers of one client process: the bench's own pool
// (-procs 1) or a child process's (child.go). One process's open-files limit
// caps how many subscribers it can hold, and the server's limit is what
// the bench wants to find, so -procs K spreads them over K children.
type shard interface {
	// connect opens the shard's subscribers.
	connect(ctx context.Context) (connectResult, error)
	// waitWarm waits until each subscriber got its warm-up event, or
	// limit passes, and returns how many did.
	waitWarm(ctx context.Context, limit time.Duration) (int, error)
	// drain waits until the subscribers got what they are owed, limit
	// passes or none is left, and returns how many deliveries arrived.
	drain(ctx context.Context, limit time.Duration) (int64, error)
	// cpu is the shard process's CPU time at its last waitWarm or drain;
	// zero for the bench's own pool, whose CPU is the bench's.
	cpu() time.Duration
	// finish closes the connections and returns the samples.
	finish(ctx context.Context) (poolStats, error)
	// close releases what finish did not (after an error).
	close()
}

// localShard is the bench's own pool.
type localShard struct {
	pool           *pool
	from, to, conc int
}

func (l *localShard) connect(ctx context.Context) (connectResult, error) {
	return l.pool.connect(ctx, l.from, l.to, l.conc), nil
}

func (l *localShard) waitWarm(ctx context.Context, limit time.Duration) (int, error) {
	return l.pool.waitWarm(ctx, limit), nil
}

func (l *localShard) drain(ctx context.Context, limit time.Duration) (int64, error) {
	l.pool.waitDeliveries(ctx, l.pool.expected(), limit)
	return l.pool.received(), nil
}

func (l *localShard) cpu() time.Duration { return 0 }

func (l *localShard) finish(context.Context) (poolStats, error) { return l.pool.finish(), nil }

func (l *localShard) close() { l.pool.close() }

// shards runs every step on all of its shards at once and merges the
// answers, so the coordinator sees one pool whatever -procs is.
type shards []shard

// each runs f on every shard in parallel and joins their errors.
func (ss shards) each(f func(int, shard) error) error {
	errs := make([]error, len(ss))
	var wg sync.WaitGroup
	for i, s := range ss {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = f(i, s)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

func (ss shards) connect(ctx context.Context) (connectResult, error) {
	start := time.Now()
	res := make([]connectResult, len(ss))
	err := ss.each(func(i int, s shard) (err error) {
		res[i], err = s.connect(ctx)
		return err
	})
	var out connectResult
	for _, r := range res {
		out.ok += r.ok
		out.failed += r.failed
		out.expected += r.expected
		out.onInstance = addInts(out.onInstance, r.onInstance)
		if out.firstErr == "" {
			out.firstErr = r.firstErr
		}
	}
	out.took = time.Since(start)
	return out, err
}

func (ss shards) waitWarm(ctx context.Context, limit time.Duration) (int, error) {
	return sumEach(ss, func(s shard) (int, error) { return s.waitWarm(ctx, limit) })
}

func (ss shards) drain(ctx context.Context, limit time.Duration) (int64, error) {
	return sumEach(ss, func(s shard) (int64, error) { return s.drain(ctx, limit) })
}

// sumEach runs f on every shard at once and adds up what they count.
func sumEach[T int | int64](ss shards, f func(shard) (T, error)) (T, error) {
	n := make([]T, len(ss))
	err := ss.each(func(i int, s shard) (err error) {
		n[i], err = f(s)
		return err
	})
	var sum T
	for _, v := range n {
		sum += v
	}
	return sum, err
}

func (ss shards) cpu() time.Duration {
	var sum time.Duration
	for _, s := range ss {
		sum += s.cpu()
	}
	return sum
}

func (ss shards) finish(ctx context.Context) (poolStats, error) {
	sts := make([]poolStats, len(ss))
	err := ss.each(func(i int, s shard) (err error) {
		sts[i], err = s.finish(ctx)
		return err
	})
	var out poolStats
	total := 0
	for _, st := range sts {
		total += len(st.latencies)
	}
	out.latencies = make([]int64, 0, total)
	for _, st := range sts {
		out.latencies = append(out.latencies, st.latencies...)
		out.perInstance = addInts(out.perInstance, st.perInstance)
		out.extra += st.extra
		out.disconnected += st.disconnected
		out.completed += st.completed
		out.errored += st.errored
		if st.firstEnd != "" && (out.firstEnd == "" || st.firstEndAfter < out.firstEndAfter) {
			out.firstEnd, out.firstEndAfter = st.firstEnd, st.firstEndAfter
		}
	}
	return out, err
}

func (ss shards) close() {
	_ = ss.each(func(_ int, s shard) error { s.close(); return nil })
}

// addInts adds b to a element by element, growing a to b's length.
func addInts[T int | int64](a, b []T) []T {
	for i, n := range b {
		if i == len(a) {
			a = append(a, 0)
		}
		a[i] += n
	}
	return a
}
