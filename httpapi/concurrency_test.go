package httpapi_test

import (
	"sync"
	"testing"

	"github.com/meridian-graphql/meridian/internal/gqltest"
	"github.com/meridian-graphql/meridian/internal/testdb"
	"github.com/meridian-graphql/meridian/platform/database"
)

// TestConcurrentOrdersAddUp places orders for one user from many clients at
// once: every order commits and the user's total is their exact sum, on
// SQLite (one writer at a time) and PostgreSQL (row locks) alike.
func TestConcurrentOrdersAddUp(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		c := gqltest.New(t, db)
		id := seedSmall(t, c) // one order of 25.00 already
		const n = 40
		var wg sync.WaitGroup
		errs := make(chan string, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := c.Do(`mutation($u: ID!, $p: ID!, $q: Int!) { createOrder(input: {userID: $u, productID: $p, quantity: $q}) { amount } }`,
					map[string]any{"u": id.user, "p": id.product, "q": i%3 + 1})
				if len(r.Errors) > 0 {
					errs <- r.Errors[0].Message
				}
			}()
		}
		wg.Wait()
		close(errs)
		for e := range errs {
			t.Errorf("order failed: %s", e)
		}
		// 40 orders of 1, 2, 3, 1, 2, 3, … × 12.50 = (14·1 + 13·2 + 13·3) × 12.5.
		want := 25 + float64(14*1+13*2+13*3)*12.5
		var u struct {
			User struct {
				TotalSpent float64
				Orders     struct{ TotalCount int }
			}
		}
		c.MustDo(`{ user(username: "olena") { totalSpent orders { totalCount } } }`, nil, &u)
		if u.User.Orders.TotalCount != n+1 || u.User.TotalSpent != want {
			t.Errorf("after %d concurrent orders: %d orders, total %v; want %d and %v", n, u.User.Orders.TotalCount, u.User.TotalSpent, n+1, want)
		}
	})
}
