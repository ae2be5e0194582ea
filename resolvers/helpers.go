package resolvers

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"

	"github.com/meridian-graphql/meridian/analytics"
	"github.com/meridian-graphql/meridian/ent"
	"github.com/meridian-graphql/meridian/graph/model"
	"github.com/meridian-graphql/meridian/platform/apperr"
)

// maxPage caps first/last on every connection; defaultPage applies when a
// root connection is asked for neither.
const (
	maxPage     = 1000
	defaultPage = 100
)

func checkPage(first, last *int) error {
	if first != nil && (*first < 0 || *first > maxPage) {
		return apperr.BadInput("first", "must be between 0 and %d", maxPage)
	}
	if last != nil && (*last < 0 || *last > maxPage) {
		return apperr.BadInput("last", "must be between 0 and %d", maxPage)
	}
	if first != nil && last != nil {
		return apperr.BadInput("first", "first and last cannot be combined")
	}
	return nil
}

// pageSize is first, or the default page when neither first nor last is set.
func pageSize(first, last *int) *int {
	if first == nil && last == nil {
		n := defaultPage
		return &n
	}
	return first
}

// orNil turns "not found" into a null result, as nullable lookups answer.
func orNil[T any](v T, err error) (T, error) {
	if ent.IsNotFound(err) {
		var zero T
		return zero, nil
	}
	return v, err
}

func intOr(p *int, def int) int {
	if p == nil {
		return def
	}
	return *p
}

// selectsEdges reports whether the field's selection goes below the entity
// (a sub-selection other than __typename's), i.e. needs eager loading.
func selectsEdges(ctx context.Context) bool {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil {
		return true
	}
	for _, f := range graphql.CollectFields(graphql.GetOperationContext(ctx), fc.Field.Selections, nil) {
		if len(f.Selections) > 0 {
			return true
		}
	}
	return false
}

// rangeFilter turns the common event-query arguments into store terms.
func rangeFilter(from, to *time.Time, f *model.EventFilter) (analytics.Range, analytics.Filter, error) {
	var r analytics.Range
	if from != nil {
		r.From = from.UTC()
	}
	if to != nil {
		r.To = to.UTC()
	}
	if from != nil && to != nil && !r.From.Before(r.To) {
		return r, analytics.Filter{}, apperr.BadInput("to", "must be after from")
	}
	var out analytics.Filter
	if f != nil {
		out.Types = f.Types
		if f.UserID != nil {
			out.UserID = *f.UserID
		}
		if f.Country != nil {
			out.Country = strings.ToUpper(strings.TrimSpace(*f.Country))
		}
	}
	return r, out, nil
}

// ptrs adapts a store's value slice to gqlgen's pointer slices.
func ptrs[T any](v []T, err error) ([]*T, error) {
	if err != nil {
		return nil, err
	}
	out := make([]*T, len(v))
	for i := range v {
		out[i] = &v[i]
	}
	return out, nil
}

// matches applies an event filter in Go (live subscriptions).
func matches(f analytics.Filter, e *analytics.Event) bool {
	if len(f.Types) > 0 && !slices.Contains(f.Types, e.Type) {
		return false
	}
	if f.UserID != 0 && e.UserID != f.UserID {
		return false
	}
	if f.Country != "" && (e.Geo == nil || e.Geo.Country != f.Country) {
		return false
	}
	return true
}
