package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"
)

const trackMutation = `mutation($in: TrackEventInput!) { trackEvent(input: $in) { id } }`

// producer tracks events through the GraphQL mutation, one per request.
type producer struct {
	url    string
	runID  string // makes event ids unique across runs
	plan   plan
	client *http.Client

	mu    sync.Mutex
	trips []time.Duration // round trips of the measured events
}

// newRunID makes the run's event ids unique.
func newRunID() string { return strconv.FormatInt(time.Now().UnixNano(), 36) }

// eventIDPrefix starts the id of every event of the run, which subscribers
// look for.
func eventIDPrefix(runID string) string { return "livesubs-" + runID + "-" }

func newProducer(addr, runID string, pl plan) *producer {
	return &producer{
		url:    "http://" + addr + "/query",
		runID:  runID,
		plan:   pl,
		client: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 64}},
	}
}

// run sends n events at rate per second, each in its own request started on
// schedule whether or not the previous one was answered, and returns the
// first refusal.
func (p *producer) run(ctx context.Context, n int, rate float64) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	tick := time.NewTicker(time.Duration(float64(time.Second) / rate))
	defer tick.Stop()
	var wg sync.WaitGroup
	for i := range n {
		if i > 0 {
			select {
			case <-tick.C:
			case <-ctx.Done():
			}
		}
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := p.send(ctx, "ev", i, sentKey, p.plan.eventCountry(i)); err != nil {
				cancel(fmt.Errorf("event %d: %w", i, err))
			}
		}()
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return err
	}
	return nil
}

// prime opens the producer's connection to the server before the
// subscribers take the server's descriptors: at its open-files limit the
// server accepts no new connection, and the run should then show the
// subscribers that did not connect, not end because the events could not
// be sent.
func (p *producer) prime(ctx context.Context) error {
	res, err := p.post(ctx, []byte(`{"query":"{ __typename }"}`))
	if err != nil {
		return err
	}
	defer res.Body.Close()
	_, err = io.Copy(io.Discard, res.Body) // so the connection goes back to the pool
	if err == nil && res.StatusCode != http.StatusOK {
		err = fmt.Errorf("priming the producer's connection: %s", res.Status)
	}
	return err
}

// post sends one GraphQL request body to the server.
func (p *producer) post(ctx context.Context, body []byte) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	return p.client.Do(req)
}

// warm tracks one warm-up event per document of the plan, a few at a
// time, and returns the first refusal.
func (p *producer) warm(ctx context.Context) error {
	cs := p.plan.warmCountries()
	errs := make([]error, len(cs))
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for i, c := range cs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			errs[i] = p.send(ctx, "warm", i, warmKey, c)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// send tracks one page_view of user 1 whose metadata holds the send time
// under key, in country when it is not empty (the filters' field; the
// unfiltered runs send no geo, as they always did).
func (p *producer) send(ctx context.Context, kind string, i int, key, country string) error {
	id := fmt.Sprintf("%s%s-%d", eventIDPrefix(p.runID), kind, i)
	start := time.Now()
	in := map[string]any{
		"id":       id,
		"userId":   "1",
		"type":     "page_view",
		"metadata": map[string]string{key: strconv.FormatInt(start.UnixNano(), 10)},
	}
	if country != "" {
		in["geo"] = map[string]any{"country": country, "lat": 0.0, "lon": 0.0}
	}
	body, _ := json.Marshal(map[string]any{"query": trackMutation, "variables": map[string]any{"in": in}})
	res, err := p.post(ctx, body)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return err
	}
	trip := time.Since(start)
	var out struct {
		Data struct {
			TrackEvent struct{ ID string }
		}
		Errors []json.RawMessage
	}
	if err := json.Unmarshal(b, &out); err != nil || res.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %.300s", res.Status, b)
	}
	if len(out.Errors) > 0 {
		return fmt.Errorf("%s", out.Errors[0])
	}
	if out.Data.TrackEvent.ID != id {
		return fmt.Errorf("trackEvent answered id %q, want %q", out.Data.TrackEvent.ID, id)
	}
	if key == sentKey {
		p.mu.Lock()
		p.trips = append(p.trips, trip)
		p.mu.Unlock()
	}
	return nil
}

// pct returns the q-quantile of the measured round trips.
func (p *producer) pct(q float64) time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := make([]int64, len(p.trips))
	for i, d := range p.trips {
		s[i] = int64(d)
	}
	slices.Sort(s)
	return pct(s, q)
}
