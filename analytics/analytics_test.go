package analytics

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

func TestPrepareValidates(t *testing.T) {
	now := time.Date(2026, 6, 10, 12, 0, 0, 0, time.UTC)
	p := DefaultPolicy()
	ptr := func(t time.Time) *time.Time { return &t }
	big := map[string]any{"blob": strings.Repeat("x", MaxMetadataBytes)}
	for _, tc := range []struct {
		name  string
		in    EventInput
		field string
	}{
		{"future", EventInput{UserID: 1, Type: "click", Timestamp: ptr(now.Add(time.Hour))}, "timestamp"},
		{"before 2000", EventInput{UserID: 1, Type: "click", Timestamp: ptr(time.Date(1999, 12, 31, 0, 0, 0, 0, time.UTC))}, "timestamp"},
		{"metadata too big", EventInput{UserID: 1, Type: "click", Metadata: big}, "metadata"},
		{"negative price", EventInput{UserID: 1, Type: "purchase", Metadata: map[string]any{"price": -1.0}}, "metadata.price"},
		{"NaN price", EventInput{UserID: 1, Type: "purchase", Metadata: map[string]any{"price": math.NaN()}}, "metadata"},
		{"string price", EventInput{UserID: 1, Type: "purchase", Metadata: map[string]any{"price": "12"}}, "metadata.price"},
		{"purchase without price", EventInput{UserID: 1, Type: "purchase"}, "metadata.price"},
		{"fractional quantity", EventInput{UserID: 1, Type: "purchase", Metadata: map[string]any{"price": 1.0, "quantity": 1.5}}, "metadata.quantity"},
		{"lat out of range", EventInput{UserID: 1, Type: "click", Geo: &Geo{Lat: 91}}, "geo.lat"},
		{"lon out of range", EventInput{UserID: 1, Type: "click", Geo: &Geo{Lon: -181}}, "geo.lon"},
		{"bad country", EventInput{UserID: 1, Type: "click", Geo: &Geo{Country: "Ukraine"}}, "geo.country"},
		{"unknown type", EventInput{UserID: 1, Type: "teleport"}, "type"},
		{"no user", EventInput{Type: "click"}, "userId"},
		{"bad id", EventInput{ID: ptr2("has space"), UserID: 1, Type: "click"}, "id"},
		{"NUL in metadata", EventInput{UserID: 1, Type: "click", Metadata: map[string]any{"q": "a\x00b"}}, "metadata"},
		{"NUL in city", EventInput{UserID: 1, Type: "click", Geo: &Geo{City: "Ky\x00iv"}}, "geo.city"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := p.Prepare(tc.in, now)
			fe, ok := err.(*FieldError)
			if !ok || fe.Field != tc.field {
				t.Fatalf("Prepare = %v, want a FieldError on %s", err, tc.field)
			}
		})
	}
	lenient := p
	lenient.AcceptUnknownTypes = true
	if _, err := lenient.Prepare(EventInput{UserID: 1, Type: "teleport"}, now); err != nil {
		t.Errorf("AcceptUnknownTypes still refuses: %v", err)
	}
}

func ptr2(s string) *string { return &s }

func TestPrepareDerives(t *testing.T) {
	now := time.Date(2026, 6, 10, 12, 0, 0, 0, time.UTC)
	ts := time.Date(2026, 6, 7, 23, 30, 0, 0, time.FixedZone("x", -2*3600)) // Monday 01:30 UTC
	e, err := DefaultPolicy().Prepare(EventInput{UserID: 7, Type: "purchase", Timestamp: &ts,
		Metadata: map[string]any{"price": 19.99, "quantity": 3.0, "category": "Books "},
		Geo:      &Geo{Country: "ua", City: "Kyiv", Lat: 50.45, Lon: 30.52}}, now)
	if err != nil {
		t.Fatal(err)
	}
	if e.ID == "" || len(e.ID) != 26 {
		t.Errorf("id = %q, want a ULID", e.ID)
	}
	want := time.Date(2026, 6, 8, 0, 0, 0, 0, time.UTC)
	if !e.Day.Equal(want) || !e.Week.Equal(want) || !e.Month.Equal(time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("buckets = %v %v %v", e.Day, e.Week, e.Month)
	}
	if e.Revenue != 59.97 || e.Category != "Books" || e.Geo.Country != "UA" || e.Cell != "u8vxn" {
		t.Errorf("derived = revenue %v category %q country %q cell %q", e.Revenue, e.Category, e.Geo.Country, e.Cell)
	}
}

func TestHaversineKnownDistances(t *testing.T) {
	// Paris – London ≈ 343.5 km; Kyiv – Lviv ≈ 468 km.
	if d := HaversineKm(48.8566, 2.3522, 51.5074, -0.1278); math.Abs(d-343.5) > 1.5 {
		t.Errorf("Paris–London = %.1f km", d)
	}
	if d := HaversineKm(50.4501, 30.5234, 49.8397, 24.0297); math.Abs(d-468) > 3 {
		t.Errorf("Kyiv–Lviv = %.1f km", d)
	}
}

// TestCoverCellsCoverTheCircle: every random point within the radius lies in
// a cell starting with one of the prefixes, and the prefixes stay few.
func TestCoverCellsCoverTheCircle(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, c := range []struct{ lat, lon, r float64 }{
		{50.45, 30.52, 1}, {50.45, 30.52, 25}, {0, 179.99, 40}, {-33.87, 151.21, 120}, {78, 15, 300}, {48.86, 2.35, 500},
	} {
		cells := CoverCells(c.lat, c.lon, c.r)
		if len(cells) == 0 || len(cells) > maxCoverCells {
			t.Fatalf("%v: %d cells", c, len(cells))
		}
		for range 2000 {
			// A random point in the circle.
			bearing := rng.Float64() * 2 * math.Pi
			dist := c.r * math.Sqrt(rng.Float64()) * 0.999
			lat, lon := destination(c.lat, c.lon, bearing, dist)
			e, err := DefaultPolicy().Prepare(EventInput{UserID: 1, Type: "click", Geo: &Geo{Lat: lat, Lon: lon}}, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			covered := false
			for _, p := range cells {
				if strings.HasPrefix(e.Cell, p) {
					covered = true
					break
				}
			}
			if !covered {
				t.Fatalf("%v: point %.4f,%.4f (%.2f km) in cell %s is not covered by %v", c, lat, lon, dist, e.Cell, cells)
			}
		}
	}
}

func destination(lat, lon, bearing, km float64) (float64, float64) {
	rad := math.Pi / 180
	d := km / earthRadiusKm
	φ1, λ1 := lat*rad, lon*rad
	φ2 := math.Asin(math.Sin(φ1)*math.Cos(d) + math.Cos(φ1)*math.Sin(d)*math.Cos(bearing))
	λ2 := λ1 + math.Atan2(math.Sin(bearing)*math.Sin(d)*math.Cos(φ1), math.Cos(d)-math.Sin(φ1)*math.Sin(φ2))
	lon2 := math.Mod(λ2/rad+540, 360) - 180
	return φ2 / rad, lon2
}
