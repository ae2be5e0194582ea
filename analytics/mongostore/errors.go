package mongostore

import (
	"errors"
	"regexp"

	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/meridian-graphql/meridian/analytics"
	"github.com/meridian-graphql/meridian/platform/outage"
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
//     or interrupted (outage.TransientMongoCode), or a write concern not met;
//   - refusals: write errors of a bulk insert other than those (a document
//     too large, a bad field name, a validation rule) and the refusal
//     codes of a command (refusedCode);
//   - FerretDB answers a refusal of its PostgreSQL with InternalError and
//     the SQLSTATE in the message: that SQLSTATE decides, as on sqlstore.
func errKind(err error) error {
	if err == nil {
		return nil
	}
	// outage.Transient is the API's SERVICE_UNAVAILABLE classification:
	// network errors, no server selectable, a disconnected client,
	// deadlines, the codes of a node that cannot serve.
	if outage.Transient(err) || mongo.IsTimeout(err) {
		return analytics.ErrUnavailable
	}
	var bwe mongo.BulkWriteException
	if errors.As(err, &bwe) {
		refused := false
		for _, we := range bwe.WriteErrors {
			switch {
			case we.Code == 11000 || we.Code == 11001: // duplicate key: not a failure here
			case outage.TransientMongoCode(we.Code):
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
		if ce.HasErrorLabel("RetryableWriteError") || ce.HasErrorLabel("NetworkError") || outage.TransientMongoCode(int(ce.Code)) {
			return analytics.ErrUnavailable
		}
		if m := ferretSQLState.FindStringSubmatch(ce.Message); m != nil {
			switch {
			case outage.TransientSQLState(m[1]):
				return analytics.ErrUnavailable
			case analytics.RefusedSQLState(m[1]):
				return analytics.ErrRefused
			}
		}
		if refusedCode(int(ce.Code)) {
			return analytics.ErrRefused
		}
	}
	return nil
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
