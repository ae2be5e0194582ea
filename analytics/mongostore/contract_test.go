package mongostore

import (
	"context"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/meridian-graphql/meridian/analytics"
	"github.com/meridian-graphql/meridian/analytics/storetest"
)

// TestContract runs the backend-neutral contract suite on both query paths
// (see eachPath: FerretDB always, a real MongoDB with MONGODB_TEST_URI).
func TestContract(t *testing.T) {
	eachPath(t, func(t *testing.T, open opener) {
		storetest.Run(t, func(t *testing.T) analytics.Store { return open(t) })
	})
}

// TestRefusals runs the contract of refused rows on FerretDB, with an index
// on the metadata sub-document: FerretDB keeps it as a PostgreSQL B-tree,
// which cannot hold large metadata (SQLSTATE 54000 inside an InternalError).
// A real MongoDB has no index-key limit, so the poison does not work there.
func TestRefusals(t *testing.T) {
	eachPath(t, func(t *testing.T, open opener) {
		storetest.RunRefusals(t, func(t *testing.T) analytics.Store { return open(t) }, func(t *testing.T, as analytics.Store) storetest.Refusal {
			s := as.(*Store)
			if !strings.HasPrefix(s.Server(), "FerretDB") {
				t.Skipf("%s has no index-key limit to refuse rows by", s.Server())
			}
			if _, err := s.events.Indexes().CreateOne(context.Background(), mongo.IndexModel{Keys: bson.D{{Key: "metadata", Value: 1}}}); err != nil {
				t.Fatal(err)
			}
			return storetest.Refusal{Meta: storetest.BulkyMetadata(8 << 10), Uncounted: true}
		})
	})
}
