package apperr

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

func TestGraphQLName(t *testing.T) {
	for col, want := range map[string]string{"email": "email", "postal_code": "postalCode", "city_id": "cityID", "last_active_at": "lastActiveAt"} {
		if got := graphQLName(col); got != want {
			t.Errorf("graphQLName(%q) = %q, want %q", col, got, want)
		}
	}
}

func TestTranslateDriverErrors(t *testing.T) {
	for _, tc := range []struct {
		name  string
		err   error
		code  Code
		field string
	}{
		{"sqlite unique", errors.New("UNIQUE constraint failed: users.email (2067)"), "", ""},
		{"pg unique", fmt.Errorf("insert: %w", &pgconn.PgError{Code: "23505", Detail: "Key (username)=(x) already exists."}), Conflict, "username"},
		{"pg foreign key", &pgconn.PgError{Code: "23503", Detail: "Key (city_id)=(7) is not present in table \"cities\"."}, Conflict, "cityID"},
		{"own error passes through", BadInput("first", "too big"), BadUserInput, "first"},
		{"unknown stays unknown", errors.New("connection reset"), "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, ok := As(Translate(tc.err))
			if tc.code == "" {
				// Plain driver strings are only recognised inside ent's
				// ConstraintError; a bare error is not ours to classify.
				if ok {
					t.Fatalf("Translate(%v) = %v, want it unchanged", tc.err, e)
				}
				return
			}
			if !ok || e.Code != tc.code || e.Field != tc.field {
				t.Fatalf("Translate(%v) = %+v, want %s on %q", tc.err, e, tc.code, tc.field)
			}
		})
	}
	if c := CodeOf(errors.New("boom")); c != Internal {
		t.Errorf("CodeOf(unknown) = %s, want %s", c, Internal)
	}
	if c := CodeOf(fmt.Errorf("wrapped: %w", NotFoundf("id", "gone"))); c != NotFound {
		t.Errorf("CodeOf(wrapped NOT_FOUND) = %s", c)
	}
}

func TestConstraintFromSQLiteMessage(t *testing.T) {
	e := constraint(errors.New("constraint failed: UNIQUE constraint failed: countries.code (2067)"))
	if e.Code != Conflict || e.Field != "code" {
		t.Errorf("constraint = %+v, want CONFLICT on code", e)
	}
	e = constraint(errors.New("constraint failed: FOREIGN KEY constraint failed (787)"))
	if e.Code != Conflict || e.Field != "" {
		t.Errorf("constraint = %+v, want CONFLICT without field", e)
	}
}

// An outage the drivers report is SERVICE_UNAVAILABLE, with the cause kept
// for the logs and a message that names no internals; a refusal of the
// data is not.
func TestTranslateOutage(t *testing.T) {
	_, dialErr := net.Dial("tcp", "127.0.0.1:1")
	for _, tc := range []struct {
		name string
		err  error
		code Code
	}{
		{"starting up", fmt.Errorf("query users: %w", &pgconn.PgError{Code: "57P03", Message: "the database system is starting up"}), Unavailable},
		{"crash of another server process", &pgconn.PgError{Code: "57P02"}, Unavailable},
		{"connection refused", fmt.Errorf("query users: %w", dialErr), Unavailable},
		{"unique violation stays a conflict", &pgconn.PgError{Code: "23505"}, Conflict},
		{"caller cancelled is not an outage", context.Canceled, Internal},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := CodeOf(tc.err); got != tc.code {
				t.Errorf("CodeOf = %s, want %s", got, tc.code)
			}
			if e, ok := As(Translate(tc.err)); ok && e.Code == Unavailable {
				if e.Message != UnavailableMessage || !errors.Is(e, tc.err) {
					t.Errorf("Translate = %q (wraps the cause: %v)", e.Message, errors.Is(e, tc.err))
				}
			}
		})
	}
}
