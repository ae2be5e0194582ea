package seed

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// distanceKm is the great-circle distance between two points.
func distanceKm(lat1, lon1, lat2, lon2 float64) float64 {
	const r = 6371.0
	p1, p2 := lat1*math.Pi/180, lat2*math.Pi/180
	dp, dl := p2-p1, (lon2-lon1)*math.Pi/180
	a := math.Sin(dp/2)*math.Sin(dp/2) + math.Cos(p1)*math.Cos(p2)*math.Sin(dl/2)*math.Sin(dl/2)
	return 2 * r * math.Asin(math.Sqrt(a))
}

func findCity(cities []GeoCity, name, code string) (GeoCity, bool) {
	for _, c := range cities {
		if c.Name == name && c.CountryCode == code {
			return c, true
		}
	}
	return GeoCity{}, false
}

func TestEmbeddedGeo(t *testing.T) {
	countries, cities := EmbeddedGeo()
	if n := len(countries); n < 40 || n > 60 {
		t.Errorf("embedded table has %d countries, want about 40-50", n)
	}
	if _, err := checkGeo(countries, cities); err != nil {
		t.Fatalf("embedded table is not insertable: %v", err)
	}

	continents := map[string]int{}
	perCountry := map[string]int{}
	for _, c := range countries {
		continents[c.Continent]++
	}
	for _, want := range []string{"Africa", "Asia", "Europe", "North America", "Oceania", "South America"} {
		if continents[want] == 0 {
			t.Errorf("no country in %s", want)
		}
	}
	if len(continents) != 6 {
		t.Errorf("continents %v: want exactly the six inhabited ones in Natural Earth spelling", continents)
	}
	for _, c := range cities {
		perCountry[c.CountryCode]++
		if c.Lat < -90 || c.Lat > 90 || c.Lon < -180 || c.Lon > 180 {
			t.Errorf("%s: coordinates (%v, %v) out of range", c.Name, c.Lat, c.Lon)
		}
		if c.Population <= 0 {
			t.Errorf("%s: population %d", c.Name, c.Population)
		}
	}
	for _, c := range countries {
		if n := perCountry[c.Code]; n < 3 || n > 8 {
			t.Errorf("%s has %d cities, want 3-8", c.Code, n)
		}
	}
	for _, code := range []string{"US", "CN", "IN", "BR", "DE", "GB", "FR", "JP", "UA", "PL", "IS", "LU", "MT", "EE", "UY", "NZ"} {
		if perCountry[code] == 0 {
			t.Errorf("country %s missing", code)
		}
	}

	// Well-known positions, to within about 10 km.
	for _, w := range []struct {
		name, code string
		lat, lon   float64
	}{
		{"Paris", "FR", 48.8566, 2.3522},
		{"Kyiv", "UA", 50.4501, 30.5234},
		{"Tokyo", "JP", 35.6762, 139.6503},
		{"Sydney", "AU", -33.8688, 151.2093},
		{"New York", "US", 40.7128, -74.0060},
		{"São Paulo", "BR", -23.5505, -46.6333},
		{"Reykjavík", "IS", 64.1466, -21.9426},
		{"Cape Town", "ZA", -33.9249, 18.4241},
		{"Montevideo", "UY", -34.9011, -56.1645},
	} {
		c, ok := findCity(cities, w.name, w.code)
		if !ok {
			t.Errorf("%s (%s) missing", w.name, w.code)
			continue
		}
		if d := distanceKm(c.Lat, c.Lon, w.lat, w.lon); d > 10 {
			t.Errorf("%s at (%v, %v) is %.0f km from (%v, %v)", w.name, c.Lat, c.Lon, d, w.lat, w.lon)
		}
	}

	// Each call returns its own slices.
	countries[0].Name = "changed"
	if again, _ := EmbeddedGeo(); again[0].Name == "changed" {
		t.Error("EmbeddedGeo shares its slices between calls")
	}
}

func writeFile(t *testing.T, dir, name, content string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestLoadGeoDirFilters(t *testing.T) {
	dir := t.TempDir()
	long := strings.Repeat("é", 100) // 200 bytes
	writeFile(t, dir, "countries.csv", "\ufeffiso2,iso3,name,continent,region\n"+
		"FR,FRA,France,Europe,Western Europe\n"+
		"-99,XXX,Somaliland,Africa,Eastern Africa\n"+
		",YYY,Nowhere,Africa,\n"+
		"fr,FRA,lower case,Europe,\n"+
		"MU,MUS,Mauritius,Seven seas (open ocean),Eastern Africa\n"+
		"AQ,ATA,Antarctica,Antarctica,Antarctica\n"+
		"ZZ,ZZZ,No continent,,\n"+
		"FR,FRA,France again,Europe,\n"+
		"LG,LLL,"+long+","+long+",\n"+
		"\"CI\",CIV,\"Côte d'Ivoire, Republic of\",Africa,Western Africa\n")
	writeFile(t, dir, "cities.csv", "name,country_iso2,latitude,longitude,population\n"+
		"Paris,FR,48.8667,2.3333,11000000\n"+
		"Paris,FR,48.8667,2.3333,11000000\n"+ // exact repeat
		"Ghost,XX,10,10,5\n"+ // unknown country
		"Hargeisa,-99,9.56,44.06,477876\n"+ // dropped country
		"North,FR,90.5,0,1\n"+ // latitude out of range
		"East,FR,0,181,1\n"+ // longitude out of range
		"Bad,FR,abc,1,1\n"+
		"NaN,FR,NaN,1,1\n"+
		",FR,1,1,1\n"+ // no name
		"Port Louis,MU,-20.1619,57.4989,595491\n"+
		"McMurdo,AQ,-77.85,166.67,\n"+ // unknown population
		"\"Abidjan, Plateau\",CI,5.32,-4.04,3802000\n"+
		long+",LG,1,2,-5\n"+
		"Short\n") // ragged row
	countries, cities, err := LoadGeoDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var codes []string
	for _, c := range countries {
		codes = append(codes, c.Code)
	}
	if got, want := strings.Join(codes, ","), "FR,MU,AQ,LG,CI"; got != want {
		t.Errorf("countries %s, want %s", got, want)
	}
	if countries[0].Name != "France" {
		t.Errorf("first FR row should win, got %q", countries[0].Name)
	}
	if n := len(countries[3].Name); n > maxCountryName || n < maxCountryName-1 {
		t.Errorf("long country name cut to %d bytes, want %d", n, maxCountryName)
	}
	if n := len(countries[3].Continent); n > maxContinent || n < maxContinent-1 {
		t.Errorf("long continent cut to %d bytes, want %d", n, maxContinent)
	}
	if countries[4].Name != "Côte d'Ivoire, Republic of" {
		t.Errorf("quoted name read as %q", countries[4].Name)
	}
	var names []string
	for _, c := range cities {
		names = append(names, c.Name)
	}
	if got, want := strings.Join(names, "|"), "Paris|Port Louis|McMurdo|Abidjan, Plateau|"+long[:maxCityName]; got != want {
		t.Errorf("cities %q, want %q", got, want)
	}
	if cities[2].Population != 0 || cities[4].Population != 0 {
		t.Errorf("unknown or negative populations should be 0: %+v %+v", cities[2], cities[4])
	}
	if _, err := checkGeo(countries, cities); err != nil {
		t.Errorf("loaded table is not insertable: %v", err)
	}

	if _, _, err := LoadGeoDir(t.TempDir()); err == nil {
		t.Error("an empty directory should fail")
	}
	bad := t.TempDir()
	writeFile(t, bad, "countries.csv", "code,name\nFR,France\n")
	if _, _, err := LoadGeoDir(bad); err == nil || !strings.Contains(err.Error(), `"iso2"`) {
		t.Errorf("missing column: err = %v", err)
	}
}

// sharedGeoDir is the Natural Earth data beside the repository
// (../shared/data/geo from the repository root), or "" when absent.
func sharedGeoDir(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
	geo := filepath.Join(dir, "..", "shared", "data", "geo")
	if _, err := os.Stat(filepath.Join(geo, "cities.csv")); err != nil {
		return ""
	}
	return geo
}

func TestLoadGeoDirNaturalEarth(t *testing.T) {
	dir := sharedGeoDir(t)
	if dir == "" {
		t.Skip("Natural Earth tables (../shared/data/geo from the repository root): ../shared not present")
	}
	countries, cities, err := LoadGeoDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	// The 2022 extract is clean: every row passes the filters (250 countries
	// incl. AQ/BV "Antarctica" and 9 "Seven seas (open ocean)"; all 7342
	// places, whose same-name pairs are distinct places).
	if len(countries) != 250 || len(cities) != 7342 {
		t.Errorf("loaded %d countries and %d cities, want 250 and 7342", len(countries), len(cities))
	}
	if _, err := checkGeo(countries, cities); err != nil {
		t.Fatalf("Natural Earth table is not insertable: %v", err)
	}
	kyiv, ok := findCity(cities, "Kyiv", "UA")
	if !ok || math.Abs(kyiv.Lat-50.4353) > 1e-9 || math.Abs(kyiv.Lon-30.5147) > 1e-9 || kyiv.Population != 2709000 {
		t.Errorf("Kyiv = %+v, %v", kyiv, ok)
	}
	if sp, ok := findCity(cities, "São Paulo", "BR"); !ok || sp.Population != 18845000 {
		t.Errorf("São Paulo = %+v, %v", sp, ok)
	}

	// The embedded table agrees with Natural Earth: same country names and
	// continents, and every embedded city that Natural Earth lists under
	// the same name lies within 15 km of it.
	byCode := map[string]GeoCountry{}
	for _, c := range countries {
		byCode[c.Code] = c
	}
	embC, embCities := EmbeddedGeo()
	for _, c := range embC {
		if ne := byCode[c.Code]; ne != c {
			t.Errorf("embedded %+v, Natural Earth %+v", c, ne)
		}
	}
	matched := 0
	for _, e := range embCities {
		ne, ok := findCity(cities, e.Name, e.CountryCode)
		if !ok {
			continue
		}
		matched++
		if d := distanceKm(e.Lat, e.Lon, ne.Lat, ne.Lon); d > 15 {
			t.Errorf("embedded %s (%s) is %.0f km from Natural Earth's", e.Name, e.CountryCode, d)
		}
	}
	if matched < len(embCities)*3/4 {
		t.Errorf("only %d of %d embedded cities found in Natural Earth by name", matched, len(embCities))
	}
}
