package recs

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"time"
)

// Train builds a model from interactions. userCountry gives each user's
// country code for the per-country popularity (users absent from it count
// only globally). Interactions of zero weight are ignored; negative,
// NaN or infinite weights are an error, since they would poison every
// similarity they touch. The similarity pass, the long part, runs on all
// CPUs and stops when ctx is cancelled.
//
// Memory is bounded by the input and by items × Options.Neighbors: the
// full item×item matrix is never built.
func Train(ctx context.Context, interactions []Interaction, userCountry map[int]string, opts Options) (*Model, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("recs: train: %w", err)
	}
	for i, x := range interactions {
		if x.Weight < 0 || !finite(x.Weight) {
			return nil, fmt.Errorf("recs: train: interaction %d (user %d, item %d) has weight %v; want a finite number ≥ 0", i, x.User, x.Item, x.Weight)
		}
	}
	m := &Model{opts: opts}
	cells := m.aggregate(interactions)
	m.buildHistories(cells)
	if err := m.buildNeighbors(ctx); err != nil {
		return nil, fmt.Errorf("recs: train: %w", err)
	}
	m.buildPopularity(userCountry)
	return m, nil
}

// cell is the sum of one user's interactions with one item.
type cell struct {
	user, item int32
	weight     float64
	bought     bool
}

// aggregate numbers users and items densely and sums each (user, item)
// pair's decayed weights. It sorts instead of hashing pairs: one sort of n
// small structs beats n map updates and gives the histories in order.
func (m *Model) aggregate(in []Interaction) []cell {
	userIDs := make([]int, 0, len(in))
	itemIDs := make([]int, 0, len(in))
	ref := m.opts.Now
	for _, x := range in {
		if x.Weight == 0 {
			continue
		}
		userIDs = append(userIDs, x.User)
		itemIDs = append(itemIDs, x.Item)
		if m.opts.Now.IsZero() && x.At.After(ref) {
			ref = x.At
		}
	}
	m.items = sortedUnique(itemIDs)
	m.itemIdx = indexOf(m.items)
	m.users = sortedUnique(userIDs)
	m.userIdx = indexOf(m.users)

	cells := make([]cell, 0, len(userIDs))
	for _, x := range in {
		if x.Weight == 0 {
			continue
		}
		cells = append(cells, cell{
			user:   m.userIdx[x.User],
			item:   m.itemIdx[x.Item],
			weight: x.Weight * decay(ref.Sub(x.At), m.opts.HalfLife),
			bought: m.opts.isPurchase(x.Weight),
		})
	}
	slices.SortFunc(cells, func(a, b cell) int {
		return cmp.Or(cmp.Compare(a.user, b.user), cmp.Compare(a.item, b.item))
	})
	out := cells[:0]
	for _, c := range cells {
		if n := len(out); n > 0 && out[n-1].user == c.user && out[n-1].item == c.item {
			out[n-1].weight += c.weight
			out[n-1].bought = out[n-1].bought || c.bought
			continue
		}
		out = append(out, c)
	}
	return out
}

// decay is the weight factor of an interaction age old: 1 without a half
// life, halving per half life, and never above 1 (an interaction after the
// reference time is not worth more than a current one).
func decay(age, halfLife time.Duration) float64 {
	if halfLife <= 0 || age <= 0 {
		return 1
	}
	return math.Exp2(-float64(age) / float64(halfLife))
}

// buildHistories turns the sorted cells into the per-user history lists.
func (m *Model) buildHistories(cells []cell) {
	m.hist = csr[float64]{
		start: make([]int32, len(m.userIdx)+1),
		idx:   make([]int32, len(cells)),
		val:   make([]float64, len(cells)),
	}
	m.bought = make([]bool, len(cells))
	for k, c := range cells {
		m.hist.start[c.user+1]++
		m.hist.idx[k] = c.item
		m.hist.val[k] = c.weight
		m.bought[k] = c.bought
	}
	for u := range len(m.userIdx) {
		m.hist.start[u+1] += m.hist.start[u]
	}
}

// sortedUnique sorts ids in place and drops duplicates.
func sortedUnique(ids []int) []int {
	slices.Sort(ids)
	return slices.Clip(slices.Compact(ids))
}

func indexOf(ids []int) map[int]int32 {
	idx := make(map[int]int32, len(ids))
	for i, id := range ids {
		idx[id] = int32(i)
	}
	return idx
}
