package analytics

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Limits of an event's strings: Prepare refuses longer ones
// (BAD_USER_INPUT naming the field and the limit), so that no store ever
// refuses an event it accepted. Every limit is in BYTES of UTF-8, not in
// characters: bytes are what index rows and documents are made of, so a
// limit in runes would let 4-byte characters through at four times the
// size. Every string must also be valid UTF-8 and free of NUL (PostgreSQL's
// text and jsonb hold neither).
//
// What the stores can index (the binding constraints):
//
//   - PostgreSQL: a B-tree index row must fit in a third of a page, 2,704
//     bytes after compression, and no index row may exceed 8,191 bytes. The
//     events table indexes id (primary key), (ts, id), (user_id, ts, id),
//     cell, and events_purchases, which covers (INCLUDE) category and
//     country of every purchase; event_counts_daily's key is (day, type,
//     country). FerretDB, the MongoDB of the tests, keeps documents in
//     PostgreSQL and indexes each indexed field the same way (_id, type,
//     cell, day, ts, user_id), so the same bound holds there.
//   - SQLite has no index-row limit (a row may be up to a gigabyte).
//   - MongoDB (4.2+) has no index-key limit, but documents are at most
//     16 MB and nested at most 100 levels; FerretDB also refuses field
//     names that start with '$' or contain '.'.
//
// The indexed strings are kept far below 2,704 bytes so that a whole index
// row — events_purchases: timestamps, ids, cents, category and country —
// stays under it without relying on compression.
const (
	// MaxIDBytes bounds an event id: the primary key of every store (also
	// in events_ts and events_user_ts on PostgreSQL). Ids are ASCII.
	MaxIDBytes = 64
	// MaxTypeBytes bounds the event type: in event_counts_daily's primary
	// key and MongoDB's (type, ts) index.
	MaxTypeBytes = 64
	// MaxCategoryBytes bounds metadata.category, which becomes the indexed
	// category column (events_purchases). Product categories are at most 60
	// characters (ent schema), so 256 bytes leaves room for any script.
	MaxCategoryBytes = 256
	// MaxCityBytes bounds geo.city. It is not indexed anywhere; the bound
	// keeps rows small and city names still fit in any script (the
	// country is a two-letter code, checked by its own rule).
	MaxCityBytes = 120
	// MaxMetadataKeyBytes bounds each metadata key, at any depth. Keys are
	// not indexed; MongoDB field names of this size are cheap everywhere.
	MaxMetadataKeyBytes = 128
	// MaxMetadataStringBytes bounds each string value of metadata, at any
	// depth (not indexed: a URL or a search query fits).
	MaxMetadataStringBytes = 2048
	// MaxMetadataDepth bounds the nesting of metadata objects and arrays:
	// MongoDB refuses documents nested deeper than 100 levels, and a deep
	// document costs recursion in every encoder on the way.
	MaxMetadataDepth = 16
	// MaxMetadataBytes bounds the whole metadata as JSON (a JSONB column or
	// a sub-document, not indexed).
	MaxMetadataBytes = 16 << 10
)

// checkString refuses a string of field longer than max bytes, invalid
// UTF-8, or holding NUL.
func checkString(field, s string, max int) error {
	if len(s) > max {
		return &FieldError{field, fmt.Sprintf("is %d bytes; at most %d bytes of UTF-8", len(s), max)}
	}
	if !utf8.ValidString(s) {
		return &FieldError{field, "is not valid UTF-8"}
	}
	if strings.IndexByte(s, 0) >= 0 {
		return &FieldError{field, "must not contain NUL characters"}
	}
	return nil
}

// checkMetadataValues walks metadata and bounds every key, string value and
// nesting level (see the limits above). field is the path of v
// ("metadata.a.b", "metadata.tags[2]").
func checkMetadataValues(field string, v any, depth int) error {
	switch x := v.(type) {
	case map[string]any:
		if depth >= MaxMetadataDepth {
			return &FieldError{field, fmt.Sprintf("nests deeper than %d levels", MaxMetadataDepth)}
		}
		// In key order, so that the same input always names the same fault.
		for _, k := range slices.Sorted(maps.Keys(x)) {
			if err := checkMetadataKey(field, k); err != nil {
				return err
			}
			if err := checkMetadataValues(field+"."+k, x[k], depth+1); err != nil {
				return err
			}
		}
	case []any:
		if depth >= MaxMetadataDepth {
			return &FieldError{field, fmt.Sprintf("nests deeper than %d levels", MaxMetadataDepth)}
		}
		for i, el := range x {
			if err := checkMetadataValues(field+"["+strconv.Itoa(i)+"]", el, depth+1); err != nil {
				return err
			}
		}
	case string:
		return checkString(field, x, MaxMetadataStringBytes)
	}
	return nil
}

// checkMetadataKey bounds a key of the object at field.
func checkMetadataKey(field, k string) error {
	switch {
	case len(k) > MaxMetadataKeyBytes:
		return &FieldError{field, fmt.Sprintf("has a key of %d bytes; keys are at most %d bytes of UTF-8", len(k), MaxMetadataKeyBytes)}
	case !utf8.ValidString(k):
		return &FieldError{field, "has a key that is not valid UTF-8"}
	case strings.IndexByte(k, 0) >= 0:
		return &FieldError{field, "has a key with a NUL character"}
	case strings.HasPrefix(k, "$") || strings.Contains(k, "."):
		return &FieldError{field, fmt.Sprintf("has the key %q: keys must not start with '$' nor contain '.' (MongoDB field names)", k)}
	}
	return nil
}
