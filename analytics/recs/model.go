package recs

import (
	"cmp"
	"sync"
)

// Model is a trained recommender. It is read-only after Train, so any
// number of goroutines may call its methods at once.
//
// Items and users are renumbered densely (items in ascending id order, so
// that comparing dense indexes breaks ties by item id) and every per-item
// or per-user list is one flat slice plus offsets, to keep a model of
// millions of entries a handful of allocations the GC barely scans.
type Model struct {
	opts Options

	items   []int         // dense item index -> item id, ascending
	itemIdx map[int]int32 // item id -> dense index
	users   []int         // dense user index -> user id, ascending
	userIdx map[int]int32 // user id -> dense index
	hist    csr[float64]  // per user: items and summed (decayed) weights
	bought  []bool        // parallel to hist.idx: a purchase among them
	nbrs    csr[float64]  // per item: top-K neighbours and similarities
	global  []entry       // every item, most popular first
	country map[string]countryPopular

	// scratch holds scorers (dense per-item buffers) between calls, so that
	// a recommendation costs the user's neighbours, not the catalogue size.
	scratch sync.Pool
}

// csr is a compressed sparse row list: row r's entries are
// idx[start[r]:start[r+1]] with values val[...] alongside.
type csr[V any] struct {
	start []int32
	idx   []int32
	val   []V
}

func (c *csr[V]) row(r int32) ([]int32, []V) {
	lo, hi := c.start[r], c.start[r+1]
	return c.idx[lo:hi], c.val[lo:hi]
}

// countryPopular is a country's popularity list and the reason its items
// carry, built once so that a recommendation allocates no string.
type countryPopular struct {
	list   []entry
	reason string
}

// entry is an item with a value: a neighbour and its similarity, a
// popularity list's item and its score, a history's item and its weight.
type entry struct {
	item int32
	val  float64
}

// byValDesc orders entries by value, largest first, ties by item: the one
// order of every ranked list, so that results never depend on map order
// or on the number of workers.
func byValDesc(x, y entry) int {
	return cmp.Or(cmp.Compare(y.val, x.val), cmp.Compare(x.item, y.item))
}

// Items is the number of distinct items the model knows.
func (m *Model) Items() int { return len(m.items) }

// Users is the number of distinct users with history in the model.
func (m *Model) Users() int { return len(m.userIdx) }

// Options returns the options the model was trained with, defaults filled.
func (m *Model) Options() Options { return m.opts }
