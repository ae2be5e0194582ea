package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"sync"
	"testing"

	"github.com/meridian-graphql/meridian/broker/outbox"
	"github.com/meridian-graphql/meridian/ent"
	"github.com/meridian-graphql/meridian/platform/apperr"
	"github.com/meridian-graphql/meridian/platform/database"
	"github.com/meridian-graphql/meridian/store"
)

// harness is a Store over a test database that records what the store
// reports after its commits: the cache tags it invalidated and how many
// times Committed ran.
type harness struct {
	db *database.DB
	st *store.Store

	mu      sync.Mutex
	tags    [][]string // one entry per Invalidate call
	commits int
}

// newHarness returns a Store over db writing its events to the outbox,
// whose table it creates.
func newHarness(t *testing.T, db *database.DB) *harness {
	t.Helper()
	if err := outbox.Migrate(context.Background(), db); err != nil {
		t.Fatal(err)
	}
	return harnessWith(db, outbox.NewWriter(db))
}

// harnessWith returns a harness whose store writes its events with w (nil:
// no outbox).
func harnessWith(db *database.DB, w *outbox.Writer) *harness {
	h := &harness{db: db}
	h.st = store.New(db.Client, store.Config{
		Outbox: w,
		Invalidate: func(_ context.Context, tags ...string) {
			h.mu.Lock()
			defer h.mu.Unlock()
			h.tags = append(h.tags, tags)
		},
		Committed: func() {
			h.mu.Lock()
			defer h.mu.Unlock()
			h.commits++
		},
	})
	return h
}

// reported returns the invalidations and commits recorded so far and
// forgets them.
func (h *harness) reported() (tags [][]string, commits int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	tags, commits = h.tags, h.commits
	h.tags, h.commits = nil, 0
	return tags, commits
}

// events returns the types of the events in the outbox and empties it.
func (h *harness) events(t *testing.T) []string {
	t.Helper()
	ctx := context.Background()
	rows, err := h.db.Driver.QueryContext(ctx, `SELECT type FROM outbox`)
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for rows.Next() {
		var typ string
		if err := rows.Scan(&typ); err != nil {
			t.Fatal(err)
		}
		types = append(types, typ)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		t.Fatal(err)
	}
	if _, err := h.db.Driver.ExecContext(ctx, `DELETE FROM outbox`); err != nil {
		t.Fatal(err)
	}
	slices.Sort(types)
	return types
}

// committed checks that exactly one write committed since the last check:
// it left the one event typ in the outbox, ran Committed once and
// invalidated the tags TagsOf gives for typ — the tags other instances drop
// when the event reaches them.
func (h *harness) committed(t *testing.T, typ string) {
	t.Helper()
	if got := h.events(t); !slices.Equal(got, []string{typ}) {
		t.Errorf("outbox holds %v, want [%s]", got, typ)
	}
	tags, commits := h.reported()
	if commits != 1 || len(tags) != 1 || !slices.Equal(tags[0], store.TagsOf(typ)) {
		t.Errorf("%s: %d commits, invalidated %v; want 1 commit invalidating %v", typ, commits, tags, store.TagsOf(typ))
	}
}

// unchanged checks that no write committed since the last check.
func (h *harness) unchanged(t *testing.T) {
	t.Helper()
	if got := h.events(t); len(got) != 0 {
		t.Errorf("outbox holds %v after a refused write", got)
	}
	if tags, commits := h.reported(); commits != 0 || len(tags) != 0 {
		t.Errorf("a refused write ran Committed %d times and invalidated %v", commits, tags)
	}
}

// snapshot serialises every table of the relational core, so that a test
// can assert that a refused write wrote nothing at all.
func snapshot(t *testing.T, c *ent.Client) string {
	t.Helper()
	ctx := context.Background()
	var parts []any
	add := func(v any, err error) {
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, v)
	}
	add(c.Country.Query().Order(ent.Asc("id")).All(ctx))
	add(c.City.Query().Order(ent.Asc("id")).All(ctx))
	add(c.Address.Query().Order(ent.Asc("id")).All(ctx))
	add(c.User.Query().Order(ent.Asc("id")).All(ctx))
	add(c.Product.Query().Order(ent.Asc("id")).All(ctx))
	add(c.Order.Query().Order(ent.Asc("id")).All(ctx))
	b, err := json.Marshal(parts)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// ids are the entities seedSmall created.
type ids struct {
	country, city, address, user, product, order int
}

// missing is an id no entity has.
const missing = 999999999

// seedSmall creates one of each entity through st: Ukraine → Kyiv → an
// address where olena lives, a product priced 12.50 and olena's order of
// two of it.
func seedSmall(t *testing.T, st *store.Store) ids {
	t.Helper()
	ctx := context.Background()
	fail := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("seed: %v", err)
		}
	}
	co, err := st.CreateCountry(ctx, ent.CreateCountryInput{Code: "ua", Name: "Ukraine", Continent: "Europe"})
	fail(err)
	ci, err := st.CreateCity(ctx, ent.CreateCityInput{Name: "Kyiv", Latitude: 50.45, Longitude: 30.52, Population: ptr(2952301), CountryID: co.ID})
	fail(err)
	a, err := st.CreateAddress(ctx, ent.CreateAddressInput{Street: "1 Khreshchatyk", PostalCode: ptr("01001"), CityID: ci.ID})
	fail(err)
	u, err := st.CreateUser(ctx, ent.CreateUserInput{Username: "olena", Email: "Olena@Example.com", AddressID: &a.ID})
	fail(err)
	p, err := st.CreateProduct(ctx, ent.CreateProductInput{Sku: "bk-1", Name: "Kobzar", Category: "books", Price: 12.5})
	fail(err)
	o, err := st.CreateOrder(ctx, ent.CreateOrderInput{UserID: u.ID, ProductID: p.ID, Quantity: ptr(2)})
	fail(err)
	return ids{country: co.ID, city: ci.ID, address: a.ID, user: u.ID, product: p.ID, order: o.ID}
}

func ptr[T any](v T) *T { return &v }

// wantAppErr checks that err is an application error with code and field.
func wantAppErr(t *testing.T, err error, code apperr.Code, field string) {
	t.Helper()
	e, ok := apperr.As(err)
	if !ok {
		t.Fatalf("error %v (%T) is not an application error; want %s on %q", err, err, code, field)
	}
	if e.Code != code || e.Field != field {
		t.Errorf("error %s on %q (%s), want %s on %q", e.Code, e.Field, e.Message, code, field)
	}
}
