package models

import "errors"

// Sentinel errors, so callers (the API) can tell "not enough data yet" from
// "bad data" from "fitted, but treat with care" with errors.Is.
var (
	// ErrNoCustomers: the input held no usable customer.
	ErrNoCustomers = errors.New("models: no customers")
	// ErrInsufficientData: the customers cannot identify the model, e.g.
	// nobody has made a repeat purchase yet, so BG/NBD's dropout process
	// and Gamma-Gamma's spend distribution are unobserved.
	ErrInsufficientData = errors.New("models: not enough data to fit")
	// ErrInvalidInput: a record is malformed (negative or non-finite ages,
	// recency after the customer's age, a fractional purchase count).
	ErrInvalidInput = errors.New("models: invalid input")
	// ErrNotConverged is returned together with a usable model: the
	// optimizer stopped without reaching a stationary point inside the
	// parameter box. The model carries Converged=false and the best
	// parameters found; every prediction from it is still finite.
	ErrNotConverged = errors.New("models: fit did not converge")
)
