// Reading events back whole: InCells, UserEvents, Export's keyset pages,
// and the scan of an events row.

package sqlstore

import (
	"context"
	stdsql "database/sql"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/meridian-graphql/meridian/analytics"
)

// exportPage is the number of events Export reads per statement.
const exportPage = 5000

// InCells returns the matching events in the geohash prefixes, each prefix
// p an index range [p, p+"~") ('~' sorts after every geohash character).
func (s *Store) InCells(ctx context.Context, cells []string, r analytics.Range, f analytics.Filter) ([]analytics.Event, error) {
	cells = uniqueStrings(cells)
	if len(cells) == 0 {
		return []analytics.Event{}, nil
	}
	c := s.eventConds(r, f)
	// "cell IS NOT NULL" is implied by the ranges; spelled out, it lets
	// SQLite match the partial index for every branch of the OR.
	ors := make([]string, len(cells))
	args := make([]any, 0, 2*len(cells))
	for i, p := range cells {
		ors[i] = "(cell >= ? AND cell < ?)"
		args = append(args, p, p+"~")
	}
	c.add("cell IS NOT NULL AND ("+strings.Join(ors, " OR ")+")", args...)
	out, err := s.queryEvents(ctx, `SELECT `+eventCols+` FROM events`+c.sql()+` ORDER BY ts, id`, c.args...)
	if err != nil {
		return nil, fmt.Errorf("events in cells: %w", err)
	}
	return out, nil
}

// UserEvents pages through many users' events in one statement: a window
// numbers each user's matching events newest first and keeps the first
// q.Limit. The cursor condition is the row comparison (ts, id) < (…)
// spelled out, which both planners turn into a range on the user's
// (user_id, ts DESC, id DESC) index.
func (s *Store) UserEvents(ctx context.Context, q analytics.UserEventsQuery) (map[int][]analytics.Event, error) {
	out := map[int][]analytics.Event{}
	users := uniqueIDs(q.UserIDs)
	if len(users) == 0 || q.Limit <= 0 {
		return out, nil
	}
	c := &conds{}
	set, arg := s.userSet("user_id", users)
	c.add(set, arg)
	typeConds(c, analytics.Filter{Types: q.Types})
	if b := q.Before; b != nil {
		if ceilMilli(b.Timestamp).Equal(b.Timestamp) {
			ts := s.tsArg(b.Timestamp)
			c.add("ts <= ? AND (ts < ? OR id < ?)", ts, ts, b.ID)
		} else {
			// Not a stored event's time: no event ties with it.
			c.add("ts < ?", s.boundArg(b.Timestamp))
		}
	}
	events, err := s.queryEvents(ctx, `SELECT `+eventCols+` FROM (
	SELECT `+eventCols+`, ROW_NUMBER() OVER (PARTITION BY user_id ORDER BY ts DESC, id DESC) AS rn
	FROM events`+c.sql()+`
) x WHERE rn <= ? ORDER BY user_id, ts DESC, id DESC`, append(c.args, q.Limit)...)
	if err != nil {
		return nil, fmt.Errorf("user events: %w", err)
	}
	for _, e := range events {
		out[e.UserID] = append(out[e.UserID], e)
	}
	return out, nil
}

// Export streams the matching events in (timestamp, id) order by keyset
// pages: each page is one short statement starting after the last event of
// the previous one, read completely before fn sees it. So memory holds one
// page, no statement or transaction stays open while fn runs (fn may be
// slow, or use the database itself), and no page is skipped or repeated.
// Events inserted meanwhile appear when they sort after the current
// position.
func (s *Store) Export(ctx context.Context, r analytics.Range, f analytics.Filter, fn func(*analytics.Event) error) error {
	var last *analytics.Event
	for {
		c := s.eventConds(r, f)
		if last != nil {
			ts := s.tsArg(last.Timestamp)
			c.add("ts >= ? AND (ts > ? OR id > ?)", ts, ts, last.ID)
		}
		page, err := s.queryEvents(ctx, `SELECT `+eventCols+` FROM events`+c.sql()+` ORDER BY ts, id LIMIT ?`, append(c.args, exportPage)...)
		if err != nil {
			return fmt.Errorf("export events: %w", err)
		}
		for i := range page {
			if err := fn(&page[i]); err != nil {
				return err
			}
		}
		if len(page) < exportPage {
			return nil
		}
		last = &page[len(page)-1]
	}
}

// queryEvents runs a statement selecting eventCols and scans the events.
func (s *Store) queryEvents(ctx context.Context, q string, args ...any) ([]analytics.Event, error) {
	rows, err := s.query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []analytics.Event{}
	for rows.Next() {
		e, err := scanEvent(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// scanEvent reads one row of eventCols.
func scanEvent(rows *stdsql.Rows) (analytics.Event, error) {
	var (
		e             analytics.Event
		cell          stdsql.NullString
		cents         int64
		country, city string
		lon, lat      stdsql.NullFloat64
		meta          []byte
	)
	if err := rows.Scan(&e.ID, &e.UserID, &e.Type, timeValue{&e.Timestamp}, timeValue{&e.Day}, timeValue{&e.Week}, timeValue{&e.Month},
		&cell, &cents, &e.Category, &country, &city, &lon, &lat, &meta); err != nil {
		return e, err
	}
	e.Cell = cell.String
	e.Revenue = float64(cents) / 100
	if lon.Valid {
		e.Geo = &analytics.Geo{Country: country, City: city, Lon: lon.Float64, Lat: lat.Float64}
	}
	if meta != nil {
		if err := json.Unmarshal(meta, &e.Metadata); err != nil {
			return e, fmt.Errorf("event %s: metadata: %w", e.ID, err)
		}
	}
	return e, nil
}
