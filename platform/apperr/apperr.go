// Package apperr defines Meridian's application errors: a machine-readable
// code (the GraphQL extensions.code), a message safe to show to clients and
// the input field at fault. It also translates ent and driver errors into
// them, so that every layer above storage speaks one error language.
package apperr

import (
	"errors"
	"fmt"
)

// Code is a machine-readable error class, sent as extensions.code.
type Code string

// Error codes.
const (
	BadUserInput Code = "BAD_USER_INPUT"
	NotFound     Code = "NOT_FOUND"
	Conflict     Code = "CONFLICT"
	Internal     Code = "INTERNAL_SERVER_ERROR"
	// Unauthenticated: credentials are missing or do not verify.
	Unauthenticated Code = "UNAUTHENTICATED"
	// Forbidden: the caller is known but their role does not allow it.
	Forbidden Code = "FORBIDDEN"
	// Unavailable: not a fault of the request, and retrying it later can
	// succeed: a store is down or unreachable (see Translate and package
	// outage), or the feature is not running on this instance (a
	// component left out of its wiring).
	Unavailable Code = "SERVICE_UNAVAILABLE"
)

// Unavailablef reports a feature this instance does not run.
func Unavailablef(format string, args ...any) *Error {
	return &Error{Code: Unavailable, Message: fmt.Sprintf(format, args...)}
}

// Error is an error meant for the client.
type Error struct {
	Code    Code
	Message string
	// Field names the input field at fault (GraphQL spelling), when known.
	Field string
	// Err is the underlying cause, kept for logs and errors.Is.
	Err error
}

func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%s: %s", e.Field, e.Message)
	}
	return e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// BadInput reports invalid input in field.
func BadInput(field, format string, args ...any) *Error {
	return &Error{Code: BadUserInput, Field: field, Message: fmt.Sprintf(format, args...)}
}

// NotFoundf reports a missing entity.
func NotFoundf(field, format string, args ...any) *Error {
	return &Error{Code: NotFound, Field: field, Message: fmt.Sprintf(format, args...)}
}

// Conflictf reports a write that conflicts with the stored state.
func Conflictf(field, format string, args ...any) *Error {
	return &Error{Code: Conflict, Field: field, Message: fmt.Sprintf(format, args...)}
}

// As returns err as an *Error when it is one (or wraps one).
func As(err error) (*Error, bool) {
	var e *Error
	if errors.As(err, &e) {
		return e, true
	}
	return nil, false
}

// CodeOf returns the code of err: its own when it is an *Error, else the code
// of the ent or driver error it translates to, else Internal.
func CodeOf(err error) Code {
	if e, ok := As(Translate(err)); ok {
		return e.Code
	}
	return Internal
}
