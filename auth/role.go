package auth

import (
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Role is what a viewer may do.
type Role string

// The roles, weakest first.
const (
	Viewer  Role = "VIEWER"
	Analyst Role = "ANALYST"
	Admin   Role = "ADMIN"
)

// rank orders the roles; 0 is no role at all.
func (r Role) rank() int {
	switch r {
	case Viewer:
		return 1
	case Analyst:
		return 2
	case Admin:
		return 3
	}
	return 0
}

// Allows reports whether r includes need.
func (r Role) Allows(need Role) bool { return r.rank() >= need.rank() && need.rank() > 0 }

// ParseRole reads a role case-insensitively.
func ParseRole(s string) (Role, error) {
	r := Role(strings.ToUpper(strings.TrimSpace(s)))
	if r.rank() == 0 {
		return "", fmt.Errorf("unknown role %q (viewer, analyst or admin)", s)
	}
	return r, nil
}

// MarshalGQL writes the role as a GraphQL enum value.
func (r Role) MarshalGQL(w io.Writer) { _, _ = io.WriteString(w, strconv.Quote(string(r))) }

// UnmarshalGQL reads a GraphQL enum value.
func (r *Role) UnmarshalGQL(v any) error {
	s, ok := v.(string)
	if !ok {
		return fmt.Errorf("role must be a string, got %T", v)
	}
	p, err := ParseRole(s)
	if err != nil {
		return err
	}
	*r = p
	return nil
}
