package recs

import (
	"slices"
)

// Scored is one recommended item. Scores rank items within one reason:
// a similarity sum for the collaborative part, a popularity (summed
// weight) for the fallback, so they are not comparable across reasons —
// the list's order is what counts.
type Scored struct {
	Item   int
	Score  float64
	Reason string
}

// Reasons of a recommendation. The popular ones name the country:
// "popular in UA"; "popular overall" is the global fallback.
const (
	ReasonBought        = "similar to items you bought"
	ReasonViewed        = "similar to items you viewed"
	ReasonAlsoBought    = "bought by the same customers"
	reasonPopularGlobal = "popular overall"
)

func reasonPopularIn(country string) string { return "popular in " + country }

// Recommend returns at most limit items for the user, best first: items
// similar to the user's history (Σ over the user's items of similarity ×
// the user's weight on the item), then the country's best-sellers, then
// everyone's, until limit items or the catalogue run out. Items the user
// bought (see Options.PurchaseWeight) are never recommended; items only
// viewed or carted are. A user without history gets popularity alone
// (cold start). country may differ from the one given to Train — the
// user may have moved — and "" skips the country step. Ties break by
// item id; limit ≤ 0 gives an empty, non-nil list.
func (m *Model) Recommend(user int, country string, limit int) []Scored {
	if limit <= 0 {
		return []Scored{}
	}
	s := m.getScorer()
	defer m.scratch.Put(s)
	return m.recommend(s, user, country, limit, true, make([]Scored, 0, min(limit, len(m.items))))
}

// RecommendMany is Recommend for a batch of users (a whole level of a
// GraphQL query), reusing one scratch buffer and one backing array:
// result k belongs to users[k], with the country countries[users[k]].
func (m *Model) RecommendMany(users []int, countries map[int]string, limit int) [][]Scored {
	out := make([][]Scored, len(users))
	if limit <= 0 {
		for k := range out {
			out[k] = []Scored{}
		}
		return out
	}
	// No user's list can exceed the catalogue: every item is listed once.
	per := min(limit, len(m.items))
	backing := make([]Scored, len(users)*per)
	s := m.getScorer()
	defer m.scratch.Put(s)
	for k, u := range users {
		// The capacity bound keeps a caller's append to one list from
		// overwriting the next.
		dst := backing[k*per : k*per : (k+1)*per]
		out[k] = m.recommend(s, u, countries[u], limit, true, dst)
	}
	return out
}

// Similar returns the item's most similar items ("customers who bought
// this also bought"), at most limit and at most Options.Neighbors.
func (m *Model) Similar(item, limit int) []Scored {
	i, ok := m.itemIdx[item]
	if !ok || limit <= 0 {
		return []Scored{}
	}
	js, sims := m.nbrs.row(i)
	n := min(limit, len(js))
	out := make([]Scored, n)
	for k := range n {
		out[k] = Scored{Item: m.items[js[k]], Score: sims[k], Reason: ReasonAlsoBought}
	}
	return out
}

// scorer is the dense scratch of one recommendation: a score and a state
// per item, and the list of entries to clear afterwards, so that clearing
// costs what was touched, not the catalogue.
type scorer struct {
	score   []float64
	state   []uint8
	touched []int32
	top     []entry
}

const (
	untouched uint8 = iota
	candidate       // has a collaborative score
	excluded        // bought by the user, or already in the list
)

func (m *Model) getScorer() *scorer {
	if s, ok := m.scratch.Get().(*scorer); ok {
		return s
	}
	return &scorer{score: make([]float64, len(m.items)), state: make([]uint8, len(m.items))}
}

func (s *scorer) exclude(i int32) {
	if s.state[i] == untouched {
		s.touched = append(s.touched, i)
	}
	s.state[i] = excluded
}

func (s *scorer) reset() {
	for _, i := range s.touched {
		s.score[i], s.state[i] = 0, untouched
	}
	s.touched = s.touched[:0]
}

// recommend appends the user's recommendations to out. With cf false it is
// the popularity baseline: the same exclusions and fallbacks, no
// similarities.
func (m *Model) recommend(s *scorer, user int, country string, limit int, cf bool, out []Scored) []Scored {
	defer s.reset()
	u, known := m.userIdx[user]
	if known {
		lo, hi := m.hist.start[u], m.hist.start[u+1]
		for k := lo; k < hi; k++ {
			if m.bought[k] {
				s.exclude(m.hist.idx[k])
			}
		}
	}
	if cf && known {
		out = m.collaborative(s, u, limit, out)
	}
	if c, ok := m.country[country]; ok {
		out = m.fill(s, out, c.list, c.reason, limit)
	}
	return m.fill(s, out, m.global, reasonPopularGlobal, limit)
}

// collaborative appends the best limit items by similarity to user u's
// history.
func (m *Model) collaborative(s *scorer, u int32, limit int, out []Scored) []Scored {
	items, ws := m.hist.row(u)
	lo := m.hist.start[u]
	reason := ReasonViewed
	for k, i := range items {
		if m.bought[int(lo)+k] {
			reason = ReasonBought
		}
		w := ws[k]
		js, sims := m.nbrs.row(i)
		for q, j := range js {
			switch s.state[j] {
			case excluded:
				continue
			case untouched:
				s.state[j] = candidate
				s.touched = append(s.touched, j)
			}
			s.score[j] += w * sims[q]
		}
	}
	top := s.top[:0]
	for _, j := range s.touched {
		if s.state[j] == candidate && s.score[j] > 0 {
			top = insertTop(top, entry{j, s.score[j]}, limit)
		}
	}
	for _, e := range top {
		out = append(out, Scored{Item: m.items[e.item], Score: e.val, Reason: reason})
		s.exclude(e.item)
	}
	s.top = top
	return out
}

// fill appends items of a popularity list that are not excluded until out
// has limit items.
func (m *Model) fill(s *scorer, out []Scored, list []entry, reason string, limit int) []Scored {
	for _, e := range list {
		if len(out) >= limit {
			break
		}
		if s.state[e.item] == excluded {
			continue
		}
		out = append(out, Scored{Item: m.items[e.item], Score: e.val, Reason: reason})
		s.exclude(e.item)
	}
	return out
}

// insertTop inserts e into top, kept sorted by byValDesc and at most limit
// long: a bounded selection, O(log limit) comparisons per candidate.
func insertTop(top []entry, e entry, limit int) []entry {
	if len(top) == limit && byValDesc(e, top[len(top)-1]) >= 0 {
		return top
	}
	pos, _ := slices.BinarySearchFunc(top, e, byValDesc)
	if len(top) < limit {
		top = append(top, entry{})
	}
	copy(top[pos+1:], top[pos:len(top)-1])
	top[pos] = e
	return top
}
