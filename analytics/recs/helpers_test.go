package recs

import (
	"context"
	"math"
	"testing"
	"time"
)

// t0 is the reference time of the hand-made data.
func t0() time.Time { return time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC) }

func at(minutes int) time.Time { return t0().Add(time.Duration(minutes) * time.Minute) }

func buy(user, item, minute int) Interaction {
	return Interaction{User: user, Item: item, At: at(minute), Weight: WeightPurchase}
}

func train(t testing.TB, in []Interaction, countries map[int]string, opts Options) *Model {
	t.Helper()
	m, err := Train(context.Background(), in, countries, opts)
	if err != nil {
		t.Fatalf("Train: %v", err)
	}
	return m
}

func items(list []Scored) []int {
	out := make([]int, len(list))
	for k, s := range list {
		out[k] = s.Item
	}
	return out
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

// similarity looks up sim(i, j) in the model's neighbour lists; 0 when j is
// not a neighbour of i.
func similarity(m *Model, i, j int) float64 {
	for _, s := range m.Similar(i, m.opts.Neighbors) {
		if s.Item == j {
			return s.Score
		}
	}
	return 0
}
