package storetest

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/meridian-graphql/meridian/analytics"
)

// fill is a string of exactly n bytes: unit repeated (multi-byte UTF-8 to
// prove the limits are bytes), padded with ASCII.
func fill(unit string, n int) string {
	s := strings.Repeat(unit, n/len(unit))
	return s + strings.Repeat("x", n-len(s))
}

// nested is metadata nested depth levels below the top object, with leaf
// at the bottom.
func nested(depth int, leaf any) map[string]any {
	m := map[string]any{"leaf": leaf}
	for range depth - 1 {
		m = map[string]any{"n": m}
	}
	return m
}

// limitInputs are two events with every string at exactly its stated
// limit, in multi-byte UTF-8 where the rule allows it: a purchase (its
// category goes into the events_purchases index on PostgreSQL) and an event
// of a long custom type (in event_counts_daily's key).
func limitInputs() []analytics.EventInput {
	ts := at("2026-03-10 10:00")
	geo := func() *analytics.Geo {
		return &analytics.Geo{Country: "UA", City: fill("€", analytics.MaxCityBytes), Lat: 50.45, Lon: 30.52}
	}
	meta := func() map[string]any {
		return map[string]any{
			"category": fill("😀", analytics.MaxCategoryBytes),
			"price":    12.5,
			// The key at its limit, with a value at its own.
			fill("ключ", analytics.MaxMetadataKeyBytes): fill("é", analytics.MaxMetadataStringBytes),
			"list": []any{fill("漢", analytics.MaxMetadataStringBytes), 1.0, true},
			// The deepest object allowed: the top one is level 0.
			"deep": nested(analytics.MaxMetadataDepth-1, "bottom"),
		}
	}
	purchaseID, customID := strings.Repeat("p", analytics.MaxIDBytes), strings.Repeat("c", analytics.MaxIDBytes)
	return []analytics.EventInput{
		{ID: &purchaseID, UserID: 1, Type: "purchase", Timestamp: &ts, Metadata: meta(), Geo: geo()},
		{ID: &customID, UserID: 2, Type: fill("😀", analytics.MaxTypeBytes), Timestamp: &ts, Metadata: meta(), Geo: geo()},
	}
}

// limitsPolicy accepts the custom type of limitInputs.
func limitsPolicy() analytics.Policy {
	p := analytics.DefaultPolicy()
	p.AcceptUnknownTypes = true
	return p
}

// testLimits: every limit Prepare states is storable on the backend — the
// events at their limits go in and come back unchanged, and count in the
// rollup and the purchase analytics — and one byte over any of them is
// refused by validation, naming the field and the limit.
func testLimits(t *testing.T, open func(t *testing.T) analytics.Store) {
	ctx := context.Background()
	s := open(t)
	in := limitInputs()
	if c := in[0].Metadata["category"].(string); utf8.RuneCountInString(c) == len(c) {
		t.Fatalf("the category at its limit is ASCII: the test would not tell bytes from runes")
	}
	events := make([]analytics.Event, len(in))
	for i, e := range in {
		ev, err := limitsPolicy().Prepare(e, now)
		if err != nil {
			t.Fatalf("event %d at the limits refused by validation: %v", i, err)
		}
		events[i] = ev
	}
	if n, err := s.Insert(ctx, events); err != nil || n != len(events) {
		t.Fatalf("Insert(events at the limits) = %d, %v; want %d", n, err, len(events))
	}
	got := export(t, s, analytics.Range{}, analytics.Filter{})
	if len(got) != len(events) {
		t.Fatalf("read back %d events, want %d", len(got), len(events))
	}
	byID := map[string]analytics.Event{}
	for _, e := range got {
		byID[e.ID] = e
	}
	for _, want := range events {
		if e, ok := byID[want.ID]; !ok || !sameEvent(e, want) {
			t.Errorf("event %.8s… read back as\n%+v\nwant\n%+v", want.ID, e, want)
		}
	}
	dist, err := s.EventDistribution(ctx, analytics.Range{}, analytics.Filter{Country: "UA"})
	if err != nil || len(dist) != 2 {
		t.Errorf("EventDistribution = %+v, %v; want both events", dist, err)
	}
	groups, err := s.PurchaseAnalytics(ctx, analytics.Range{}, analytics.ByCategory)
	if err != nil || len(groups) != 1 || groups[0].Key != events[0].Category {
		t.Errorf("PurchaseAnalytics(CATEGORY) = %+v, %v; want the category at its limit", groups, err)
	}

	// One byte over each limit.
	over := func(i int, edit func(e *analytics.EventInput)) analytics.EventInput {
		e := limitInputs()[i]
		edit(&e)
		return e
	}
	for _, tc := range []struct {
		field string
		limit int
		in    analytics.EventInput
	}{
		{"id", analytics.MaxIDBytes, over(0, func(e *analytics.EventInput) { id := *e.ID + "p"; e.ID = &id })},
		{"type", analytics.MaxTypeBytes, over(1, func(e *analytics.EventInput) { e.Type += "x" })},
		{"geo.city", analytics.MaxCityBytes, over(0, func(e *analytics.EventInput) { e.Geo.City += "x" })},
		{"metadata.category", analytics.MaxCategoryBytes, over(0, func(e *analytics.EventInput) { e.Metadata["category"] = fill("😀", analytics.MaxCategoryBytes) + "x" })},
		{"metadata", analytics.MaxMetadataKeyBytes, over(0, func(e *analytics.EventInput) { e.Metadata[fill("ключ", analytics.MaxMetadataKeyBytes+1)] = 1.0 })},
		{"metadata.list[0]", analytics.MaxMetadataStringBytes, over(0, func(e *analytics.EventInput) {
			e.Metadata["list"] = []any{fill("漢", analytics.MaxMetadataStringBytes) + "x"}
		})},
		// The object at metadata.n…n (MaxMetadataDepth times) is one level
		// too deep.
		{"metadata" + strings.Repeat(".n", analytics.MaxMetadataDepth), analytics.MaxMetadataDepth, over(0, func(e *analytics.EventInput) {
			e.Metadata["n"] = nested(analytics.MaxMetadataDepth, "bottom")
		})},
	} {
		_, err := limitsPolicy().Prepare(tc.in, now)
		var fe *analytics.FieldError
		if !errors.As(err, &fe) || fe.Field != tc.field || !strings.Contains(fe.Msg, strconv.Itoa(tc.limit)) {
			t.Errorf("%s one over its limit of %d: Prepare error %v; want a FieldError on %q stating the limit", tc.field, tc.limit, err, tc.field)
		}
	}
}
