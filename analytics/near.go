package analytics

import (
	"context"
	"fmt"
	"math"
	"sort"

	"github.com/mmcloughlin/geohash"
)

// NearQuery asks for events within RadiusKm of (Lon, Lat).
type NearQuery struct {
	Lon, Lat float64
	RadiusKm float64
	Range    Range
	Filter   Filter
	Limit    int
}

// EventDistance is an event with its exact distance from the query point.
type EventDistance struct {
	Event      Event
	DistanceKm float64
}

// MaxRadiusKm bounds a near search: beyond it the cell prefilter would need
// too many cells to pay.
const MaxRadiusKm = 500

const earthRadiusKm = 6371.0088

// EventsNear finds events within the radius, nearest first: the store
// returns the events of the geohash cells that cover the circle, and exact
// haversine distances decide.
func EventsNear(ctx context.Context, s Store, q NearQuery) ([]EventDistance, error) {
	switch {
	case math.IsNaN(q.Lat) || q.Lat < -90 || q.Lat > 90:
		return nil, &FieldError{"lat", "must be between -90 and 90"}
	case math.IsNaN(q.Lon) || q.Lon < -180 || q.Lon > 180:
		return nil, &FieldError{"lon", "must be between -180 and 180"}
	case !(q.RadiusKm > 0) || q.RadiusKm > MaxRadiusKm:
		return nil, &FieldError{"radiusKm", fmt.Sprintf("must be above 0 and at most %d", MaxRadiusKm)}
	case q.Limit < 1 || q.Limit > 1000:
		return nil, &FieldError{"limit", "must be between 1 and 1000"}
	}
	events, err := s.InCells(ctx, CoverCells(q.Lat, q.Lon, q.RadiusKm), q.Range, q.Filter)
	if err != nil {
		return nil, fmt.Errorf("events near: %w", err)
	}
	var out []EventDistance
	for _, e := range events {
		if e.Geo == nil {
			continue
		}
		if d := HaversineKm(q.Lat, q.Lon, e.Geo.Lat, e.Geo.Lon); d <= q.RadiusKm {
			out = append(out, EventDistance{Event: e, DistanceKm: d})
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].DistanceKm != out[j].DistanceKm {
			return out[i].DistanceKm < out[j].DistanceKm
		}
		return out[i].Event.ID < out[j].Event.ID
	})
	if len(out) > q.Limit {
		out = out[:q.Limit]
	}
	return out, nil
}

// HaversineKm is the great-circle distance between two points.
func HaversineKm(lat1, lon1, lat2, lon2 float64) float64 {
	rad := math.Pi / 180
	dLat := (lat2 - lat1) * rad
	dLon := (lon2 - lon1) * rad
	a := math.Sin(dLat/2)*math.Sin(dLat/2) + math.Cos(lat1*rad)*math.Cos(lat2*rad)*math.Sin(dLon/2)*math.Sin(dLon/2)
	return 2 * earthRadiusKm * math.Asin(math.Min(1, math.Sqrt(a)))
}

// maxCoverCells bounds the prefixes of one near search.
const maxCoverCells = 64

// CoverCells lists geohash prefixes that together cover the circle: the
// cells, at the finest precision up to CellPrecision that needs at most
// maxCoverCells of them, whose boxes meet the circle's bounding box. Stored
// cells starting with one of them are the candidates of a near search.
func CoverCells(lat, lon, radiusKm float64) []string {
	for p := uint(CellPrecision); p > 1; p-- {
		if cells, ok := coverAt(lat, lon, radiusKm, p); ok {
			return cells
		}
	}
	cells, _ := coverAt(lat, lon, radiusKm, 1)
	return cells
}

// coverAt returns the cells of precision covering the circle's bounding
// box; ok is false when that takes more than maxCoverCells cells, decided
// from the box's size before walking it (near the poles a fine precision
// would otherwise walk a whole latitude band: seconds of CPU per request).
func coverAt(lat, lon, radiusKm float64, precision uint) (cells []string, ok bool) {
	dLat := radiusKm / earthRadiusKm * 180 / math.Pi
	minLat, maxLat := math.Max(-90, lat-dLat), math.Min(90, lat+dLat)
	// Longitude degrees shrink towards the poles; near them, take all.
	var minLon, maxLon float64
	if c := math.Cos(math.Max(math.Abs(minLat), math.Abs(maxLat)) * math.Pi / 180); c < 1e-6 || dLat/c >= 180 {
		minLon, maxLon = -180, 180
	} else {
		dLon := dLat / c
		minLon, maxLon = lon-dLon, lon+dLon
	}
	box := geohash.BoundingBox(geohash.EncodeWithPrecision(lat, lon, precision))
	stepLat, stepLon := box.MaxLat-box.MinLat, box.MaxLng-box.MinLng
	if precision > 1 && (math.Floor((maxLat-minLat)/stepLat)+1)*(math.Floor((maxLon-minLon)/stepLon)+1) > 4*maxCoverCells {
		return nil, false // far too many: no need to walk them
	}
	seen := map[string]bool{}
	add := func(la, lo float64) {
		la = math.Min(math.Max(la, -90), 90)
		for lo > 180 {
			lo -= 360
		}
		for lo < -180 {
			lo += 360
		}
		if h := geohash.EncodeWithPrecision(la, lo, precision); !seen[h] {
			seen[h] = true
			cells = append(cells, h)
		}
	}
	// Step by cell size, then also take the far edges so that no cell the
	// box touches is skipped.
	for la := minLat; ; la += stepLat {
		la = math.Min(la, maxLat)
		for lo := minLon; ; lo += stepLon {
			lo = math.Min(lo, maxLon)
			add(la, lo)
			if lo >= maxLon {
				break
			}
		}
		if la >= maxLat {
			break
		}
	}
	sort.Strings(cells)
	return cells, len(cells) <= maxCoverCells || precision == 1
}
