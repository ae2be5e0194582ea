package recs

import (
	"slices"
)

// buildPopularity ranks items by their summed (decayed) weight, over
// everyone and per country. A country's scores are smoothed towards the
// global ranking by Options.CountryPrior, so that a country of three users
// does not recommend whatever those three happened to buy. Users are
// visited in id order so that the float sums, and hence the ties, are the
// same on every run.
func (m *Model) buildPopularity(userCountry map[int]string) {
	global := make([]float64, len(m.items))
	perCountry := map[string]map[int32]float64{}
	for u, id := range m.users {
		items, ws := m.hist.row(int32(u))
		code := userCountry[id]
		var c map[int32]float64
		if code != "" {
			if c = perCountry[code]; c == nil {
				c = map[int32]float64{}
				perCountry[code] = c
			}
		}
		for k, i := range items {
			global[i] += ws[k]
			if c != nil {
				c[i] += ws[k]
			}
		}
	}

	m.global = make([]entry, 0, len(global))
	for i, s := range global {
		if s > 0 {
			m.global = append(m.global, entry{int32(i), s})
		}
	}
	slices.SortFunc(m.global, byValDesc)

	m.country = make(map[string]countryPopular, len(perCountry))
	total := 0.0
	for _, e := range m.global {
		total += e.val
	}
	prior := m.opts.CountryPrior
	topGlobal := m.global[:min(len(m.global), m.opts.PopularDepth)]
	for code, scores := range perCountry {
		list := make([]entry, 0, len(scores)+len(topGlobal))
		if prior > 0 && total > 0 {
			// Every item's score gains prior × its global share. Items
			// neither bought in the country nor among the global top
			// PopularDepth score below all of that top, so they cannot make
			// the country's top PopularDepth and need no entry.
			for _, e := range topGlobal {
				list = append(list, entry{e.item, scores[e.item] + prior*e.val/total})
			}
			for i, s := range scores {
				if global[i] > 0 && !inTop(topGlobal, i, global[i]) {
					list = append(list, entry{i, s + prior*global[i]/total})
				}
			}
		} else {
			for i, s := range scores {
				if s > 0 {
					list = append(list, entry{i, s})
				}
			}
		}
		slices.SortFunc(list, byValDesc)
		m.country[code] = countryPopular{
			list:   slices.Clip(list[:min(len(list), m.opts.PopularDepth)]),
			reason: reasonPopularIn(code),
		}
	}
}

// inTop reports whether item i, of global score g, is in top, a prefix of
// the global list: a binary search by the list's own order.
func inTop(top []entry, i int32, g float64) bool {
	_, found := slices.BinarySearchFunc(top, entry{i, g}, byValDesc)
	return found
}

// Popular returns the limit most popular items of the country (code as
// given to Train), or of everyone when country is "" — the same list the
// fallback of Recommend draws from, without excluding anything. Countries
// the model has never seen give an empty list.
func (m *Model) Popular(country string, limit int) []Scored {
	list, reason := m.global, reasonPopularGlobal
	if country != "" {
		c := m.country[country]
		list, reason = c.list, c.reason
	}
	out := make([]Scored, 0, max(0, min(limit, len(list))))
	for _, e := range list[:cap(out)] {
		out = append(out, Scored{Item: m.items[e.item], Score: e.val, Reason: reason})
	}
	return out
}
