package mongostore

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/meridian-graphql/meridian/analytics"
)

// TestClassify: the server's and the driver's errors are told apart — a
// document refused from an outage — on the driver's error values, FerretDB's
// answers as it sends them (measured: see TestRefusals) and a real failed
// server selection.
func TestClassify(t *testing.T) {
	bulk := func(codes ...int) error {
		var bwe mongo.BulkWriteException
		for i, c := range codes {
			bwe.WriteErrors = append(bwe.WriteErrors, mongo.BulkWriteError{WriteError: mongo.WriteError{Index: i, Code: c, Message: "x"}})
		}
		return bwe
	}
	ferret := func(sqlstate string) error {
		return mongo.CommandError{Code: 1, Name: "InternalError", Message: "[msg_insert.go:168 handler.(*Handler).MsgInsert] ERROR: something (SQLSTATE " + sqlstate + ")"}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	client, err := mongo.Connect(options.Client().ApplyURI("mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=200&connectTimeoutMS=200"))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Disconnect(context.Background())
	pingErr := client.Ping(ctx, nil) // nothing listens on port 1
	if pingErr == nil {
		t.Fatal("a server answered on port 1")
	}

	for _, tc := range []struct {
		name string
		err  error
		want error
	}{
		{"FerretDB index row too big", ferret("54000"), analytics.ErrRefused},
		{"FerretDB NUL", ferret("22P05"), analytics.ErrRefused},
		{"FerretDB's PostgreSQL starting up", ferret("57P03"), analytics.ErrUnavailable},
		{"bad field name (FerretDB, code 2)", bulk(2), analytics.ErrRefused},
		{"document validation", bulk(11000, 121), analytics.ErrRefused},
		{"duplicates only: neither", bulk(11000, 11000), nil},
		{"not primary in a bulk", bulk(121, 10107), analytics.ErrUnavailable},
		{"write concern", mongo.BulkWriteException{WriteConcernError: &mongo.WriteConcernError{Code: 64}}, analytics.ErrUnavailable},
		{"document too large", mongo.CommandError{Code: 10334, Name: "BSONObjectTooLarge"}, analytics.ErrRefused},
		{"shutting down", mongo.CommandError{Code: 91, Name: "ShutdownInProgress"}, analytics.ErrUnavailable},
		{"retryable label", mongo.CommandError{Code: 999, Labels: []string{"RetryableWriteError"}}, analytics.ErrUnavailable},
		{"network label", mongo.CommandError{Code: 0, Labels: []string{"NetworkError"}}, analytics.ErrUnavailable},
		{"server selection (real)", pingErr, analytics.ErrUnavailable},
		{"disconnected client", mongo.ErrClientDisconnected, analytics.ErrUnavailable},
		{"deadline", fmt.Errorf("insert: %w", context.DeadlineExceeded), analytics.ErrUnavailable},
		{"other command error: neither", mongo.CommandError{Code: 13, Name: "Unauthorized"}, nil},
		{"plain error: neither", errors.New("something else"), nil},
	} {
		got := classify(tc.err)
		refused, unavailable := errors.Is(got, analytics.ErrRefused), errors.Is(got, analytics.ErrUnavailable)
		if refused != (tc.want == analytics.ErrRefused) || unavailable != (tc.want == analytics.ErrUnavailable) {
			t.Errorf("%s: classify(%v) refused=%v unavailable=%v; want %v", tc.name, tc.err, refused, unavailable, tc.want)
		}
	}
}
