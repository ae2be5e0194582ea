package seed

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Shape of the generated data; the package documentation explains them.
const (
	history        = 730 * 24 * time.Hour // signups span the last two years
	signupGrowth   = 1.5                  // exp(1.5) ≈ 4.5× more signups now than at the start
	dormantAfter   = 90 * 24 * time.Hour  // last active longer ago than this = dormant
	dormantShare   = 0.25
	noAddressShare = 0.03
	heavyShare     = 0.05
	cityWeightExp  = 0.8 // users per city ∝ population^0.8
	minCityPop     = 1000
	tasteAlpha     = 2.0 // Dirichlet concentration of a user's category tastes
)

// Order counts are floor(exp(mu + sigma·N(0,1))): a median of about 2 orders
// (13% of users never order) for most users, about 20 for heavy spenders.
const (
	ordersMu, ordersSigma           = 0.9, 0.8
	heavyOrdersMu, heavyOrdersSigma = 3.0, 0.5
	maxOrdersPerUser                = 500
)

// plan is a whole generated data set in memory, rows referring to each
// other by slice index; insertPlan turns the indexes into database IDs.
type plan struct {
	countries []GeoCountry
	cities    []cityRow
	products  []productRow
	addresses []addressRow
	users     []userRow
	orders    []orderRow
}

type cityRow struct {
	GeoCity
	country int // index into plan.countries
}

type productRow struct {
	sku, name, category string
	priceCents          int64
}

type addressRow struct {
	street, postalCode string
	city               int // index into plan.cities
}

type userRow struct {
	username, email string
	createdAt       time.Time
	lastActiveAt    time.Time
	spentCents      int64
	address         int // index into plan.addresses, -1 for none
}

type orderRow struct {
	user, product int // indexes into plan.users and plan.products
	quantity      int
	amountCents   int64
	createdAt     time.Time
}

// Each phase draws from its own PCG stream, so that e.g. a change to the
// catalogue does not reshuffle who lives where.
const (
	streamProducts uint64 = iota + 1
	streamUsers
	streamOrders
)

func newRand(seed, stream uint64) *rand.Rand {
	const mix = 0x9E3779B97F4A7C15 // golden-ratio constant: decorrelates seed and stream
	return rand.New(rand.NewPCG(seed, seed^(stream*mix)))
}

// buildPlan generates the data set. It is pure: the same arguments give the
// same plan.
func buildPlan(countries []GeoCountry, cities []GeoCity, opts Options) (*plan, error) {
	countryIndex, err := checkGeo(countries, cities)
	if err != nil {
		return nil, err
	}
	if len(cities) == 0 {
		return nil, fmt.Errorf("geo table has no city for users to live in")
	}
	p := &plan{countries: countries, cities: make([]cityRow, len(cities))}
	for i, c := range cities {
		p.cities[i] = cityRow{GeoCity: c, country: countryIndex[c.CountryCode]}
	}
	cats := categories()
	catProducts := buildProducts(p, cats, newRand(opts.Seed, streamProducts))
	hidden := buildUsers(p, cats, opts, newRand(opts.Seed, streamUsers))
	buildOrders(p, hidden, catProducts, newRand(opts.Seed, streamOrders))
	return p, nil
}

// weighted samples indexes in proportion to fixed weights, by binary search
// over the cumulative sums.
type weighted []float64

func newWeighted(w []float64) weighted {
	cum := make(weighted, len(w))
	sum := 0.0
	for i, x := range w {
		sum += x
		cum[i] = sum
	}
	return cum
}

func (c weighted) pick(r *rand.Rand) int {
	x := r.Float64() * c[len(c)-1]
	i, _ := slices.BinarySearch(c, x)
	// Bucket i covers [c[i-1], c[i]): an x equal to c[i] belongs to the
	// next non-empty bucket.
	for i < len(c)-1 && c[i] <= x {
		i++
	}
	return i
}

// catalogue is, per category, the indexes of its products in plan.products
// and the sampler over their popularity.
type catalogue struct {
	products   []int
	popularity weighted
}

func buildProducts(p *plan, cats []category, r *rand.Rand) []catalogue {
	out := make([]catalogue, len(cats))
	for ci, c := range cats {
		// Distinct names: the first Count adjective×noun pairs of a shuffle.
		pairs := r.Perm(len(c.Adj) * len(c.Noun))[:c.Count]
		pop := make([]float64, c.Count)
		for j := range c.Count {
			name := c.Adj[pairs[j]/len(c.Noun)] + " " + c.Noun[pairs[j]%len(c.Noun)]
			price := math.Exp(math.Log(c.Median) + c.Sigma*r.NormFloat64())
			// Shop prices end in .99; the floor keeps cheap items above 0.
			cents := max(int64(math.Round(price))*100-1, 99)
			out[ci].products = append(out[ci].products, len(p.products))
			p.products = append(p.products, productRow{
				sku:        fmt.Sprintf("%s-%04d", c.Code, j+1),
				name:       name,
				category:   c.Name,
				priceCents: cents,
			})
			pop[j] = math.Exp(r.NormFloat64()) // log-normal: a few hits per category
		}
		out[ci].popularity = newWeighted(pop)
	}
	return out
}

// hiddenTraits are what drives a user's orders without being stored.
type hiddenTraits struct {
	heavy bool     // heavy spender
	taste weighted // over category indexes
}

// userDraft is a user before sorting by signup time.
type userDraft struct {
	userRow
	hiddenTraits
	city int
}

// buildUsers generates users and their addresses, and returns each user's
// hidden traits (indexed like p.users).
func buildUsers(p *plan, cats []category, opts Options, r *rand.Rand) []hiddenTraits {
	n := opts.Users
	now := opts.Now

	cityW := make([]float64, len(p.cities))
	for i, c := range p.cities {
		cityW[i] = math.Pow(float64(max(c.Population, minCityPop)), cityWeightExp)
	}
	cityPick := newWeighted(cityW)

	alpha := make([]float64, len(cats))
	shareSum := 0.0
	for _, c := range cats {
		shareSum += c.Share
	}
	for i, c := range cats {
		alpha[i] = tasteAlpha * c.Share / shareSum
	}

	// Only users who signed up before the dormancy cut-off can be dormant;
	// raise their probability so that dormantShare of all users are. The
	// extra day keeps dormant users clearly on their side of 90 days.
	cutoff := now.Add(-dormantAfter - 24*time.Hour)
	eligible := signupCDF(1 - float64(now.Sub(cutoff))/float64(history))
	pDormant := min(1, dormantShare/eligible)

	names, domains := newNamer(r), emailDomains()
	drafts := make([]userDraft, n)
	for i := range drafts {
		d := &drafts[i]
		d.city = cityPick.pick(r)
		d.createdAt = secs(now.Add(-time.Duration((1 - signupFraction(r.Float64())) * float64(history))))
		if d.createdAt.Before(cutoff) && r.Float64() < pDormant {
			// Active for a while after signup, then gone.
			d.lastActiveAt = between(r, d.createdAt, cutoff, 1)
		} else {
			// Seen recently; the cube skews towards today.
			from := d.createdAt
			if recent := now.Add(-dormantAfter + time.Hour); from.Before(recent) {
				from = recent
			}
			d.lastActiveAt = between(r, now, from, 3)
		}
		d.heavy = r.Float64() < heavyShare
		d.taste = newWeighted(dirichlet(r, alpha))
		d.username = names.username()
		d.email = d.username + "@" + pickOne(r, domains)
		d.address = -1
		if r.Float64() >= noAddressShare {
			d.address = 0 // has one; the index is set after sorting
		}
	}
	// Users get IDs in signup order, as in a real shop.
	slices.SortStableFunc(drafts, func(a, b userDraft) int { return a.createdAt.Compare(b.createdAt) })

	streets, kinds := streetNames(), streetKinds()
	p.users = make([]userRow, n)
	hidden := make([]hiddenTraits, n)
	for i, d := range drafts {
		if d.address >= 0 {
			d.address = len(p.addresses)
			p.addresses = append(p.addresses, addressRow{
				street: strconv.Itoa(1+r.IntN(200)) + " " + pickOne(r, streets) + " " + pickOne(r, kinds),
				// A city-specific 3-digit prefix, so neighbours share it.
				postalCode: fmt.Sprintf("%03d%02d", 100+d.city*7919%900, r.IntN(100)),
				city:       d.city,
			})
		}
		p.users[i] = d.userRow
		hidden[i] = d.hiddenTraits
	}
	return hidden
}

// buildOrders generates every user's orders, sets total_spent, and sorts
// the orders by time so that order IDs grow with time.
func buildOrders(p *plan, hidden []hiddenTraits, cats []catalogue, r *rand.Rand) {
	for u := range p.users {
		user := &p.users[u]
		mu, sigma := ordersMu, ordersSigma
		if hidden[u].heavy {
			mu, sigma = heavyOrdersMu, heavyOrdersSigma
		}
		n := min(int(math.Exp(mu+sigma*r.NormFloat64())), maxOrdersPerUser)
		for range n {
			c := cats[hidden[u].taste.pick(r)]
			prod := c.products[c.popularity.pick(r)]
			qty := quantity(r)
			amount := int64(qty) * p.products[prod].priceCents
			at := between(r, user.createdAt, user.lastActiveAt, 1)
			user.spentCents += amount
			p.orders = append(p.orders, orderRow{user: u, product: prod, quantity: qty, amountCents: amount, createdAt: at})
		}
	}
	slices.SortStableFunc(p.orders, func(a, b orderRow) int {
		return cmp.Or(a.createdAt.Compare(b.createdAt), cmp.Compare(a.user, b.user))
	})
}

// quantity is 1 in about 72% of orders, 2 in 20%, 3 in 6%, 4–5 otherwise.
func quantity(r *rand.Rand) int {
	switch x := r.Float64(); {
	case x < 0.72:
		return 1
	case x < 0.92:
		return 2
	case x < 0.98:
		return 3
	default:
		return 4 + r.IntN(2)
	}
}

// signupFraction maps a uniform u in [0,1) to the position of a signup in
// the history window (0 = two years ago, 1 = now), with density ∝ e^(g·x):
// the inverse of signupCDF.
func signupFraction(u float64) float64 {
	return math.Log1p(u*math.Expm1(signupGrowth)) / signupGrowth
}

// signupCDF is the share of signups before position x of the window.
func signupCDF(x float64) float64 {
	return math.Expm1(signupGrowth*x) / math.Expm1(signupGrowth)
}

// between returns a whole-second time between a and b (either order),
// nearer to a when skew > 1: a + (b-a)·u^skew.
func between(r *rand.Rand, a, b time.Time, skew float64) time.Time {
	f := r.Float64()
	if skew != 1 {
		f = math.Pow(f, skew)
	}
	t := secs(a.Add(time.Duration(f * float64(b.Sub(a)))))
	// Truncation towards the past could step just outside [a, b] when b < a.
	if lo, hi := minTime(a, b), maxTime(a, b); t.Before(lo) {
		t = lo
	} else if t.After(hi) {
		t = hi
	}
	return t
}

func secs(t time.Time) time.Time { return t.UTC().Truncate(time.Second) }

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func pickOne(r *rand.Rand, s []string) string { return s[r.IntN(len(s))] }

// dirichlet draws a probability vector from Dirichlet(alpha) by normalising
// Gamma(alpha_i) draws. With small alphas most of the mass lands on one or
// two components.
func dirichlet(r *rand.Rand, alpha []float64) []float64 {
	out := make([]float64, len(alpha))
	sum := 0.0
	for i, a := range alpha {
		out[i] = gamma(r, a)
		sum += out[i]
	}
	if sum == 0 { // all draws underflowed: fall back to the prior mean
		copy(out, alpha)
		return out
	}
	for i := range out {
		out[i] /= sum
	}
	return out
}

// gamma draws from Gamma(a, 1) with Marsaglia and Tsang's method; for a < 1
// it uses Gamma(a+1)·U^(1/a).
func gamma(r *rand.Rand, a float64) float64 {
	if a < 1 {
		return gamma(r, a+1) * math.Pow(r.Float64(), 1/a)
	}
	d := a - 1.0/3
	c := 1 / math.Sqrt(9*d)
	for {
		x := r.NormFloat64()
		v := 1 + c*x
		if v <= 0 {
			continue
		}
		v = v * v * v
		u := r.Float64()
		if u < 1-0.0331*x*x*x*x || math.Log(u) < 0.5*x*x+d*(1-v+math.Log(v)) {
			return d * v
		}
	}
}

// namer makes unique, valid usernames (see the schema's usernameRE):
// lower-case ASCII, 3–32 characters, starting with a letter.
type namer struct {
	r           *rand.Rand
	first, last []string
	next        map[string]int // base name -> next numeric suffix
}

func newNamer(r *rand.Rand) *namer {
	return &namer{r: r, first: firstNames(), last: lastNames(), next: map[string]int{}}
}

func (n *namer) username() string {
	f, l := pickOne(n.r, n.first), pickOne(n.r, n.last)
	var base string
	switch n.r.IntN(5) {
	case 0, 1:
		base = f + "." + l
	case 2:
		base = f + "_" + l
	case 3:
		base = f[:1] + l + strconv.Itoa(60+n.r.IntN(40)) // two-digit birth year, 60..99
	default:
		base = f + strconv.Itoa(1960+n.r.IntN(46))
	}
	base = strings.TrimRight(base[:min(len(base), 26)], "._")
	k, taken := n.next[base]
	if !taken {
		n.next[base] = 2
		return base
	}
	// Every name handed out is a key of next, so probing suffixes until
	// one is free keeps names unique even when base+k is itself a base.
	sep := ""
	if last := base[len(base)-1]; last >= '0' && last <= '9' {
		sep = "_" // "anna1990_2", not the misleading "anna19902"
	}
	for {
		name := base + sep + strconv.Itoa(k)
		k++
		if _, clash := n.next[name]; !clash {
			n.next[base] = k
			n.next[name] = 2
			return name
		}
	}
}
