package mongostore

import (
	"context"
	"errors"
	"regexp"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/topology"

	"meridian/analytics"
)

// classify marks a driver error with its kind — analytics.ErrRefused when
// the server refused the documents, analytics.ErrUnavailable when it could
// not be reached or could not serve — so that callers tell a poison event
// from an outage (see errKind). Other errors are returned as they are.
func classify(err error) error { return analytics.Mark(errKind(err), err) }

// ferretSQLState finds the PostgreSQL SQLSTATE that FerretDB (PostgreSQL
// handler) puts in the message of its InternalError replies, e.g. "ERROR:
// index row requires 12024 bytes, maximum size is 8191 (SQLSTATE 54000)".
var ferretSQLState = regexp.MustCompile(`\(SQLSTATE ([0-9A-Z]{5})\)`)

// errKind is the classification of classify:
//
//   - outages: network errors and timeouts (the driver's labels, net
//     errors, deadlines), no server selectable, a disconnected client,
//     and the server codes of a node that is stepping down, shutting down
//     or interrupted (transientCode), or a write concern not met;
//   - refusals: write errors of a bulk insert other than those (a document
//     too large, a bad field name, a validation rule) and the refusal
//     codes of a command (refusedCode);
//   - FerretDB answers a refusal of its PostgreSQL with InternalError and
//     the SQLSTATE in the message: that SQLSTATE decides, as on sqlstore.
func errKind(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) ||
		errors.Is(err, mongo.ErrClientDisconnected) || mongo.IsNetworkError(err) || mongo.IsTimeout(err) ||
		errors.As(err, &topology.ServerSelectionError{}) {
		return analytics.ErrUnavailable
	}
	var bwe mongo.BulkWriteException
	if errors.As(err, &bwe) {
		refused := false
		for _, we := range bwe.WriteErrors {
			switch {
			case we.Code == 11000 || we.Code == 11001: // duplicate key: not a failure here
			case transientCode(we.Code):
				return analytics.ErrUnavailable
			default:
				refused = true
			}
		}
		if bwe.WriteConcernError != nil {
			return analytics.ErrUnavailable
		}
		if refused {
			return analytics.ErrRefused
		}
		return nil
	}
	var ce mongo.CommandError
	if errors.As(err, &ce) {
		if ce.HasErrorLabel("RetryableWriteError") || ce.HasErrorLabel("NetworkError") || transientCode(int(ce.Code)) {
			return analytics.ErrUnavailable
		}
		if m := ferretSQLState.FindStringSubmatch(ce.Message); m != nil {
			return analytics.SQLStateKind(m[1])
		}
		if refusedCode(int(ce.Code)) {
			return analytics.ErrRefused
		}
	}
	return nil
}

// transientCode reports the MongoDB server codes of a node that cannot
// serve now: interrupted, shutting down, not (or no longer) primary,
// over a time limit, a write concern not met.
func transientCode(code int) bool {
	switch code {
	case 6, // HostUnreachable
		7,     // HostNotFound
		50,    // MaxTimeMSExpired
		64,    // WriteConcernFailed
		89,    // NetworkTimeout
		91,    // ShutdownInProgress
		189,   // PrimarySteppedDown
		262,   // ExceededTimeLimit
		9001,  // SocketException
		10107, // NotWritablePrimary
		11600, // InterruptedAtShutdown
		11602, // InterruptedDueToReplStateChange
		13435, // NotPrimaryNoSecondaryOk
		13436: // NotPrimaryOrSecondary
		return true
	}
	return false
}

// refusedCode reports the MongoDB server codes that refuse a command's
// documents themselves.
func refusedCode(code int) bool {
	switch code {
	case 2, // BadValue: FerretDB's answer to a '$' or '.' in a field name
		10334, // BSONObjectTooLarge
		17280, // KeyTooLong (before MongoDB 4.2)
		52,    // DollarPrefixedFieldName
		57,    // DottedFieldName
		121:   // DocumentValidationFailure
		return true
	}
	return false
}
