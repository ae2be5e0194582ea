package httpapi

import (
	"context"

	"github.com/99designs/gqlgen/graphql"

	"github.com/meridian-graphql/meridian/platform/observe"
	"github.com/meridian-graphql/meridian/platform/outage"
)

// outageReport counts the responses a store outage failed into the
// server's outage Flood, one per request whatever the number of its
// failed fields, and tells the Flood of a response that reached the
// database without one: that is how the log learns the outage is over.
// The errors themselves are answered SERVICE_UNAVAILABLE by the presenter
// (apperr.Translate) and not logged one by one.
type outageReport struct{ flood *observe.Flood }

var _ interface {
	graphql.HandlerExtension
	graphql.ResponseInterceptor
} = outageReport{}

func (outageReport) ExtensionName() string                   { return "OutageReport" }
func (outageReport) Validate(graphql.ExecutableSchema) error { return nil }
func (o outageReport) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	resp := next(ctx)
	if resp == nil || o.flood == nil || isSubscription(ctx) {
		return resp
	}
	for _, e := range resp.Errors {
		if outage.Is(e) {
			cause := error(e)
			if e.Err != nil {
				cause = e.Err // the driver's words, not the client's message
			}
			o.flood.Fail(ctx, "requests", cause)
			return resp
		}
	}
	if Statements(ctx) > 0 {
		o.flood.OK(ctx)
	}
	return resp
}
