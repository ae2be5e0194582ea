package analytics_test

// Fuzz targets for the event decoders: Policy.Prepare on structured input,
// the JSON body of an event.track bus message (decoded the way the
// consumers decode it) and the profile and near-search inputs.
//
//	go test -run '^$' -fuzz '^FuzzPrepare$' -fuzztime 60s ./analytics/

import (
	"bytes"
	"encoding/json"
	"math"
	"net/mail"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/mmcloughlin/geohash"

	"github.com/meridian-graphql/meridian/analytics"
)

// fuzzNow is the fixed clock of the event targets, so that a crasher
// reproduces whatever the day.
var fuzzNow = time.Date(2026, 3, 15, 12, 34, 56, 789_000_000, time.UTC)

var (
	fuzzIDRE      = regexp.MustCompile(`^[A-Za-z0-9_.:-]{1,64}$`)
	fuzzCountryRE = regexp.MustCompile(`^[A-Z]{2}$`)
	fuzzTagRE     = regexp.MustCompile(`^[a-z0-9][a-z0-9 _.+-]{0,39}$`)
	fuzzUserRE    = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{2,31}$`)
)

// FuzzPrepare feeds Policy.Prepare structured inputs (every field a client
// sets) and checks the event it accepts: a valid id, a timestamp within the
// policy, consistent Day/Week/Month buckets, a 5-character geohash cell that
// contains the point, a finite revenue of price × quantity, and a result
// that Prepare reproduces when the stored event is tracked again.
func FuzzPrepare(f *testing.F) {
	type seed struct {
		hasID         bool
		id            string
		userID        int
		typ           string
		hasTS         bool
		tsNano        int64
		zoneMin       int16
		meta          string
		useNumber     bool
		hasPrice      bool
		price         float64
		hasQty        bool
		qty           float64
		hasGeo        bool
		lat, lon      float64
		country, city string
		acceptUnknown bool
	}
	ts := time.Date(2026, 3, 1, 23, 59, 59, 999_999_999, time.UTC).UnixNano()
	for _, s := range []seed{
		{userID: 1, typ: "page_view", meta: `{"path":"/"}`},
		{hasID: true, id: "evt-1", userID: 42, typ: "purchase", hasTS: true, tsNano: ts, meta: `{"price":19.99,"quantity":2,"category":" books "}`},
		{hasID: true, id: "a:b.c_d-e", userID: 7, typ: " click ", hasTS: true, tsNano: ts, zoneMin: -600, hasGeo: true, lat: 50.4501, lon: 30.5234, country: " ua ", city: "Kyiv"},
		{userID: 3, typ: "purchase", meta: `{"price":"12"}`},
		{userID: 3, typ: "purchase", meta: `{"price":-1}`},
		{userID: 3, typ: "purchase", meta: `{"price":1,"quantity":0.5}`},
		{userID: 3, typ: "purchase", meta: `{"price":99999.99,"quantity":1000}`, useNumber: true},
		{userID: 3, typ: "purchase", hasPrice: true, price: 1e-300, hasQty: true, qty: 2},
		{userID: 3, typ: "purchase", hasPrice: true, price: math.NaN()},
		{userID: 3, typ: "purchase", hasPrice: true, price: math.Inf(1)},
		{userID: 3, typ: "search", meta: `{"q":"\u0000"}`},
		{userID: 3, typ: "search", meta: `{"big":"` + strings.Repeat("x", analytics.MaxMetadataBytes) + `"}`},
		{userID: 0, typ: "click"},
		{userID: -5, typ: "click"},
		{userID: 1, typ: ""},
		{userID: 1, typ: "made_up", acceptUnknown: true},
		{userID: 1, typ: "made_up"},
		{userID: 1, typ: "nul\x00type", acceptUnknown: true},
		{userID: 1, typ: strings.Repeat("t", 65), acceptUnknown: true},
		{hasID: true, id: "", userID: 1, typ: "click"},
		{hasID: true, id: strings.Repeat("i", 65), userID: 1, typ: "click"},
		{hasID: true, id: "bad id", userID: 1, typ: "click"},
		{hasID: true, id: "x\n", userID: 1, typ: "click"},
		{userID: 1, typ: "click", hasTS: true, tsNano: time.Date(1999, 12, 31, 23, 59, 59, 0, time.UTC).UnixNano()},
		{userID: 1, typ: "click", hasTS: true, tsNano: time.Date(2000, 1, 1, 0, 0, 0, 1, time.UTC).UnixNano()},
		{userID: 1, typ: "click", hasTS: true, tsNano: fuzzNow.Add(5*time.Minute + time.Nanosecond).UnixNano()},
		{userID: 1, typ: "click", hasTS: true, tsNano: fuzzNow.Add(5 * time.Minute).UnixNano(), zoneMin: 14 * 60},
		{userID: 1, typ: "click", hasTS: true, tsNano: math.MinInt64},
		{userID: 1, typ: "click", hasGeo: true, lat: 89.999999, lon: 180},
		{userID: 1, typ: "click", hasGeo: true, lat: -90, lon: -180},
		{userID: 1, typ: "click", hasGeo: true, lat: math.NaN(), lon: 0},
		{userID: 1, typ: "click", hasGeo: true, lat: 0, lon: math.Inf(-1)},
		{userID: 1, typ: "click", hasGeo: true, lat: 91, lon: 0},
		{userID: 1, typ: "click", hasGeo: true, country: "USA"},
		{userID: 1, typ: "click", hasGeo: true, country: "ıt"},
		{userID: 1, typ: "click", hasGeo: true, city: strings.Repeat("c", 121)},
		{userID: 1, typ: "click", hasGeo: true, city: "a\x00b"},
		{userID: 1, typ: "click", meta: `{"category":42}`},
		{userID: 1, typ: "purchase", meta: `{"price":1,"category":"` + strings.Repeat("é", analytics.MaxCategoryBytes/2) + `x"}`},
		{userID: 1, typ: "click", meta: `{"a.b":1,"$c":2}`},
		{userID: 1, typ: "click", meta: `{"q":"` + strings.Repeat("x", analytics.MaxMetadataStringBytes+1) + `"}`},
		{userID: 1, typ: "click", meta: `{"n":` + strings.Repeat("[", analytics.MaxMetadataDepth) + strings.Repeat("]", analytics.MaxMetadataDepth) + `}`},
		{userID: 1, typ: "click", hasGeo: true, city: "\xff\xfe"},
		{userID: 1, typ: "click", meta: `{"quantity":3}`},
	} {
		f.Add(s.hasID, s.id, s.userID, s.typ, s.hasTS, s.tsNano, s.zoneMin, s.meta, s.useNumber,
			s.hasPrice, s.price, s.hasQty, s.qty, s.hasGeo, s.lat, s.lon, s.country, s.city, s.acceptUnknown)
	}
	f.Fuzz(func(t *testing.T, hasID bool, id string, userID int, typ string, hasTS bool, tsNano int64, zoneMin int16,
		meta string, useNumber, hasPrice bool, price float64, hasQty bool, qty float64,
		hasGeo bool, lat, lon float64, country, city string, acceptUnknown bool) {
		in := analytics.EventInput{UserID: userID, Type: typ}
		if hasID {
			in.ID = &id
		}
		if hasTS {
			at := time.Unix(0, tsNano).In(time.FixedZone("fuzz", int(zoneMin)*60))
			in.Timestamp = &at
		}
		if meta != "" {
			dec := json.NewDecoder(strings.NewReader(meta))
			if useNumber {
				dec.UseNumber()
			}
			_ = dec.Decode(&in.Metadata) // not an object: no metadata
		}
		if hasPrice || hasQty {
			if in.Metadata == nil {
				in.Metadata = map[string]any{}
			}
			if hasPrice {
				in.Metadata["price"] = price
			}
			if hasQty {
				in.Metadata["quantity"] = qty
			}
		}
		if hasGeo {
			in.Geo = &analytics.Geo{Lat: lat, Lon: lon, Country: country, City: city}
		}
		p := analytics.DefaultPolicy()
		p.AcceptUnknownTypes = acceptUnknown
		e, err := p.Prepare(in, fuzzNow)
		if err != nil {
			checkRefusal(t, err)
			return
		}
		checkPrepared(t, p, in, e)
		checkIdempotent(t, p, e)
	})
}

// FuzzTrackBody decodes the body of an event.track message as the ingest
// consumer does (strict JSON into analytics.EventInput, the message id as
// the default event id) and prepares it. Besides the checks of
// FuzzPrepare, the stored event's own JSON (what the live hub and the
// export send) must be valid and, tracked again, give the same event.
func FuzzTrackBody(f *testing.F) {
	for _, s := range []string{
		`{"userId":1,"type":"page_view"}`,
		`{"id":"evt-9","userId":42,"type":"purchase","timestamp":"2026-03-01T10:00:00.123456789+02:00","metadata":{"price":9.5,"quantity":3,"category":"toys"},"geo":{"country":"de","city":"Berlin","lat":52.52,"lon":13.405}}`,
		`{"userId":1,"type":"purchase","metadata":{"price":1e9,"quantity":1e6}}`,
		`{"userId":1,"type":"purchase","metadata":{"price":0.005}}`,
		`{"userId":1,"type":"purchase","metadata":{"price":null}}`,
		`{"userId":1,"type":"search","metadata":{"q":"\u0000"}}`,
		`{"userId":1,"type":"click","geo":{"lat":-90,"lon":180}}`,
		`{"userId":1,"type":"click","geo":null}`,
		`{"userId":1,"type":"click"} {"userId":2}`,
		`{"userId":1,"type":"click"}   `,
		`{"userId":"1","type":"click"}`,
		`{"userId":1.5,"type":"click"}`,
		`{"userId":9223372036854775807,"type":"click"}`,
		`{"userId":1,"type":"click","timestamp":"yesterday"}`,
		`{"userId":1,"type":"click","timestamp":"1999-12-31T23:59:59Z"}`,
		`{"USERID":1,"TYPE":"login","Timestamp":"2026-03-15T12:39:56.789Z"}`,
		`{"id":"","userId":1,"type":"logout"}`,
		`{"id":"<script>","userId":1,"type":"logout"}`,
		`[]`, `null`, `""`, `{`, `{"userId":1,"type":"click","metadata":[1,2]}`,
		`{"userId":1,"type":"click","metadata":{"a":{"b":{"c":{"d":[[[[[[[[]]]]]]]]}}}}}`,
	} {
		f.Add([]byte(s))
	}
	p := analytics.DefaultPolicy()
	f.Fuzz(func(t *testing.T, body []byte) {
		in, err := analytics.DecodeEventInput(body)
		if err != nil {
			return
		}
		if in.ID == nil || *in.ID == "" {
			id := "01JQ0MSGID0000000000000000"
			in.ID = &id
		}
		e, err := p.Prepare(in, fuzzNow)
		if err != nil {
			checkRefusal(t, err)
			return
		}
		checkPrepared(t, p, in, e)
		checkIdempotent(t, p, e)

		b, err := json.Marshal(e)
		if err != nil {
			t.Fatalf("prepared event does not marshal: %v\n%#v", err, e)
		}
		if !json.Valid(b) || !utf8.Valid(b) {
			t.Fatalf("prepared event marshals to invalid JSON: %q", b)
		}
		again, err := analytics.DecodeEventInput(b)
		if err != nil {
			t.Fatalf("the event's own JSON does not decode as a tracked event: %v\n%s", err, b)
		}
		e2, err := p.Prepare(again, fuzzNow)
		if err != nil {
			t.Fatalf("the event's own JSON is refused: %v\n%s", err, b)
		}
		if !sameDerived(e, e2) {
			t.Fatalf("re-tracking the event's JSON changes it:\nfirst  %+v\nsecond %+v\njson %s", e, e2, b)
		}
	})
}

// FuzzCheckProfile validates profile inputs (the upsertProfile mutation)
// and checks the normalised result: a valid username, a lower-case email
// that parses as itself, tags sorted, unique and valid, finite metrics, and
// that normalising again changes nothing.
func FuzzCheckProfile(f *testing.F) {
	f.Add("alice", true, "Alice@Example.COM", true, "expert", "Go\nrust\ngo\n  SQL ", "news", "score", 1.5)
	f.Add("bob_2", false, "", false, "", "", "", "", 0.0)
	f.Add("ab", false, "", false, "", "", "", "", 0.0)
	f.Add("_alice", false, "", false, "", "", "", "", 0.0)
	f.Add("alice", true, "not an email", false, "", "", "", "", 0.0)
	f.Add("alice", true, "Alice <alice@example.com>", false, "", "", "", "", 0.0)
	f.Add("alice", true, "\"a b\"@example.com", false, "", "", "", "", 0.0)
	f.Add("alice", false, "", true, "guru", "", "", "", 0.0)
	f.Add("alice", false, "", false, "", strings.Repeat("t\n", 101), "", "", 0.0)
	f.Add("alice", false, "", false, "", "UPPER\n_bad", "", "", 0.0)
	f.Add("alice", false, "", false, "", "", "", "bad name", 1.0)
	f.Add("alice", false, "", false, "", "", "", "ok", math.NaN())
	f.Add("alice", false, "", false, "", "", "", "ok", math.Inf(-1))
	f.Add("  alice  ", false, "", false, "", "\u212a", "", "k", 0.0)
	f.Fuzz(func(t *testing.T, username string, hasEmail bool, email string, hasLevel bool, level string, interests, subs, metric string, value float64) {
		in := analytics.ProfileInput{Username: username, Interests: fuzzLines(interests), Subscriptions: fuzzLines(subs)}
		if hasEmail {
			in.Email = &email
		}
		if hasLevel {
			in.ExpertiseLevel = &level
		}
		if metric != "" {
			in.Metrics = map[string]float64{metric: value}
		}
		if err := analytics.CheckProfile(&in); err != nil {
			checkRefusal(t, err)
			return
		}
		if !fuzzUserRE.MatchString(in.Username) {
			t.Fatalf("accepted username %q", in.Username)
		}
		if in.Email != nil {
			e := *in.Email
			if e != strings.ToLower(e) {
				t.Fatalf("email %q is not lower-case", e)
			}
			if a, err := mail.ParseAddress(e); err != nil || a.Address != e {
				t.Fatalf("accepted email %q does not parse as itself (%v)", e, err)
			}
		}
		if in.ExpertiseLevel != nil && !slices.Contains(analytics.ExpertiseLevels(), *in.ExpertiseLevel) {
			t.Fatalf("accepted expertise level %q", *in.ExpertiseLevel)
		}
		for _, tags := range [][]string{in.Interests, in.Subscriptions} {
			if !slices.IsSorted(tags) || len(slices.Compact(slices.Clone(tags))) != len(tags) {
				t.Fatalf("tags not sorted and unique: %q", tags)
			}
			for _, tag := range tags {
				if !fuzzTagRE.MatchString(tag) {
					t.Fatalf("accepted tag %q", tag)
				}
			}
		}
		for k, v := range in.Metrics {
			if math.IsNaN(v) || math.IsInf(v, 0) || !fuzzTagRE.MatchString(k) {
				t.Fatalf("accepted metric %q=%v", k, v)
			}
		}
		again := in
		again.Interests, again.Subscriptions = slices.Clone(in.Interests), slices.Clone(in.Subscriptions)
		if err := analytics.CheckProfile(&again); err != nil {
			t.Fatalf("normalised profile is refused: %v\n%+v", err, in)
		}
		if !reflect.DeepEqual(again, in) {
			t.Fatalf("normalising twice differs:\nonce  %+v\ntwice %+v", in, again)
		}
	})
}

// FuzzCoverCells checks the prefilter of eventsNear: for every query that
// EventsNear accepts, CoverCells is cheap (a bounded number of
// allocations, a proxy for its CPU time) and returns 1–64 sorted, unique geohash
// prefixes of one length, and every point within the radius — the centre,
// and a point placed at a fuzzed bearing and fraction of the radius — lies
// in a covered cell — the cell Prepare stores for an event there — else a
// near search would miss the event.
func FuzzCoverCells(f *testing.F) {
	f.Add(50.4501, 30.5234, 10.0, 45.0, 1.0)
	f.Add(50.4501, 30.5234, 500.0, 200.0, 0.999)
	f.Add(48.8566, 2.3522, 400.0, 90.0, 1.0)
	f.Add(0.0, 179.99, 50.0, 90.0, 1.0)
	f.Add(0.0, -180.0, 50.0, 270.0, 1.0)
	f.Add(89.99, 0.0, 30.0, 180.0, 1.0)
	f.Add(-60.0, 100.0, 200.0, 0.0, 0.5)
	f.Add(90.0, 180.0, 0.001, 10.0, 1.0)
	f.Add(60.0, 0.0, 500.0, 90.0, 1.0)
	f.Add(0.0, 0.0, 1e-9, 0.0, 1.0)
	f.Add(0.0, 0.0, 0.0, 0.0, 0.0)
	f.Add(math.NaN(), 0.0, 1.0, 0.0, 0.0)
	f.Add(0.0, 0.0, 501.0, 0.0, 0.0)
	f.Fuzz(func(t *testing.T, lat, lon, radiusKm, bearing, frac float64) {
		// The checks of EventsNear: anything else never reaches CoverCells.
		if math.IsNaN(lat) || lat < -90 || lat > 90 || math.IsNaN(lon) || lon < -180 || lon > 180 ||
			!(radiusKm > 0) || radiusKm > analytics.MaxRadiusKm {
			return
		}
		var cells []string
		// Its cost is the CPU of one eventsNear request, which any caller
		// may send: every accepted query must be cheap. The worst
		// mid-latitude queries allocate under 80,000 times (500 km).
		if allocs := testing.AllocsPerRun(1, func() { cells = analytics.CoverCells(lat, lon, radiusKm) }); allocs > 200_000 {
			t.Fatalf("CoverCells(%v, %v, %v) allocated %.0f times for %d cells: one eventsNear request costs that much CPU", lat, lon, radiusKm, allocs, len(cells))
		}
		if len(cells) == 0 || len(cells) > 64 {
			t.Fatalf("CoverCells(%v, %v, %v) returned %d cells", lat, lon, radiusKm, len(cells))
		}
		if !slices.IsSorted(cells) || len(slices.Compact(slices.Clone(cells))) != len(cells) {
			t.Fatalf("cells not sorted and unique: %q", cells)
		}
		for _, c := range cells {
			if len(c) != len(cells[0]) || len(c) < 1 || len(c) > analytics.CellPrecision || geohash.Validate(c) != nil {
				t.Fatalf("bad cell %q in %q", c, cells)
			}
		}
		covered := func(la, lo float64) bool {
			cell := fuzzStoredCell(t, la, lo)
			for _, c := range cells {
				if strings.HasPrefix(cell, c) {
					return true
				}
			}
			return false
		}
		if !covered(lat, lon) {
			t.Fatalf("CoverCells(%v, %v, %v) misses the centre's cell %s: %q", lat, lon, radiusKm, fuzzStoredCell(t, lat, lon), cells)
		}
		if math.IsNaN(bearing) || math.IsInf(bearing, 0) || math.IsNaN(frac) {
			return
		}
		frac = math.Min(math.Abs(frac), 1)
		la, lo := fuzzDestination(lat, lon, bearing, frac*radiusKm)
		if d := analytics.HaversineKm(lat, lon, la, lo); d <= radiusKm && !covered(la, lo) {
			t.Fatalf("CoverCells(%v, %v, %v) misses (%v, %v) at %.6f km, cell %s: %q", lat, lon, radiusKm, la, lo, d, fuzzStoredCell(t, la, lo), cells)
		}
	})
}

// fuzzStoredCell is the cell an event at (lat, lon) is stored with: the one
// Prepare derives, which is what the near search's prefixes must match.
func fuzzStoredCell(t *testing.T, lat, lon float64) string {
	t.Helper()
	e, err := analytics.DefaultPolicy().Prepare(analytics.EventInput{UserID: 1, Type: "click", Geo: &analytics.Geo{Lat: lat, Lon: lon}}, fuzzNow)
	if err != nil {
		t.Fatalf("an event at (%v, %v) is refused: %v", lat, lon, err)
	}
	return e.Cell
}

// fuzzDestination is the point distanceKm from (lat, lon) at bearing
// degrees on the sphere.
func fuzzDestination(lat, lon, bearing, distanceKm float64) (float64, float64) {
	const r = 6371.0088
	rad := math.Pi / 180
	φ1, λ1, θ, δ := lat*rad, lon*rad, bearing*rad, distanceKm/r
	φ2 := math.Asin(math.Max(-1, math.Min(1, math.Sin(φ1)*math.Cos(δ)+math.Cos(φ1)*math.Sin(δ)*math.Cos(θ))))
	λ2 := λ1 + math.Atan2(math.Sin(θ)*math.Sin(δ)*math.Cos(φ1), math.Cos(δ)-math.Sin(φ1)*math.Sin(φ2))
	la, lo := φ2/rad, math.Mod(λ2/rad+540, 360)-180
	return math.Max(-90, math.Min(90, la)), math.Max(-180, math.Min(180, lo))
}

func fuzzLines(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// checkRefusal: a refusal is a *FieldError naming a field, so that the API
// can answer BAD_USER_INPUT with extensions.field.
func checkRefusal(t *testing.T, err error) {
	t.Helper()
	fe, ok := err.(*analytics.FieldError)
	if !ok {
		t.Fatalf("refusal is a %T, not a *analytics.FieldError: %v", err, err)
	}
	if fe.Field == "" || fe.Msg == "" {
		t.Fatalf("refusal without field or message: %+v", fe)
	}
}

// checkPrepared checks an event Prepare accepted against its input.
func checkPrepared(t *testing.T, p analytics.Policy, in analytics.EventInput, e analytics.Event) {
	t.Helper()
	if !fuzzIDRE.MatchString(e.ID) {
		t.Fatalf("accepted id %q", e.ID)
	}
	if in.ID != nil && e.ID != strings.TrimSpace(*in.ID) {
		t.Fatalf("id %q became %q", *in.ID, e.ID)
	}
	if e.UserID <= 0 || e.UserID != in.UserID {
		t.Fatalf("user id %d became %d", in.UserID, e.UserID)
	}
	if e.Type == "" || e.Type != strings.TrimSpace(e.Type) || !storable(e.Type, analytics.MaxTypeBytes) ||
		(!p.AcceptUnknownTypes && !slices.Contains(p.Types, e.Type)) {
		t.Fatalf("accepted type %q", e.Type)
	}
	ts := e.Timestamp
	minTime := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	if ts.Location() != time.UTC || ts.Before(minTime) || ts.After(fuzzNow.Add(p.MaxFuture)) || ts.Nanosecond()%int(time.Millisecond) != 0 {
		t.Fatalf("accepted timestamp %v (input %v)", ts, in.Timestamp)
	}
	if in.Timestamp != nil && !ts.Equal(in.Timestamp.Truncate(time.Millisecond)) {
		t.Fatalf("timestamp %v became %v", *in.Timestamp, ts)
	}
	day, week, month := e.Day, e.Week, e.Month
	if day.After(ts) || !ts.Before(day.Add(24*time.Hour)) || day.Location() != time.UTC || day.Hour()+day.Minute()+day.Second()+day.Nanosecond() != 0 {
		t.Fatalf("day %v does not hold timestamp %v", day, ts)
	}
	if week.Weekday() != time.Monday || week.After(day) || !day.Before(week.AddDate(0, 0, 7)) || week.Hour() != 0 {
		t.Fatalf("week %v does not hold day %v", week, day)
	}
	if month.Day() != 1 || month.Year() != day.Year() || month.Month() != day.Month() || month.Hour() != 0 {
		t.Fatalf("month %v does not hold day %v", month, day)
	}
	if in.Geo == nil {
		if e.Geo != nil || e.Cell != "" {
			t.Fatalf("geo %+v and cell %q without geo input", e.Geo, e.Cell)
		}
	} else {
		g := e.Geo
		if g == nil || g == in.Geo {
			t.Fatalf("geo not copied: %p → %p", in.Geo, g)
		}
		if math.IsNaN(g.Lat) || math.IsNaN(g.Lon) || g.Lat < -90 || g.Lat > 90 || g.Lon < -180 || g.Lon > 180 {
			t.Fatalf("accepted geo %+v", g)
		}
		if g.Country != "" && !fuzzCountryRE.MatchString(g.Country) {
			t.Fatalf("accepted country %q", g.Country)
		}
		if !storable(g.City, analytics.MaxCityBytes) {
			t.Fatalf("accepted city %q", g.City)
		}
		if len(e.Cell) != analytics.CellPrecision || geohash.Validate(e.Cell) != nil {
			t.Fatalf("cell %q of (%v, %v)", e.Cell, g.Lat, g.Lon)
		}
		lon := g.Lon
		if lon == 180 {
			lon = -180 // the same meridian: geohash wraps it
		}
		if box := geohash.BoundingBox(e.Cell); g.Lat < box.MinLat || g.Lat > box.MaxLat || lon < box.MinLng || lon > box.MaxLng {
			t.Fatalf("cell %q (%+v) does not contain (%v, %v)", e.Cell, box, g.Lat, g.Lon)
		}
	}
	if math.IsNaN(e.Revenue) || math.IsInf(e.Revenue, 0) || e.Revenue < 0 {
		t.Fatalf("revenue %v of metadata %v", e.Revenue, e.Metadata)
	}
	// The SQL store keeps int64(math.Round(Revenue*100)) in revenue_cents.
	if e.Revenue*100 >= math.MaxInt64 {
		t.Fatalf("revenue %v does not fit the SQL store's int64 revenue_cents (metadata %v)", e.Revenue, e.Metadata)
	}
	if e.Type == "purchase" {
		price, ok := analytics.Number(e.Metadata["price"])
		if !ok {
			t.Fatalf("purchase accepted without a numeric price: %v", e.Metadata)
		}
		qty := 1.0
		if q, ok := analytics.Number(e.Metadata["quantity"]); ok {
			qty = q
		}
		if want := math.Round(price*qty*100) / 100; e.Revenue != want {
			t.Fatalf("revenue %v, want %v (price %v × quantity %v)", e.Revenue, want, price, qty)
		}
	} else if e.Revenue != 0 {
		t.Fatalf("revenue %v on a %q event", e.Revenue, e.Type)
	}
	if c, ok := e.Metadata["category"].(string); ok && e.Category != strings.TrimSpace(c) || !ok && e.Category != "" ||
		!storable(e.Category, analytics.MaxCategoryBytes) {
		t.Fatalf("category %q of metadata %v", e.Category, e.Metadata)
	}
	if e.Metadata != nil {
		checkMetadataStorable(t, e.Metadata, 0)
	}
	if e.Metadata != nil {
		b, err := json.Marshal(e.Metadata)
		if err != nil || len(b) > analytics.MaxMetadataBytes || bytes.Contains(b, []byte(`\u0000`)) {
			t.Fatalf("accepted metadata of %d bytes (%v)", len(b), err)
		}
	}
}

// storable: s is within max bytes of valid UTF-8, without NUL.
func storable(s string, max int) bool {
	return len(s) <= max && utf8.ValidString(s) && !strings.ContainsRune(s, 0)
}

// checkMetadataStorable: every key and string of accepted metadata is
// within its limit, and the nesting within MaxMetadataDepth.
func checkMetadataStorable(t *testing.T, v any, depth int) {
	t.Helper()
	switch x := v.(type) {
	case map[string]any:
		if depth >= analytics.MaxMetadataDepth {
			t.Fatalf("accepted metadata nested %d levels deep", depth+1)
		}
		for k, el := range x {
			if !storable(k, analytics.MaxMetadataKeyBytes) || strings.HasPrefix(k, "$") || strings.Contains(k, ".") {
				t.Fatalf("accepted metadata key %q", k)
			}
			checkMetadataStorable(t, el, depth+1)
		}
	case []any:
		if depth >= analytics.MaxMetadataDepth {
			t.Fatalf("accepted metadata nested %d levels deep", depth+1)
		}
		for _, el := range x {
			checkMetadataStorable(t, el, depth+1)
		}
	case string:
		if !storable(x, analytics.MaxMetadataStringBytes) {
			t.Fatalf("accepted a metadata string of %d bytes", len(x))
		}
	}
}

// checkIdempotent: the stored event, tracked again (a redelivery, a replay),
// is prepared to the same event.
func checkIdempotent(t *testing.T, p analytics.Policy, e analytics.Event) {
	t.Helper()
	id, at := e.ID, e.Timestamp
	var geo *analytics.Geo
	if e.Geo != nil {
		g := *e.Geo
		geo = &g
	}
	e2, err := p.Prepare(analytics.EventInput{ID: &id, UserID: e.UserID, Type: e.Type, Timestamp: &at, Metadata: e.Metadata, Geo: geo}, fuzzNow)
	if err != nil {
		t.Fatalf("prepared event is refused when tracked again: %v\n%+v", err, e)
	}
	if !reflect.DeepEqual(e, e2) {
		t.Fatalf("preparing twice differs:\nonce  %+v\ntwice %+v", e, e2)
	}
}

// sameDerived compares what the stores keep of two events.
func sameDerived(a, b analytics.Event) bool {
	return a.ID == b.ID && a.UserID == b.UserID && a.Type == b.Type && a.Timestamp.Equal(b.Timestamp) &&
		a.Day.Equal(b.Day) && a.Week.Equal(b.Week) && a.Month.Equal(b.Month) && a.Cell == b.Cell &&
		a.Revenue == b.Revenue && a.Category == b.Category && reflect.DeepEqual(a.Geo, b.Geo) &&
		len(a.Metadata) == len(b.Metadata)
}
