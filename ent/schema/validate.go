// Package schema holds the ent schema of Meridian's relational core:
// Country → City → Address → User, Products and Orders. Its annotations drive
// the generated GraphQL schema (graph/ent.graphql).
package schema

import (
	"errors"
	"math"
	"net/mail"
	"regexp"
	"time"
)

var (
	isoAlpha2  = regexp.MustCompile(`^[A-Z]{2}$`)
	usernameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{2,31}$`)
	skuRE      = regexp.MustCompile(`^[A-Z0-9][A-Z0-9-]{1,31}$`)
)

// finite rejects NaN and ±Inf, which Range and Min let through.
func finite(f float64) error {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return errors.New("must be a finite number")
	}
	return nil
}

// validEmail accepts a bare address (no display name) as RFC 5322 parses it,
// with a dot in the domain.
func validEmail(s string) error {
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" {
		return errors.New("is not a valid email address")
	}
	at := len(s) - 1
	for at >= 0 && s[at] != '@' {
		at--
	}
	domain := s[at+1:]
	dot := false
	for i := 1; i < len(domain)-1; i++ {
		if domain[i] == '.' {
			dot = true
		}
	}
	if !dot {
		return errors.New("is not a valid email address")
	}
	return nil
}

// nowUTC is the default of time fields: times are stored in UTC so that they
// compare and bucket the same way on SQLite and PostgreSQL.
func nowUTC() time.Time { return time.Now().UTC() }
