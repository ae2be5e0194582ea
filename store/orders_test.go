package store_test

import (
	"context"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/meridian-graphql/meridian/ent"
	"github.com/meridian-graphql/meridian/ent/order"
	"github.com/meridian-graphql/meridian/internal/testdb"
	"github.com/meridian-graphql/meridian/platform/database"
)

// TestTotalsFollowOrders: a user's total_spent and last_active_at follow
// the user's orders — an order adds its amount (quantity × price when no
// amount is given) and moves last_active_at up, a new quantity recomputes
// the amount, an order moved to another user moves its amount, a deleted
// order takes it off — and deleting a user deletes the user's orders, so
// that the product, address, city and country can go in turn.
func TestTotalsFollowOrders(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		st := harnessWith(db, nil).st
		id := seedSmall(t, st)
		spent := func(userID int) float64 {
			t.Helper()
			u, err := db.Client.User.Get(ctx, userID)
			if err != nil {
				t.Fatal(err)
			}
			return u.TotalSpent
		}
		olena, err := db.Client.User.Get(ctx, id.user)
		if err != nil {
			t.Fatal(err)
		}
		o, err := db.Client.Order.Get(ctx, id.order)
		if err != nil {
			t.Fatal(err)
		}
		if olena.Email != "olena@example.com" {
			t.Errorf("email = %q, want it lower-cased", olena.Email)
		}
		if olena.TotalSpent != 25 || o.Amount != 25 {
			t.Errorf("after an order of 2 × 12.50: total %v, amount %v; want 25", olena.TotalSpent, o.Amount)
		}
		if olena.LastActiveAt == nil || !olena.LastActiveAt.Equal(o.CreatedAt) {
			t.Errorf("lastActiveAt = %v, want the order's time %v", olena.LastActiveAt, o.CreatedAt)
		}
		// An order dated before the last activity leaves it where it is;
		// deleting the order takes its amount off again.
		older, err := st.CreateOrder(ctx, ent.CreateOrderInput{UserID: id.user, ProductID: id.product, Amount: ptr(1.0), CreatedAt: ptr(o.CreatedAt.Add(-time.Hour))})
		if err != nil {
			t.Fatal(err)
		}
		if u, err := db.Client.User.Get(ctx, id.user); err != nil || u.LastActiveAt == nil || !u.LastActiveAt.Equal(o.CreatedAt) || u.TotalSpent != 26 {
			t.Errorf("after an older order of 1: %+v, %v; want total 26 and lastActiveAt %v", u, err, o.CreatedAt)
		}
		if err := st.DeleteOrder(ctx, older.ID); err != nil {
			t.Fatal(err)
		}

		// Changing the quantity recomputes the amount and moves the total.
		if o, err = st.UpdateOrder(ctx, id.order, ent.UpdateOrderInput{Quantity: ptr(3)}); err != nil || o.Amount != 37.5 {
			t.Fatalf("quantity 3: %+v, %v", o, err)
		}
		if got := spent(id.user); got != 37.5 {
			t.Errorf("totalSpent after quantity 3 = %v, want 37.5", got)
		}
		// An order moved to another user moves its amount too.
		taras, err := st.CreateUser(ctx, ent.CreateUserInput{Username: "taras", Email: "taras@example.com"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.UpdateOrder(ctx, id.order, ent.UpdateOrderInput{UserID: &taras.ID}); err != nil {
			t.Fatal(err)
		}
		if a, b := spent(id.user), spent(taras.ID); math.Abs(a) > 1e-9 || b != 37.5 {
			t.Errorf("after moving the order: olena %v taras %v, want 0 and 37.5", a, b)
		}
		if err := st.DeleteOrder(ctx, id.order); err != nil {
			t.Fatal(err)
		}
		if b := spent(taras.ID); math.Abs(b) > 1e-9 {
			t.Errorf("after deleting the order taras has %v, want 0", b)
		}
		// Deleting a user deletes the user's orders; the product can then go.
		if _, err := st.CreateOrder(ctx, ent.CreateOrderInput{UserID: id.user, ProductID: id.product, Amount: ptr(5.0)}); err != nil {
			t.Fatal(err)
		}
		for _, step := range []func() error{
			func() error { return st.DeleteUser(ctx, id.user) },
			func() error { return st.DeleteProduct(ctx, id.product) },
			func() error { return st.DeleteAddress(ctx, id.address) },
			func() error { return st.DeleteCity(ctx, id.city) },
			func() error { return st.DeleteCountry(ctx, id.country) },
		} {
			if err := step(); err != nil {
				t.Fatal(err)
			}
		}
		if n := db.Client.Order.Query().CountX(ctx); n != 0 {
			t.Errorf("orders left: %d", n)
		}
		if n := db.Client.Country.Query().CountX(ctx); n != 0 {
			t.Errorf("countries left: %d", n)
		}
	})
}

// TestConcurrentOrdersAddUp places orders for one user from many
// goroutines at once: every order commits and the user's total is their
// exact sum, on SQLite (one writer at a time) and PostgreSQL (row locks)
// alike, because the total grows by an SQL increment.
func TestConcurrentOrdersAddUp(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		st := harnessWith(db, nil).st
		id := seedSmall(t, st) // one order of 25.00 already
		const n = 40
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for i := range n {
			wg.Go(func() {
				if _, err := st.CreateOrder(ctx, ent.CreateOrderInput{UserID: id.user, ProductID: id.product, Quantity: ptr(i%3 + 1)}); err != nil {
					errs <- err
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Errorf("order failed: %v", err)
		}
		// 40 orders of 1, 2, 3, 1, 2, 3, … × 12.50 = (14·1 + 13·2 + 13·3) × 12.5.
		want := 25 + float64(14*1+13*2+13*3)*12.5
		u, err := db.Client.User.Get(ctx, id.user)
		if err != nil {
			t.Fatal(err)
		}
		orders := db.Client.Order.Query().Where(order.UserID(id.user)).CountX(ctx)
		if orders != n+1 || u.TotalSpent != want {
			t.Errorf("after %d concurrent orders: %d orders, total %v; want %d and %v", n, orders, u.TotalSpent, n+1, want)
		}
	})
}
