package mongostore

import (
	"testing"

	"meridian/analytics"
	"meridian/analytics/storetest"
)

// TestContract runs the backend-neutral contract suite on both query paths
// (see eachPath: FerretDB always, a real MongoDB with MONGODB_TEST_URI).
func TestContract(t *testing.T) {
	eachPath(t, func(t *testing.T, open opener) {
		storetest.Run(t, func(t *testing.T) analytics.Store { return open(t) })
	})
}
