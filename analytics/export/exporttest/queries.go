// Package exporttest holds the query strings that seed the fuzz targets of
// the export's parameters — FuzzExportParams in package export and
// httpapi's FuzzExportEndpoint — so that the decoder and the endpoint are
// fuzzed from the same inputs. Tested by those targets, which use it.
package exporttest

// Queries are raw query strings of GET /export/events: each parameter
// valid, combined and repeated, and malformed, out of range, mis-encoded
// or hostile.
var Queries = []string{
	``,
	`format=csv`,
	`format=ndjson&type=purchase&type=click`,
	`from=2026-01-05T00:00:00Z&to=2026-01-12T00:00:00Z`,
	`from=2026-01-06T10:00:00%2B02:00&to=2026-01-07T00:00:00.5Z&format=csv`,
	`user=1&country=aa`,
	`user=0`, `user=-1`, `user=9223372036854775808`, `user=1e3`, `user=%201%20`,
	`from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z`,
	`from=2026-01-01T00:00:00Z&to=2026-01-01T00:00:00Z`,
	`from=yesterday`, `to=2026-13-01T00:00:00Z`, `from=0000-01-01T00:00:00Z&to=9999-12-31T23:59:59Z`,
	`from=2026-01-05T00:00:00%2B23:59`,
	`format=xml`, `format=CSV`, `format=%20csv%20`,
	`type=&type=%20&type=purchase`,
	`country=%00`, `country=%FF%FE`, `country=ab%25`, `type=%27%20OR%201%3D1--`,
	`from=2026-01-05T00:00:00Z&from=2026-01-06T00:00:00Z`,
	`%ZZ=1&format=csv`, `;`, `&&&=&=`,
}
