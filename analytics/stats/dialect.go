package stats

import (
	"context"
	stdsql "database/sql"
	"fmt"
	"strconv"
	"time"

	entgo "entgo.io/ent"
	"entgo.io/ent/dialect"
)

// This file holds what differs between SQLite and PostgreSQL: placeholders,
// truncating a time to its week or month, adding periods, and the Go types the
// drivers return for computed columns.

func (s *Stats) postgres() bool { return s.db.Dialect == dialect.Postgres }

// query runs one raw statement through the counting driver. The statement is
// written with ? placeholders, rewritten to $n for PostgreSQL by
// database.Rebind.
func (s *Stats) query(ctx context.Context, query string, args ...any) (*stdsql.Rows, error) {
	return s.db.Driver.QueryContext(ctx, s.db.Rebind(query), args...)
}

// idSet is a subquery yielding the ids of a JSON array bound as one argument
// (see jsonIDs). One argument rather than one placeholder per id keeps a
// dataloader batch of any size under the backends' parameter limits (32766 on
// SQLite, 65535 on PostgreSQL) and the statement text the same for every
// batch.
func (s *Stats) idSet() string {
	if s.postgres() {
		return "SELECT CAST(value AS BIGINT) FROM json_array_elements_text(CAST(? AS json))"
	}
	return "SELECT value FROM json_each(?)"
}

// jsonIDs encodes ids as a JSON array for idSet.
func jsonIDs(ids []int) string {
	b := make([]byte, 0, 2+8*len(ids))
	b = append(b, '[')
	for i, id := range ids {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, int64(id), 10)
	}
	return string(append(b, ']'))
}

// utcArg is a time as a query argument. On SQLite times are TEXT compared as
// strings, which only orders correctly when both sides carry the same +00:00
// offset, so every bound time is converted to UTC first.
func utcArg(t time.Time) time.Time { return t.UTC() }

// periodStart is the SQL for the UTC start of the week (Monday) or month that
// contains the time column col. SQLite yields TEXT 'YYYY-MM-DD', PostgreSQL a
// timestamp without time zone; scanPeriodStart reads both.
func (s *Stats) periodStart(p Period, col string) string {
	if s.postgres() {
		// date_trunc('week') starts ISO weeks on Monday. AT TIME ZONE 'UTC'
		// makes the truncation independent of the session's TimeZone.
		return fmt.Sprintf("date_trunc('%s', %s AT TIME ZONE 'UTC')", pgUnit(p), col)
	}
	if p == Week {
		// 'weekday 0' moves forward to the next Sunday (or stays on one);
		// six days back is that week's Monday.
		return fmt.Sprintf("date(%s, 'weekday 0', '-6 days')", col)
	}
	return fmt.Sprintf("date(%s, 'start of month')", col)
}

// atOrAfterPeriod is the SQL condition "time column col is at or after the
// start of the k-th period after start", start being a periodStart value.
// k is a validated small int, formatted into the statement because interval
// arithmetic takes no placeholder on either backend.
func (s *Stats) atOrAfterPeriod(p Period, col, start string, k int) string {
	if s.postgres() {
		unit := "months"
		if p == Week {
			unit = "weeks"
		}
		return fmt.Sprintf("%s AT TIME ZONE 'UTC' >= %s + interval '%d %s'", col, start, k, unit)
	}
	modifier := fmt.Sprintf("+%d months", k)
	if p == Week {
		modifier = fmt.Sprintf("+%d days", 7*k)
	}
	// datetime() normalises the stored text (any offset or fractional
	// seconds) to 'YYYY-MM-DD HH:MM:SS' UTC, so the string comparison is a
	// time comparison; dropping fractions cannot move a time across a
	// boundary that falls on a whole second.
	return fmt.Sprintf("datetime(%s) >= datetime(%s, '%s')", col, start, modifier)
}

func pgUnit(p Period) string {
	if p == Week {
		return "week"
	}
	return "month"
}

// scanPeriodStart converts a periodStart value as the driver returned it.
func scanPeriodStart(v any) (time.Time, error) {
	switch t := v.(type) {
	case time.Time:
		// A PostgreSQL timestamp without time zone holds the UTC wall clock.
		return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC), nil
	case string:
		return parseDay(t)
	case []byte:
		return parseDay(string(t))
	}
	return time.Time{}, fmt.Errorf("unexpected period start %T %v", v, v)
}

func parseDay(s string) (time.Time, error) {
	for _, layout := range []string{time.DateOnly, time.DateTime} {
		if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("unexpected period start %q", s)
}

// valuer is an ent entity that carries extra selected columns.
type valuer interface {
	Value(name string) (entgo.Value, error)
}

// intValue reads an extra integer column (a count or rank) of an entity.
func intValue(e valuer, name string) (int, error) {
	v, err := e.Value(name)
	if err != nil {
		return 0, err
	}
	switch n := v.(type) {
	case int64:
		return int(n), nil
	case int32:
		return int(n), nil
	case int:
		return n, nil
	case float64:
		return int(n), nil
	case string:
		return strconv.Atoi(n)
	case []byte:
		return strconv.Atoi(string(n))
	}
	return 0, fmt.Errorf("column %s: unexpected %T", name, v)
}

// floatValue reads an extra float column (a sum or share) of an entity. SQLite
// returns integer 0 for COALESCE(SUM(...), 0) of no rows, and PostgreSQL's
// driver returns numeric as text, so every numeric form is accepted.
func floatValue(e valuer, name string) (float64, error) {
	v, err := e.Value(name)
	if err != nil {
		return 0, err
	}
	switch n := v.(type) {
	case float64:
		return n, nil
	case float32:
		return float64(n), nil
	case int64:
		return float64(n), nil
	case string:
		return strconv.ParseFloat(n, 64)
	case []byte:
		return strconv.ParseFloat(string(n), 64)
	case nil:
		return 0, nil
	}
	return 0, fmt.Errorf("column %s: unexpected %T", name, v)
}
