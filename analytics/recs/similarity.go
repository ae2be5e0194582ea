package recs

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sync/atomic"

	"golang.org/x/sync/errgroup"
)

// buildNeighbors computes every item's top-K most similar items.
//
// For item i it walks i's users and, for each, that user's items j,
// accumulating the dot product w_ui·w_uj and the co-occurrence count in
// dense per-worker buffers. The cost is Σ over users of items², which
// MaxUserItems bounds; items are independent, so workers split them and the
// result does not depend on the number of workers.
func (m *Model) buildNeighbors(ctx context.Context) error {
	byUser := m.cappedHistories()
	byItem := transpose(byUser, len(m.items))

	norm := m.norms(byItem)
	perItem := make([][]entry, len(m.items))
	var next atomic.Int64
	workers := min(runtime.GOMAXPROCS(0), len(m.items)/64+1)
	g, ctx := errgroup.WithContext(ctx)
	for range workers {
		g.Go(func() error {
			acc := newAccumulator(len(m.items))
			for {
				i := int32(next.Add(1) - 1)
				if int(i) >= len(m.items) {
					return nil
				}
				if i%64 == 0 {
					if err := ctx.Err(); err != nil {
						return fmt.Errorf("item similarities: %w", err)
					}
				}
				perItem[i] = m.neighborsOf(i, byUser, byItem, norm, acc)
			}
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}

	total := 0
	for _, ns := range perItem {
		total += len(ns)
	}
	m.nbrs = csr[float64]{
		start: make([]int32, len(m.items)+1),
		idx:   make([]int32, 0, total),
		val:   make([]float64, 0, total),
	}
	for i, ns := range perItem {
		for _, n := range ns {
			m.nbrs.idx = append(m.nbrs.idx, n.item)
			m.nbrs.val = append(m.nbrs.val, n.val)
		}
		m.nbrs.start[i+1] = int32(len(m.nbrs.idx))
	}
	return nil
}

// accumulator is one worker's dense scratch: dot products and
// co-occurrence counts per item, and which entries are dirty.
type accumulator struct {
	dot     []float64
	count   []int32
	touched []int32
	cand    []entry
}

func newAccumulator(n int) *accumulator {
	return &accumulator{dot: make([]float64, n), count: make([]int32, n)}
}

func (m *Model) neighborsOf(i int32, byUser, byItem csr[float64], norm norms, a *accumulator) []entry {
	users, wus := byItem.row(i)
	for k, u := range users {
		wi := wus[k]
		items, ws := byUser.row(u)
		for q, j := range items {
			if j == i {
				continue
			}
			if a.count[j] == 0 {
				a.touched = append(a.touched, j)
			}
			a.count[j]++
			a.dot[j] += wi * ws[q]
		}
	}
	a.cand = a.cand[:0]
	for _, j := range a.touched {
		if s := m.similarity(norm.src[i], norm.dst[j], a.dot[j], a.count[j]); s > 0 {
			a.cand = append(a.cand, entry{j, s})
		}
		a.dot[j], a.count[j] = 0, 0
	}
	a.touched = a.touched[:0]
	slices.SortFunc(a.cand, byValDesc)
	return slices.Clone(a.cand[:min(len(a.cand), m.opts.Neighbors)])
}

// norms are the per-item denominators of the similarity of a source item
// i (one in a user's history) to a candidate j: sim(i, j) = dot(i, j) /
// (src[i] · dst[j]). For the cosine, with n_i = Σ_u w_ui², src = n^α and
// dst = n^(1−α) — the plain cosine at α = ½, the asymmetric cosine above
// it; for Jaccard both are the item's user count.
type norms struct{ src, dst []float64 }

func (m *Model) norms(byItem csr[float64]) norms {
	n := norms{src: make([]float64, len(m.items)), dst: make([]float64, len(m.items))}
	for i := range n.src {
		_, ws := byItem.row(int32(i))
		sq := 0.0
		for _, w := range ws {
			sq += w * w
		}
		if m.opts.Similarity == Jaccard {
			n.src[i] = float64(len(ws))
			n.dst[i] = n.src[i]
			continue
		}
		// Precomputed so the pair loop multiplies instead of calling Pow.
		n.src[i] = math.Pow(sq, m.opts.Alpha)
		n.dst[i] = math.Pow(sq, 1-m.opts.Alpha)
	}
	return n
}

// similarity of a source item to a candidate from their norms, their dot
// product and their number of common users. Zero norms give 0, never NaN:
// an item whose weights all decayed to nothing is similar to nothing.
func (m *Model) similarity(src, dst, dot float64, common int32) float64 {
	var s float64
	switch m.opts.Similarity {
	case Jaccard:
		union := src + dst - float64(common)
		if union <= 0 {
			return 0
		}
		s = float64(common) / union
	default:
		d := src * dst
		if d <= 0 || dot <= 0 {
			return 0
		}
		s = dot / d
	}
	if m.opts.Shrink > 0 {
		s *= float64(common) / (float64(common) + m.opts.Shrink)
	}
	return s
}

// cappedHistories is the user histories with at most MaxUserItems items per
// user, the heaviest ones (ties by item), still in item order.
func (m *Model) cappedHistories() csr[float64] {
	limit := m.opts.MaxUserItems
	over := false
	for u := range len(m.userIdx) {
		if int(m.hist.start[u+1]-m.hist.start[u]) > limit {
			over = true
			break
		}
	}
	if !over {
		return m.hist
	}
	out := csr[float64]{start: make([]int32, len(m.userIdx)+1)}
	var keep []entry
	for u := range int32(len(m.userIdx)) {
		items, ws := m.hist.row(u)
		keep = keep[:0]
		for k, i := range items {
			keep = append(keep, entry{i, ws[k]})
		}
		if len(keep) > limit {
			slices.SortFunc(keep, byValDesc)
			keep = keep[:limit]
			slices.SortFunc(keep, func(x, y entry) int { return cmp.Compare(x.item, y.item) })
		}
		for _, k := range keep {
			out.idx = append(out.idx, k.item)
			out.val = append(out.val, k.val)
		}
		out.start[u+1] = int32(len(out.idx))
	}
	return out
}

// transpose turns per-user item lists into per-item user lists (users in
// ascending order, since rows are visited in order).
func transpose(byUser csr[float64], items int) csr[float64] {
	out := csr[float64]{
		start: make([]int32, items+1),
		idx:   make([]int32, len(byUser.idx)),
		val:   make([]float64, len(byUser.val)),
	}
	for _, i := range byUser.idx {
		out.start[i+1]++
	}
	for i := range items {
		out.start[i+1] += out.start[i]
	}
	fill := slices.Clone(out.start[:items])
	for u := range int32(len(byUser.start) - 1) {
		is, ws := byUser.row(u)
		for k, i := range is {
			out.idx[fill[i]] = u
			out.val[fill[i]] = ws[k]
			fill[i]++
		}
	}
	return out
}
