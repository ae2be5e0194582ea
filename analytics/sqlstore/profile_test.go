package sqlstore

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/meridian-graphql/meridian/analytics"
	"github.com/meridian-graphql/meridian/platform/database"
)

func TestProfiles(t *testing.T) {
	each(t, func(t *testing.T, s *Store, _ *database.DB) {
		ctx := context.Background()
		clock := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
		s.now = func() time.Time { clock = clock.Add(time.Second); return clock }
		// Created with the lists normalised and the absent fields empty.
		email := " Olena@Example.COM "
		p, err := s.UpsertProfile(ctx, analytics.ProfileInput{Username: "olena", Email: &email, Interests: []string{"ML", "go ", "go"}})
		if err != nil {
			t.Fatal(err)
		}
		want := &analytics.Profile{Username: "olena", Email: "olena@example.com", Interests: []string{"go", "ml"},
			Metrics: map[string]float64{}, Subscriptions: []string{}, UpdatedAt: time.Date(2026, 3, 1, 12, 0, 1, 0, time.UTC)}
		if !reflect.DeepEqual(p, want) {
			t.Fatalf("created %+v\nwant    %+v", p, want)
		}
		if got, err := s.Profile(ctx, "olena"); err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("Profile = %+v, %v", got, err)
		}

		// Replacing the interests re-indexes them; other fields stay.
		p, err = s.UpsertProfile(ctx, analytics.ProfileInput{Username: "olena", Interests: []string{"rust"}, Metrics: map[string]float64{"a": 1}})
		if err != nil || p.Email != "olena@example.com" || !reflect.DeepEqual(p.Interests, []string{"rust"}) || p.Metrics["a"] != 1 {
			t.Fatalf("update = %+v, %v", p, err)
		}
		if g := joinNames(namesOf(t)(s.UsersByInterest(ctx, "go", 10))); g != "" {
			t.Errorf("users of the dropped interest: %s", g)
		}
		if g := joinNames(namesOf(t)(s.UsersByInterest(ctx, " Rust", 10))); g != "olena" {
			t.Errorf("users of rust: %s", g)
		}

		// AddInterest normalises, keeps the list sorted, indexes it.
		if p, err = s.AddInterest(ctx, "olena", " Go "); err != nil || !reflect.DeepEqual(p.Interests, []string{"go", "rust"}) {
			t.Fatalf("AddInterest = %+v, %v", p, err)
		}
		if p.UpdatedAt != time.Date(2026, 3, 1, 12, 0, 3, 0, time.UTC) {
			t.Errorf("updatedAt = %v", p.UpdatedAt)
		}
		var fe *analytics.FieldError
		if _, err = s.AddInterest(ctx, "olena", "not/valid"); !errors.As(err, &fe) {
			t.Errorf("AddInterest(bad tag) = %v", err)
		}
		var nf *analytics.NotFoundError
		if _, err = s.AddInterest(ctx, "nobody", "go"); !errors.As(err, &nf) {
			t.Errorf("AddInterest(missing) = %v", err)
		}

		// UpdateMetrics merges.
		if p, err = s.UpdateMetrics(ctx, "olena", map[string]float64{"b": 2.5, "a": -1}); err != nil || !reflect.DeepEqual(p.Metrics, map[string]float64{"a": -1, "b": 2.5}) {
			t.Errorf("UpdateMetrics = %+v, %v", p, err)
		}
		if _, err = s.UpdateMetrics(ctx, "olena", map[string]float64{"Bad Name": 1}); !errors.As(err, &fe) {
			t.Errorf("UpdateMetrics(bad name) = %v", err)
		}

		// An empty list clears, and UsersByInterest orders and limits.
		for _, u := range []string{"zed", "anna", "mark"} {
			if _, err := s.UpsertProfile(ctx, analytics.ProfileInput{Username: u, Interests: []string{"go"}}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.UpsertProfile(ctx, analytics.ProfileInput{Username: "mark", Interests: []string{}}); err != nil {
			t.Fatal(err)
		}
		if g := joinNames(namesOf(t)(s.UsersByInterest(ctx, "go", 10))); g != "anna olena zed" {
			t.Errorf("users of go = %s", g)
		}
		if g := joinNames(namesOf(t)(s.UsersByInterest(ctx, "go", 2))); g != "anna olena" {
			t.Errorf("users of go, 2 = %s", g)
		}
		if ps, err := s.UsersByInterest(ctx, "go", 0); err != nil || len(ps) != 0 {
			t.Errorf("limit 0 = %v, %v", ps, err)
		}
		if _, err := s.UpsertProfile(ctx, analytics.ProfileInput{Username: "x"}); !errors.As(err, &fe) {
			t.Errorf("UpsertProfile(bad username) = %v", err)
		}
		if p, err := s.Profile(ctx, "nobody"); p != nil || err != nil {
			t.Errorf("Profile(missing) = %v, %v", p, err)
		}

		// Concurrent creations and additions on one profile lose nothing.
		s.now = time.Now
		var wg sync.WaitGroup
		tags := []string{"a1", "a2", "a3", "a4", "a5", "a6"}
		errs := make([]error, len(tags))
		for i, tag := range tags {
			wg.Go(func() {
				if _, errs[i] = s.UpsertProfile(ctx, analytics.ProfileInput{Username: "race"}); errs[i] == nil {
					_, errs[i] = s.AddInterest(ctx, "race", tag)
				}
			})
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatal(err)
		}
		if p, err := s.Profile(ctx, "race"); err != nil || !reflect.DeepEqual(p.Interests, tags) {
			t.Errorf("after concurrent AddInterest: %+v, %v", p, err)
		}
	})
}

func namesOf(t *testing.T) func([]*analytics.Profile, error) []string {
	return func(ps []*analytics.Profile, err error) []string {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, p := range ps {
			out = append(out, p.Username)
		}
		return out
	}
}

func joinNames(ns []string) string { return strings.Join(ns, " ") }
