package seed

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unicode/utf8"
)

// GeoCountry is one country of a geo table.
type GeoCountry struct {
	Code      string // ISO-3166 alpha-2, upper case
	Name      string // English name
	Continent string // Natural Earth vocabulary, e.g. "Europe", "South America"
}

// GeoCity is one populated place of a geo table.
type GeoCity struct {
	Name        string
	CountryCode string // GeoCountry.Code of its country
	Lat, Lon    float64
	Population  int
}

// Maximum lengths of the ent schema (ent/schema): longer values are cut so
// that a long name in a source file cannot fail the whole seeding run.
const (
	maxCountryName = 120
	maxContinent   = 40
	maxCityName    = 120
)

// LoadGeoDir reads the Natural Earth tables countries.csv
// (iso2,iso3,name,continent,region) and cities.csv
// (name,country_iso2,latitude,longitude,population) from dir. Columns are
// found by header name, so extra or reordered columns are fine.
//
// Rows that the schema could not store, or that would be meaningless, are
// skipped rather than failing the load:
//   - countries whose code is not two upper-case letters (Natural Earth's
//     "-99", empty), whose name or continent is empty, or whose code was
//     already seen (the first row wins);
//   - cities with an empty name, a country that was not kept, a latitude or
//     longitude that is not a finite number within ±90 / ±180, or that repeat
//     an earlier row exactly (same name, country and coordinates). Cities that
//     merely share a name (London GB/CA/US, two Portlands in the US) are
//     distinct places and are kept.
//
// Continents are kept as Natural Earth spells them, including
// "Seven seas (open ocean)" (Mauritius, Maldives, ...) and "Antarctica":
// those are real places with ISO codes. Names are cut to the schema's
// maximum lengths (at a rune boundary) and invalid UTF-8 is dropped; an
// empty or unparsable population counts as 0. Structural CSV errors (a bad
// quote, a missing required column) fail the load.
func LoadGeoDir(dir string) ([]GeoCountry, []GeoCity, error) {
	countries, err := loadCountries(filepath.Join(dir, "countries.csv"))
	if err != nil {
		return nil, nil, err
	}
	if len(countries) == 0 {
		return nil, nil, fmt.Errorf("load geo: %s has no usable country", filepath.Join(dir, "countries.csv"))
	}
	known := make(map[string]bool, len(countries))
	for _, c := range countries {
		known[c.Code] = true
	}
	cities, err := loadCities(filepath.Join(dir, "cities.csv"), known)
	if err != nil {
		return nil, nil, err
	}
	return countries, cities, nil
}

func loadCountries(path string) ([]GeoCountry, error) {
	var out []GeoCountry
	seen := map[string]bool{}
	err := readCSV(path, []string{"iso2", "name", "continent"}, func(col []string) {
		code := strings.TrimSpace(col[0])
		name := clean(col[1], maxCountryName)
		continent := clean(col[2], maxContinent)
		if !isAlpha2(code) || name == "" || continent == "" || seen[code] {
			return
		}
		seen[code] = true
		out = append(out, GeoCountry{Code: code, Name: name, Continent: continent})
	})
	return out, err
}

func loadCities(path string, known map[string]bool) ([]GeoCity, error) {
	type key struct {
		name, code string
		lat, lon   float64
	}
	var out []GeoCity
	seen := map[key]bool{}
	err := readCSV(path, []string{"name", "country_iso2", "latitude", "longitude", "population"}, func(col []string) {
		name := clean(col[0], maxCityName)
		code := strings.TrimSpace(col[1])
		lat, latOK := coordinate(col[2], 90)
		lon, lonOK := coordinate(col[3], 180)
		if name == "" || !known[code] || !latOK || !lonOK {
			return
		}
		k := key{name, code, lat, lon}
		if seen[k] {
			return
		}
		seen[k] = true
		out = append(out, GeoCity{Name: name, CountryCode: code, Lat: lat, Lon: lon, Population: population(col[4])})
	})
	return out, err
}

// readCSV calls row with the values of the wanted columns, in the order
// asked, for every data row of the file. A row too short to hold a wanted
// column gets "" there, so that the row filters decide about it.
func readCSV(path string, want []string, row func(col []string)) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("load geo: %w", err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1 // ragged rows are filtered, not fatal
	header, err := r.Read()
	if err != nil {
		return fmt.Errorf("load geo: read header of %s: %w", path, err)
	}
	index := make(map[string]int, len(header))
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		if _, dup := index[h]; !dup {
			index[h] = i
		}
	}
	pos := make([]int, len(want))
	for i, w := range want {
		p, ok := index[w]
		if !ok {
			return fmt.Errorf("load geo: %s has no %q column (header %q)", path, w, strings.Join(header, ","))
		}
		pos[i] = p
	}
	col := make([]string, len(want))
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("load geo: read %s: %w", path, err)
		}
		for i, p := range pos {
			col[i] = ""
			if p < len(rec) {
				col[i] = rec[p]
			}
		}
		row(col)
	}
}

func isAlpha2(s string) bool {
	return len(s) == 2 && s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' && s[1] <= 'Z'
}

// clean trims s, drops invalid UTF-8 (PostgreSQL rejects it) and cuts it to
// at most max bytes without splitting a rune. ent's MaxLen counts bytes,
// PostgreSQL's varchar counts characters; a byte limit satisfies both.
func clean(s string, max int) string {
	s = strings.TrimSpace(strings.ToValidUTF8(s, ""))
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return strings.TrimSpace(s[:cut])
}

// coordinate parses a latitude or longitude. Out-of-range values are
// rejected rather than clamped: clamping would invent a location.
func coordinate(s string, limit float64) (float64, bool) {
	v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || !inRange(v, limit) {
		return 0, false
	}
	return v, true
}

// inRange reports whether v is a finite number within ±limit.
func inRange(v, limit float64) bool {
	return !math.IsNaN(v) && v >= -limit && v <= limit
}

// population parses a head count; it only weights where users live, so a
// missing or odd value counts as 0 instead of dropping the city.
func population(s string) int {
	s = strings.TrimSpace(s)
	if n, err := strconv.Atoi(s); err == nil {
		return max(n, 0)
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && f > 0 && f < math.MaxInt32 {
		return int(f)
	}
	return 0
}

// checkGeo verifies that a geo table can be inserted as is: codes valid and
// unique, every city in a known country, coordinates in range, names within
// the schema's lengths. It guards Generate against a hand-made table.
func checkGeo(countries []GeoCountry, cities []GeoCity) (map[string]int, error) {
	if len(countries) == 0 {
		return nil, errors.New("geo table has no country")
	}
	index := make(map[string]int, len(countries))
	for i, c := range countries {
		switch {
		case !isAlpha2(c.Code):
			return nil, fmt.Errorf("country %d: invalid code %q", i, c.Code)
		case c.Name == "" || len(c.Name) > maxCountryName:
			return nil, fmt.Errorf("country %s: name must be 1..%d bytes", c.Code, maxCountryName)
		case c.Continent == "" || len(c.Continent) > maxContinent:
			return nil, fmt.Errorf("country %s: continent must be 1..%d bytes", c.Code, maxContinent)
		}
		if _, dup := index[c.Code]; dup {
			return nil, fmt.Errorf("country %s: duplicate code", c.Code)
		}
		index[c.Code] = i
	}
	for i, c := range cities {
		if _, ok := index[c.CountryCode]; !ok {
			return nil, fmt.Errorf("city %d (%s): unknown country %q", i, c.Name, c.CountryCode)
		}
		if c.Name == "" || len(c.Name) > maxCityName {
			return nil, fmt.Errorf("city %d: name must be 1..%d bytes", i, maxCityName)
		}
		if !inRange(c.Lat, 90) || !inRange(c.Lon, 180) {
			return nil, fmt.Errorf("city %s: coordinates (%v, %v) out of range", c.Name, c.Lat, c.Lon)
		}
		if c.Population < 0 {
			return nil, fmt.Errorf("city %s: negative population", c.Name)
		}
	}
	return index, nil
}
