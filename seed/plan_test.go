package seed

import (
	"math"
	"net/mail"
	"reflect"
	"regexp"
	"testing"
	"time"
)

func testPlan(t *testing.T, users int, seed uint64) *plan {
	t.Helper()
	countries, cities := EmbeddedGeo()
	p, err := buildPlan(countries, cities, Options{Users: users, Seed: seed, Now: testNow()})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPlanDeterministic(t *testing.T) {
	a, b := testPlan(t, 500, 7), testPlan(t, 500, 7)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("two plans with the same seed differ")
	}
	if c := testPlan(t, 500, 8); reflect.DeepEqual(a.users, c.users) {
		t.Fatal("a different seed gave the same users")
	}
}

func TestCategories(t *testing.T) {
	total := 0
	codes := map[string]bool{}
	for _, c := range categories() {
		total += c.Count
		if c.Count > len(c.Adj)*len(c.Noun) {
			t.Errorf("%s: %d products but only %d distinct names", c.Name, c.Count, len(c.Adj)*len(c.Noun))
		}
		if codes[c.Code] {
			t.Errorf("duplicate SKU prefix %s", c.Code)
		}
		codes[c.Code] = true
	}
	if total != 200 {
		t.Errorf("%d products, want 200", total)
	}
}

// TestPlanShape checks the statistical design on a plan large enough for
// the shares to be stable (no database needed).
func TestPlanShape(t *testing.T) {
	const n = 20000
	p := testPlan(t, n, 42)
	now := testNow()
	usernameRE := regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{2,31}$`)
	skuRE := regexp.MustCompile(`^[A-Z0-9][A-Z0-9-]{1,31}$`)

	usernames, emails, skus := map[string]bool{}, map[string]bool{}, map[string]bool{}
	dormant, noAddress := 0, 0
	lastOrder := make([]time.Time, n)
	spent := make([]int64, n)
	for _, o := range p.orders {
		spent[o.user] += o.amountCents
		if o.createdAt.After(lastOrder[o.user]) {
			lastOrder[o.user] = o.createdAt
		}
		if o.quantity < 1 || o.quantity > 5 {
			t.Fatalf("quantity %d", o.quantity)
		}
		if o.amountCents != int64(o.quantity)*p.products[o.product].priceCents {
			t.Fatalf("order amount %d is not quantity × price", o.amountCents)
		}
		if o.createdAt.Before(p.users[o.user].createdAt) {
			t.Fatalf("order before its user's signup")
		}
	}
	for i, u := range p.users {
		if !usernameRE.MatchString(u.username) || usernames[u.username] {
			t.Fatalf("username %q invalid or repeated", u.username)
		}
		usernames[u.username] = true
		if a, err := mail.ParseAddress(u.email); err != nil || a.Address != u.email || emails[u.email] {
			t.Fatalf("email %q invalid or repeated (%v)", u.email, err)
		}
		emails[u.email] = true
		if u.createdAt.After(now) || u.createdAt.Before(now.Add(-history)) {
			t.Fatalf("created_at %v outside the two years before %v", u.createdAt, now)
		}
		if u.lastActiveAt.Before(u.createdAt) || u.lastActiveAt.After(now) || u.lastActiveAt.Before(lastOrder[i]) {
			t.Fatalf("user %d: last active %v, created %v, last order %v", i, u.lastActiveAt, u.createdAt, lastOrder[i])
		}
		if u.spentCents != spent[i] {
			t.Fatalf("user %d: total %d cents, orders sum to %d", i, u.spentCents, spent[i])
		}
		if i > 0 && u.createdAt.Before(p.users[i-1].createdAt) {
			t.Fatal("users are not in signup order")
		}
		if now.Sub(u.lastActiveAt) > dormantAfter {
			dormant++
		}
		if u.address < 0 {
			noAddress++
		}
	}
	for _, pr := range p.products {
		if !skuRE.MatchString(pr.sku) || skus[pr.sku] {
			t.Fatalf("SKU %q invalid or repeated", pr.sku)
		}
		skus[pr.sku] = true
		if pr.priceCents <= 0 || pr.priceCents%100 != 99 {
			t.Fatalf("price %d cents", pr.priceCents)
		}
	}
	if len(p.addresses) != n-noAddress {
		t.Errorf("%d addresses for %d users with one", len(p.addresses), n-noAddress)
	}

	share := func(k int) float64 { return float64(k) / n }
	if s := share(dormant); math.Abs(s-dormantShare) > 0.02 {
		t.Errorf("dormant share %.3f, want about %.2f", s, dormantShare)
	}
	if s := share(noAddress); math.Abs(s-noAddressShare) > 0.01 {
		t.Errorf("no-address share %.3f, want about %.2f", s, noAddressShare)
	}
	if avg := float64(len(p.orders)) / n; avg < 3 || avg > 5 {
		t.Errorf("%.2f orders per user, want 3-5", avg)
	}
	// Growth: the last quarter of the window has more signups than the first.
	first, last := 0, 0
	for _, u := range p.users {
		switch age := now.Sub(u.createdAt); {
		case age > history*3/4:
			first++
		case age < history/4:
			last++
		}
	}
	if float64(last) < 2*float64(first) {
		t.Errorf("signups: %d in the first quarter, %d in the last; want growth", first, last)
	}
	// Heavy spenders: a minority orders 10 times or more (a regular user
	// does so with probability 4%, a heavy spender with 92%: about 8%).
	counts := make([]int, n)
	for _, o := range p.orders {
		counts[o.user]++
	}
	heavy := 0
	for _, c := range counts {
		if c >= 10 {
			heavy++
		}
	}
	if s := share(heavy); s < 0.04 || s > 0.12 {
		t.Errorf("%.3f of users have 10+ orders, want a minority of about 5-10%%", s)
	}
}
