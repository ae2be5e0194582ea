package sqlstore

import (
	"context"
	stdsql "database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/meridian-graphql/meridian/analytics"
)

// Profiles are one user_profiles row each, the lists and metrics as JSON
// (they are read and written whole), plus one profile_interests row per
// interest, kept in step in the same transaction, so that UsersByInterest
// is an index range rather than a scan of JSON arrays.

const profileCols = "username, email, interests, expertise_level, metrics, subscriptions, updated_at"

// UpsertProfile creates the profile, or updates the fields the input sets,
// in one upsert statement (atomic against a concurrent creation of the same
// username); the interest index is rewritten when interests are set. The
// input is validated and normalised first (analytics.CheckProfile), so the
// stored lists are sorted and deduplicated whoever the caller is.
func (s *Store) UpsertProfile(ctx context.Context, in analytics.ProfileInput) (*analytics.Profile, error) {
	if err := analytics.CheckProfile(&in); err != nil {
		return nil, err
	}
	var (
		email, level = "", ""
		set          = []string{"updated_at = excluded.updated_at"}
	)
	if in.Email != nil {
		email = *in.Email
		set = append(set, "email = excluded.email")
	}
	if in.ExpertiseLevel != nil {
		level = *in.ExpertiseLevel
		set = append(set, "expertise_level = excluded.expertise_level")
	}
	if in.Interests != nil {
		set = append(set, "interests = excluded.interests")
	}
	if in.Metrics != nil {
		set = append(set, "metrics = excluded.metrics")
	}
	if in.Subscriptions != nil {
		set = append(set, "subscriptions = excluded.subscriptions")
	}
	interests, err := jsonArg(nonNil(in.Interests))
	if err != nil {
		return nil, fmt.Errorf("upsert profile %s: %w", in.Username, err)
	}
	subs, err := jsonArg(nonNil(in.Subscriptions))
	if err != nil {
		return nil, fmt.Errorf("upsert profile %s: %w", in.Username, err)
	}
	metrics := "{}"
	if in.Metrics != nil {
		if metrics, err = jsonArg(in.Metrics); err != nil {
			return nil, fmt.Errorf("upsert profile %s: %w", in.Username, err)
		}
	}
	j := s.jsonParam()
	var p *analytics.Profile
	err = s.inTx(ctx, func(tx txn) error {
		rows, err := tx.QueryContext(ctx, s.db.Rebind(`INSERT INTO user_profiles (`+profileCols+`)
VALUES (?, ?, `+j+`, ?, `+j+`, `+j+`, ?)
ON CONFLICT (username) DO UPDATE SET `+strings.Join(set, ", ")+`
RETURNING `+profileCols), in.Username, email, interests, level, metrics, subs, s.tsArg(s.now()))
		if err != nil {
			return err
		}
		if p, err = scanProfileRows(rows); err != nil {
			return err
		}
		if in.Interests != nil {
			return s.setInterests(ctx, tx, in.Username, in.Interests)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("upsert profile %s: %w", in.Username, err)
	}
	return p, nil
}

// setInterests replaces the interest index rows of a profile.
func (s *Store) setInterests(ctx context.Context, tx txn, username string, interests []string) error {
	if _, err := tx.ExecContext(ctx, s.db.Rebind(`DELETE FROM profile_interests WHERE username = ?`), username); err != nil {
		return fmt.Errorf("clear interests: %w", err)
	}
	if len(interests) == 0 {
		return nil
	}
	args := make([]any, 0, 2*len(interests))
	for _, i := range interests {
		args = append(args, i, username)
	}
	if _, err := tx.ExecContext(ctx, s.db.Rebind(`INSERT INTO profile_interests (interest, username) VALUES `+valuesList(len(interests), 2)), args...); err != nil {
		return fmt.Errorf("index interests: %w", err)
	}
	return nil
}

// AddInterest adds one (normalised) interest to an existing profile. The
// profile row is read and locked, the list merged in Go (kept sorted) and
// written back with its index row, in one transaction.
func (s *Store) AddInterest(ctx context.Context, username, interest string) (*analytics.Profile, error) {
	tags, err := analytics.NormaliseTags("interest", []string{interest})
	if err != nil {
		return nil, err
	}
	interest = tags[0]
	lock := ""
	if s.pg {
		lock = " FOR UPDATE"
	}
	var p *analytics.Profile
	err = s.inTx(ctx, func(tx txn) error {
		rows, err := tx.QueryContext(ctx, s.db.Rebind(`SELECT `+profileCols+` FROM user_profiles WHERE username = ?`+lock), username)
		if err != nil {
			return err
		}
		if p, err = scanProfileRows(rows); err != nil {
			return err
		}
		if p == nil {
			return notFound(username)
		}
		i, found := slices.BinarySearch(p.Interests, interest)
		if found {
			return nil
		}
		if len(p.Interests) >= 100 {
			return &analytics.FieldError{Field: "interests", Msg: "at most 100 entries"}
		}
		p.Interests = slices.Insert(p.Interests, i, interest)
		list, err := jsonArg(p.Interests)
		if err != nil {
			return err
		}
		rows, err = tx.QueryContext(ctx, s.db.Rebind(`UPDATE user_profiles SET interests = `+s.jsonParam()+`, updated_at = ? WHERE username = ? RETURNING `+profileCols),
			list, s.tsArg(s.now()), username)
		if err != nil {
			return err
		}
		if p, err = scanProfileRows(rows); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.db.Rebind(`INSERT INTO profile_interests (interest, username) VALUES (?, ?) ON CONFLICT DO NOTHING`), interest, username); err != nil {
			return fmt.Errorf("index interest: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, wrapProfileErr("add interest to profile "+username, err)
	}
	return p, nil
}

// UpdateMetrics merges the metrics into the stored ones in one statement:
// jsonb || on PostgreSQL, json_patch on SQLite (values are finite numbers,
// never the null that would delete a key).
func (s *Store) UpdateMetrics(ctx context.Context, username string, metrics map[string]float64) (*analytics.Profile, error) {
	if err := analytics.CheckMetrics(metrics); err != nil {
		return nil, err
	}
	patch, err := jsonArg(nonNilMap(metrics))
	if err != nil {
		return nil, fmt.Errorf("update metrics of profile %s: %w", username, err)
	}
	merge := "json_patch(metrics, ?)"
	if s.pg {
		merge = "metrics || CAST(? AS jsonb)"
	}
	rows, err := s.db.Driver.QueryContext(ctx, s.db.Rebind(`UPDATE user_profiles SET metrics = `+merge+`, updated_at = ? WHERE username = ? RETURNING `+profileCols),
		patch, s.tsArg(s.now()), username)
	if err != nil {
		return nil, fmt.Errorf("update metrics of profile %s: %w", username, err)
	}
	p, err := scanProfileRows(rows)
	if err != nil {
		return nil, fmt.Errorf("update metrics of profile %s: %w", username, err)
	}
	if p == nil {
		return nil, notFound(username)
	}
	return p, nil
}

// Profile returns the profile, or nil when there is none.
func (s *Store) Profile(ctx context.Context, username string) (*analytics.Profile, error) {
	rows, err := s.query(ctx, `SELECT `+profileCols+` FROM user_profiles WHERE username = ?`, username)
	if err != nil {
		return nil, fmt.Errorf("profile %s: %w", username, err)
	}
	p, err := scanProfileRows(rows)
	if err != nil {
		return nil, fmt.Errorf("profile %s: %w", username, err)
	}
	return p, nil
}

// UsersByInterest reads the (interest, username) primary key from the
// interest on: the rows come in username order and LIMIT stops the scan.
func (s *Store) UsersByInterest(ctx context.Context, interest string, limit int) ([]*analytics.Profile, error) {
	out := []*analytics.Profile{}
	interest = strings.ToLower(strings.TrimSpace(interest))
	if limit <= 0 || interest == "" {
		return out, nil
	}
	rows, err := s.query(ctx, `SELECT p.username, p.email, p.interests, p.expertise_level, p.metrics, p.subscriptions, p.updated_at
FROM profile_interests i JOIN user_profiles p ON p.username = i.username
WHERE i.interest = ? ORDER BY i.username LIMIT ?`, interest, limit)
	if err != nil {
		return nil, fmt.Errorf("users by interest %q: %w", interest, err)
	}
	defer rows.Close()
	for rows.Next() {
		p, err := scanProfile(rows)
		if err != nil {
			return nil, fmt.Errorf("users by interest %q: %w", interest, err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("users by interest %q: %w", interest, err)
	}
	return out, nil
}

func notFound(username string) error {
	return &analytics.NotFoundError{What: fmt.Sprintf("profile %q", username)}
}

// wrapProfileErr adds context to storage errors and leaves the errors meant
// for the client (not found, bad input) as they are.
func wrapProfileErr(what string, err error) error {
	var nf *analytics.NotFoundError
	var fe *analytics.FieldError
	if errors.As(err, &nf) || errors.As(err, &fe) {
		return err
	}
	return fmt.Errorf("%s: %w", what, err)
}

// scanProfileRows reads the first row of rows, or nil without one, and
// closes rows.
func scanProfileRows(rows *stdsql.Rows) (*analytics.Profile, error) {
	defer rows.Close()
	if !rows.Next() {
		return nil, rows.Err()
	}
	p, err := scanProfile(rows)
	if err != nil {
		return nil, err
	}
	return p, rows.Close()
}

func scanProfile(rows *stdsql.Rows) (*analytics.Profile, error) {
	var (
		p                        analytics.Profile
		interests, metrics, subs []byte
	)
	if err := rows.Scan(&p.Username, &p.Email, &interests, &p.ExpertiseLevel, &metrics, &subs, timeValue{&p.UpdatedAt}); err != nil {
		return nil, err
	}
	for _, f := range []struct {
		raw []byte
		dst any
	}{{interests, &p.Interests}, {metrics, &p.Metrics}, {subs, &p.Subscriptions}} {
		if err := json.Unmarshal(f.raw, f.dst); err != nil {
			return nil, fmt.Errorf("profile %s: %w", p.Username, err)
		}
	}
	p.Interests, p.Subscriptions, p.Metrics = nonNil(p.Interests), nonNil(p.Subscriptions), nonNilMap(p.Metrics)
	return &p, nil
}

// nonNil and nonNilMap make absent lists and metrics empty rather than nil:
// they are stored as [] and {} and are never null in the API.
func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func nonNilMap(m map[string]float64) map[string]float64 {
	if m == nil {
		return map[string]float64{}
	}
	return m
}
