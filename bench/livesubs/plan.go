package main

import "fmt"

// countries are the codes of -filters, in order: -filters N uses the first
// N. The server only checks that a filter's or an event's country is two
// letters (analytics.checkGeo, resolvers.rangeFilter), not that it exists,
// but real ISO 3166 alpha-2 codes keep the stored events plausible.
var countries = []string{
	"AD", "AE", "AF", "AL", "AM", "AO", "AR", "AT", "AU", "AZ",
	"BA", "BD", "BE", "BG", "BO", "BR", "BY", "CA", "CH", "CL",
	"CN", "CO", "CR", "CU", "CY", "CZ", "DE", "DK", "DO", "DZ",
	"EC", "EE", "EG", "ES", "ET", "FI", "FR", "GB", "GE", "GH",
	"GR", "GT", "HN", "HR", "HU", "ID", "IE", "IL", "IN", "IQ",
	"IR", "IS", "IT", "JM", "JO", "JP", "KE", "KR", "KZ", "LB",
	"LT", "LU", "LV", "MA", "MD", "MK", "MN", "MT", "MX", "MY",
	"NG", "NL", "NO", "NP", "NZ", "PA", "PE", "PH", "PK", "PL",
	"PT", "PY", "QA", "RO", "RS", "SA", "SE", "SG", "SI", "SK",
	"TH", "TN", "TR", "TW", "UA", "US", "UY", "UZ", "VN", "ZA",
}

const subscribeQuery = `subscription { eventTracked { id type timestamp metadata } }`

// plan says which document and which server each subscriber gets, and how
// many deliveries it is owed. Subscribers are numbered 0..subs-1 across all
// client processes, so that every process derives the same answer from the
// same four numbers.
type plan struct {
	Subs      int // all subscribers of the run
	Filters   int // 0: everyone shares the unfiltered document
	Instances int // servers
	Events    int // measured events
}

// country is the filter of subscriber i, "" for the unfiltered document.
// Round robin: each of the N documents gets subs/N subscribers.
func (p plan) country(i int) string {
	if p.Filters == 0 {
		return ""
	}
	return countries[i%p.Filters]
}

// document is the subscription subscriber i sends.
func (p plan) document(i int) string {
	c := p.country(i)
	if c == "" {
		return subscribeQuery
	}
	return fmt.Sprintf(`subscription { eventTracked(filter: {country: %q}) { id type timestamp metadata } }`, c)
}

// instance is the server of subscriber i: contiguous halves (not round
// robin), so that each server gets every document in equal shares.
func (p plan) instance(i int) int {
	return i * p.Instances / p.Subs
}

// eventCountry is the geo.country of measured event i: the events cycle
// over the subscribers' codes, so each reaches subs/N of them.
func (p plan) eventCountry(i int) string {
	if p.Filters == 0 {
		return ""
	}
	return countries[i%p.Filters]
}

// expected is the number of measured events subscriber i is owed: all of
// them unfiltered, else those of its country.
func (p plan) expected(i int) int64 {
	if p.Filters == 0 {
		return int64(p.Events)
	}
	n := p.Events / p.Filters
	if i%p.Filters < p.Events%p.Filters {
		n++
	}
	return int64(n)
}

// warmCountries are the countries of the warm-up events: one per
// document, so that every subscriber gets one.
func (p plan) warmCountries() []string {
	if p.Filters == 0 {
		return []string{""}
	}
	return countries[:p.Filters]
}
