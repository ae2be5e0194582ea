// Placeholder rebinding: the one rewrite of ? placeholders to PostgreSQL's
// $n that every hand-written statement of Meridian goes through.

package database

import (
	"strconv"
	"strings"

	"entgo.io/ent/dialect"
)

// Rebind turns the ? placeholders of q into PostgreSQL's $1, $2, … when
// dialectName is dialect.Postgres, so that one hand-written statement
// serves both dialects; any other dialect gets q unchanged. Every ? counts
// as a placeholder: Meridian's statements put no ? inside string literals
// and use none of PostgreSQL's ?-operators (jsonb ?, ?| and ?&), so a plain
// scan suffices. The scan is by byte, so q's other bytes pass through
// untouched whatever their encoding.
func Rebind(dialectName, q string) string {
	if dialectName != dialect.Postgres || !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + len(q)/8)
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] != '?' {
			b.WriteByte(q[i])
			continue
		}
		n++
		b.WriteByte('$')
		b.WriteString(strconv.Itoa(n))
	}
	return b.String()
}

// Rebind is Rebind for d's dialect.
func (d *DB) Rebind(q string) string { return Rebind(d.Dialect, q) }
