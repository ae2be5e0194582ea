package resolvers

import (
	"slices"

	"github.com/meridian-graphql/meridian/broker"
	"github.com/meridian-graphql/meridian/broker/consumers"
	"github.com/meridian-graphql/meridian/platform/apperr"
)

// busAdmin returns the bus's admin surface after checking that queue (when
// not empty) is one of the consumer queues: the admin operations never
// touch queues they do not own.
func (r *Resolver) busAdmin(queue string) (broker.Admin, error) {
	if queue != "" && !slices.Contains(consumers.Queues(), queue) {
		return nil, apperr.BadInput("queue", "unknown queue %q; the consumer queues are %v", queue, consumers.Queues())
	}
	a, ok := r.Bus.(broker.Admin)
	if !ok || r.Bus == nil {
		return nil, apperr.Unavailablef("this instance runs without a bus administration surface")
	}
	return a, nil
}

// isCountryCode reports whether s is two upper-case ASCII letters.
func isCountryCode(s string) bool {
	return len(s) == 2 && s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' && s[1] <= 'Z'
}

var errNoKeys = apperr.Unavailablef("API keys are not configured on this instance")

var errNoLive = apperr.Unavailablef("live subscriptions are not running on this instance")
