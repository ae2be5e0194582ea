package apperr

import (
	"errors"
	"regexp"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/meridian-graphql/meridian/ent"
	"github.com/meridian-graphql/meridian/platform/outage"
)

// UnavailableMessage is what a client reads when a store is down: the
// cause stays in the logs.
const UnavailableMessage = "a data store is unavailable; retry in a few seconds"

// RetryAfterSeconds is the Retry-After of an answer that failed for an
// outage alone. A PostgreSQL restart or crash recovery takes seconds, and
// the pool dials again on the next request, so a client back in 5 s finds
// the store most likely serving, without a herd of clients retrying at
// once hammering a database that is still starting up.
const RetryAfterSeconds = 5

var (
	sqliteUniqueRE = regexp.MustCompile(`UNIQUE constraint failed: \w+\.(\w+)`)
	pgKeyRE        = regexp.MustCompile(`Key \((\w+)\)`)
)

// Translate maps ent and database errors to *Error: validation failures to
// BAD_USER_INPUT, missing rows to NOT_FOUND, unique and foreign-key
// violations to CONFLICT, a store that cannot serve now (outage.Is: down,
// restarting, unreachable, locked) to SERVICE_UNAVAILABLE. Other errors are
// returned unchanged.
func Translate(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := As(err); ok {
		return err
	}
	if outage.Is(err) {
		return &Error{Code: Unavailable, Message: UnavailableMessage, Err: err}
	}
	var ie interface {
		error
		BadUserInput() (field, msg string)
	}
	if errors.As(err, &ie) {
		f, m := ie.BadUserInput()
		return &Error{Code: BadUserInput, Field: f, Message: m, Err: err}
	}
	var nfe interface {
		error
		NotFound() string
	}
	if errors.As(err, &nfe) {
		return &Error{Code: NotFound, Message: nfe.NotFound(), Err: err}
	}
	var ve *ent.ValidationError
	if errors.As(err, &ve) {
		field := graphQLName(ve.Name)
		msg := ve.Unwrap().Error()
		// ent prefixes its messages with the Go field path; keep the reason.
		if i := strings.LastIndex(msg, ": "); i >= 0 {
			msg = msg[i+2:]
		}
		if msg == "value does not match validation" {
			msg = "has an invalid format"
		}
		return &Error{Code: BadUserInput, Field: field, Message: msg, Err: err}
	}
	var nf *ent.NotFoundError
	if errors.As(err, &nf) {
		return &Error{Code: NotFound, Message: nf.Error(), Err: err}
	}
	var ce *ent.ConstraintError
	if errors.As(err, &ce) {
		return constraint(err)
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) && (pe.Code == "23505" || pe.Code == "23503") {
		return constraint(err)
	}
	if badArgument(err, pe) {
		return &Error{Code: BadUserInput, Message: "an argument does not fit the query: a pagination cursor from another ordering, or a value out of range for its column", Err: err}
	}
	return err
}

// badArgument recognises a value the database (or its driver) refused for
// its type. Every GraphQL argument is typed before it gets here; the one
// opaque value a client controls is a pagination cursor, whose decoded
// value is bound to the ordering column as it is, so a cursor from another
// ordering — or a forged one — ends here rather than in a server error.
func badArgument(err error, pe *pgconn.PgError) bool {
	if pe != nil && strings.HasPrefix(pe.Code, "22") { // data exception class
		return true
	}
	msg := err.Error()
	for _, s := range []string{"sql: converting argument", "unable to encode", "cannot find encode plan"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

func constraint(err error) *Error {
	msg := err.Error()
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		field := ""
		if m := pgKeyRE.FindStringSubmatch(pe.Detail); m != nil {
			field = graphQLName(m[1])
		}
		if pe.Code == "23503" {
			return &Error{Code: Conflict, Field: field, Message: "the record is referenced by, or references, another record", Err: err}
		}
		return &Error{Code: Conflict, Field: field, Message: "already exists", Err: err}
	}
	if m := sqliteUniqueRE.FindStringSubmatch(msg); m != nil {
		return &Error{Code: Conflict, Field: graphQLName(m[1]), Message: "already exists", Err: err}
	}
	if strings.Contains(msg, "FOREIGN KEY") {
		return &Error{Code: Conflict, Message: "the record is referenced by, or references, another record", Err: err}
	}
	return &Error{Code: Conflict, Message: "conflicts with a stored record", Err: err}
}

// graphQLName turns a column name (postal_code, city_id) into the GraphQL
// field name (postalCode, cityID).
func graphQLName(col string) string {
	parts := strings.Split(col, "_")
	for i := 1; i < len(parts); i++ {
		switch parts[i] {
		case "id":
			parts[i] = "ID"
		default:
			if parts[i] != "" {
				parts[i] = strings.ToUpper(parts[i][:1]) + parts[i][1:]
			}
		}
	}
	return strings.Join(parts, "")
}
