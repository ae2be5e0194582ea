package resolvers

import (
	"context"

	"github.com/99designs/gqlgen/graphql"

	"meridian/apperr"
	"meridian/ent"
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
