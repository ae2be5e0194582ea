package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/meridian-graphql/meridian/httpapi"
)

// shutdownMargin is how long past the grace period (MERIDIAN_SHUTDOWN_TIMEOUT)
// the stages after the HTTP drain may still take when something hangs: the
// consumers' batch in progress, the relay's last flush, closing the stores.
// Past it the process gives up on them and exits with an error.
const shutdownMargin = 3 * time.Second

// worker is a background loop of the server, stopped in its turn by the
// shutdown rather than all at once by the signal.
type worker struct {
	cancel context.CancelFunc
	done   chan struct{}
}

// startWorker runs loop in a goroutine under a context of its own, derived
// from parent.
func startWorker(parent context.Context, loop func(context.Context)) *worker {
	ctx, cancel := context.WithCancel(parent)
	w := &worker{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(w.done)
		loop(ctx)
	}()
	return w
}

// stop cancels the worker and waits for its loop to return, until hard
// ends.
func (w *worker) stop(hard context.Context) error {
	w.cancel()
	select {
	case <-w.done:
		return nil
	case <-hard.Done():
		return errors.New("still running at the end of the grace period")
	}
}

// closers closes what the app opened, in the reverse order of adding (a
// part is closed before the parts it was built from), once: from the
// shutdown's last stage, or when serve fails earlier.
type closers struct {
	names []string
	fns   []func() error
	begun atomic.Bool // a second call returns at once, even while the first runs
}

func (c *closers) add(name string, fn func() error) {
	c.names = append(c.names, name)
	c.fns = append(c.fns, fn)
}

func (c *closers) close() error {
	if !c.begun.CompareAndSwap(false, true) {
		return nil
	}
	var errs []error
	for i := len(c.fns) - 1; i >= 0; i-- {
		if err := c.fns[i](); err != nil {
			errs = append(errs, fmt.Errorf("close %s: %w", c.names[i], err))
		}
	}
	return errors.Join(errs...)
}

// shutdown is the order in which a signalled server stops:
//
//  0. delay (MERIDIAN_SHUTDOWN_DELAY, when set): /readyz answers 503 while
//     everything is still served, so that a load balancer that polls it
//     takes the instance out before it stops accepting; a request sent in
//     that window is served, not refused.
//  1. http: /readyz answers 503, the listener closes (http.Server.Shutdown)
//     and the requests in flight run to their end; subscriptions end with
//     a complete (SSE and WebSocket) and WebSockets close with 1012 once
//     their operations have ended (httpapi.Drain). Whatever still runs when
//     the grace period ends is cancelled and its connection closed.
//  2. consumers: no more messages are taken; the batch being handled
//     finishes and is acked (consumers.RunUntil).
//  3. outbox relay: stopped, then one last flush of what the drained
//     requests committed.
//  4. live hub, 5. background jobs (model refit, retention, cache
//     invalidation listener).
//  6. stores: the app's parts in the reverse order of their building —
//     bus, cache, Redis, event store, database, then the tracer's flush.
//
// Each stage is logged once with its duration. The grace period bounds the
// HTTP drain; hard (which ends shutdownMargin after it) bounds the rest,
// and a stage still running then is reported as an error.
type shutdown struct {
	log   *slog.Logger
	grace time.Duration
	delay time.Duration

	srv            *http.Server
	drain          *httpapi.Drain
	cancelRequests context.CancelFunc // the base context of every request
	cancelHard     context.CancelFunc

	consumers *worker
	relay     *worker
	flush     func(context.Context) (int, error)
	hub       *worker
	jobs      []*worker
	stores    *closers
}

// run stops everything; it returns once the last stage is done, which is as
// soon as everything has drained.
func (s shutdown) run(hard context.Context) error {
	if s.delay > 0 {
		s.drain.Unready()
		s.log.Info("shutting down: unready, still serving", "delay", s.delay)
		select {
		case <-time.After(s.delay):
		case <-hard.Done():
		}
	}
	start := time.Now()
	s.log.Info("shutting down", "grace", s.grace)
	graceCtx, cancelGrace := context.WithDeadline(context.WithoutCancel(hard), start.Add(s.grace))
	defer cancelGrace()
	stopHard := time.AfterFunc(s.grace+shutdownMargin, s.cancelHard)
	defer stopHard.Stop()

	var errs []error
	stage := func(name string, fn func() error) {
		t := time.Now()
		err := fn()
		took := time.Since(t).Round(time.Millisecond)
		if err != nil {
			s.log.Warn("shutdown stage", "stage", name, "took", took, "error", err)
			errs = append(errs, fmt.Errorf("shutdown %s: %w", name, err))
			return
		}
		s.log.Info("shutdown stage", "stage", name, "took", took)
	}
	stage("http", func() error { return s.drainHTTP(graceCtx) })
	stage("consumers", func() error { return s.consumers.stop(hard) })
	stage("outbox relay", func() error {
		if err := s.relay.stop(hard); err != nil {
			return err
		}
		// A last flush: a mutation that committed during the drain is on
		// the bus before the process ends (the rows would wait for the
		// next instance's relay otherwise).
		for {
			n, err := s.flush(hard)
			if err != nil {
				return fmt.Errorf("last flush: %w", err)
			}
			if n == 0 {
				return nil
			}
		}
	})
	stage("live hub", func() error { return s.hub.stop(hard) })
	stage("background jobs", func() error {
		var errs []error
		for _, w := range s.jobs {
			errs = append(errs, w.stop(hard))
		}
		return errors.Join(errs...)
	})
	stage("stores", func() error {
		done := make(chan error, 1)
		go func() { done <- s.stores.close() }()
		// The stores get a second even when hard has passed: closing is
		// quick unless something hangs.
		floor := time.NewTimer(time.Second)
		defer floor.Stop()
		select {
		case err := <-done:
			return err
		case <-hard.Done():
		}
		select {
		case err := <-done:
			return err
		case <-floor.C:
			return errors.New("still closing at the end of the grace period")
		}
	})
	s.log.Info("shutdown complete", "took", time.Since(start).Round(time.Millisecond), "failed_stages", len(errs))
	return errors.Join(errs...)
}

// drainHTTP stops accepting and waits, until ctx (the grace period) ends,
// for the requests in flight and the WebSockets to end; then it cancels
// and closes what is left.
func (s shutdown) drainHTTP(ctx context.Context) error {
	s.drain.Begin()
	wsLeft := make(chan int, 1)
	go func() { wsLeft <- s.drain.Wait(ctx) }()
	err := s.srv.Shutdown(ctx)
	left := <-wsLeft
	if err == nil && left == 0 {
		return nil
	}
	// The grace period is over: cancel the requests still running and
	// close their connections.
	s.cancelRequests()
	_ = s.srv.Close()
	return fmt.Errorf("grace period of %s over: requests cut (%v), %d WebSockets closed with operations running", s.grace, err, left)
}
