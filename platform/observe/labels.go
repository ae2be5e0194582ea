package observe

import (
	"sync"
	"sync/atomic"
)

// Label values that stand in for values we refuse to use verbatim.
const (
	labelAnonymous = "anonymous" // an operation without a name
	labelOther     = "other"     // malformed, or past the cardinality cap
	labelNone      = "none"      // no value (an error without a code, say)
)

// validName reports whether s is a GraphQL-style name of at most 64 bytes:
// ^[A-Za-z_][A-Za-z0-9_]{0,63}$. Operation names are chosen by clients, so
// anything else (long, unicode, punctuation) is folded into "other" before
// it can reach a label.
func validName(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '_', 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case '0' <= c && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

// labelSet admits at most max distinct values of one label and maps every
// later newcomer to "other". Even well-formed client-chosen values (operation
// names) are unbounded, and each distinct value is a new time series kept
// for the life of the process; the cap turns a cardinality explosion into
// one "other" series.
type labelSet struct {
	max  int
	full atomic.Bool
	seen sync.Map // string -> struct{}

	mu sync.Mutex // serialises admissions so the count is exact
	n  int
}

func newLabelSet(max int) *labelSet { return &labelSet{max: max} }

// admit returns v if it was seen before or there is still room for it,
// otherwise "other".
func (s *labelSet) admit(v string) string {
	if _, ok := s.seen.Load(v); ok {
		return v
	}
	if s.full.Load() {
		return labelOther
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.seen.Load(v); ok {
		return v
	}
	if s.n >= s.max {
		s.full.Store(true)
		return labelOther
	}
	s.seen.Store(v, struct{}{})
	s.n++
	return v
}
