package stats

import (
	"fmt"
	"math"
)

// InputError reports an argument outside its allowed range. The resolvers map
// it to a BAD_USER_INPUT GraphQL error naming Field, so Field is the GraphQL
// argument's name.
type InputError struct {
	Field string
	Msg   string
}

func (e *InputError) Error() string {
	return fmt.Sprintf("invalid %s: %s", e.Field, e.Msg)
}

// Limits of the arguments. maxLimit bounds every result list so that one
// request cannot ask the database for an unbounded ranking.
const (
	maxLimit   = 1000
	maxPeriods = 52

	// defaultLimit and defaultRankingLimit are the GraphQL defaults of the
	// limit arguments (usersByCountry/usersByCity and usersRankedByActivity).
	defaultLimit        = 50
	defaultRankingLimit = 20
)

// checkLimit validates a limit argument; 0 stands for the default because
// that is what a resolver passes when the client omitted the argument.
func checkLimit(limit, def int) (int, error) {
	switch {
	case limit == 0:
		return def, nil
	case limit < 1 || limit > maxLimit:
		return 0, &InputError{Field: "limit", Msg: fmt.Sprintf("must be between 1 and %d, got %d", maxLimit, limit)}
	}
	return limit, nil
}

// finite reports whether f is a real number (neither NaN nor ±Inf).
func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

// BadUserInput lets package apperr map the error to BAD_USER_INPUT.
func (e *InputError) BadUserInput() (field, msg string) { return e.Field, e.Msg }
