package analytics

import (
	"errors"
	"strings"
)

// The two kinds of store failure a caller must tell apart, matched with
// errors.Is on what a Store returns. Each store classifies its driver's
// errors in one function (sqlstore.classify, mongostore.classify); an error
// that is neither is returned as it is, and callers treat it as they
// always did (the consumers wait it out like an outage).
var (
	// ErrRefused: the database refused the data itself — a value too long
	// for an index row, a constraint, a type or encoding it cannot hold.
	// Retrying the same rows can never succeed: a refused message is
	// dead-lettered, a refused item of trackEvents is BAD_USER_INPUT.
	ErrRefused = errors.New("the event store refused the data")
	// ErrUnavailable: the store could not be reached or is not serving
	// (connection refused or lost, a timeout, a restart or shutdown in
	// progress, too many connections). The same call succeeds later.
	ErrUnavailable = errors.New("the event store is unavailable")
)

// StoreError is a driver error with the kind its store classified it as
// (ErrRefused or ErrUnavailable); errors.Is matches both the kind and
// whatever the driver error wraps.
type StoreError struct {
	Kind error
	Err  error
}

func (e *StoreError) Error() string   { return e.Err.Error() }
func (e *StoreError) Unwrap() []error { return []error{e.Kind, e.Err} }

// Refused marks err as a refusal of the data (see ErrRefused); nil stays nil.
func Refused(err error) error { return Mark(ErrRefused, err) }

// Unavailable marks err as an outage of the store (see ErrUnavailable); nil
// stays nil.
func Unavailable(err error) error { return Mark(ErrUnavailable, err) }

// Mark marks err with kind, ErrRefused or ErrUnavailable, as a store's
// classification found it; a nil kind (neither) leaves err as it is, and
// so does nil err.
func Mark(kind, err error) error {
	if err == nil || kind == nil {
		return err
	}
	if errors.Is(err, ErrRefused) || errors.Is(err, ErrUnavailable) {
		return err // classified already (by a store under this one)
	}
	return &StoreError{Kind: kind, Err: err}
}

// RefusedSQLState reports a PostgreSQL SQLSTATE that means the data
// itself is at fault (ErrRefused). Its other half — a server that cannot
// serve now (ErrUnavailable) — is outage.TransientSQLState, the one
// classification the API's SERVICE_UNAVAILABLE uses too; a code that is
// neither (a bug of the statement, a missing table, a permission) is left
// unclassified. Shared by sqlstore (pgconn.PgError codes) and mongostore
// (FerretDB passes PostgreSQL's SQLSTATE through in its messages).
func RefusedSQLState(code string) bool {
	return strings.HasPrefix(code, "22") || // data exception: bad encoding, out of range, NUL in text
		strings.HasPrefix(code, "23") || // integrity constraint violation: check, not null, unique, FK
		strings.HasPrefix(code, "54") // program limit exceeded: index row too big (54000), too many arguments
}
