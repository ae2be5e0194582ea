// Helpers of the contract cases: reading a store back (export) and writing
// or comparing its answers.

package storetest

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/meridian-graphql/meridian/analytics"
)

func export(t *testing.T, s analytics.Store, r analytics.Range, f analytics.Filter) []analytics.Event {
	t.Helper()
	var out []analytics.Event
	if err := s.Export(context.Background(), r, f, func(e *analytics.Event) error {
		out = append(out, *e)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func ids(es []analytics.Event) string {
	var s []string
	for _, e := range es {
		s = append(s, e.ID)
	}
	return strings.Join(s, " ")
}

func nearIDs(ds []analytics.EventDistance) string {
	var s []string
	for _, d := range ds {
		s = append(s, d.Event.ID)
	}
	return strings.Join(s, " ")
}

func retentionString(rows []analytics.RetentionRow) string {
	var s []string
	for _, r := range rows {
		s = append(s, fmt.Sprintf("%s:%d%v", r.CohortStart.Format("01-02"), r.CohortSize, r.Values))
	}
	return strings.Join(s, " ")
}

func equalActivity(a, b []analytics.UserActivity) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].UserID != b[i].UserID || a[i].Events != b[i].Events || a[i].DistinctTypes != b[i].DistinctTypes || !a[i].LastSeen.Equal(b[i].LastSeen) {
			return false
		}
	}
	return true
}

// sameEvent compares every stored field, times by instant.
func sameEvent(a, b analytics.Event) bool {
	if a.ID != b.ID || a.UserID != b.UserID || a.Type != b.Type || !a.Timestamp.Equal(b.Timestamp) ||
		!a.Day.Equal(b.Day) || !a.Week.Equal(b.Week) || !a.Month.Equal(b.Month) ||
		a.Cell != b.Cell || a.Revenue != b.Revenue || a.Category != b.Category {
		return false
	}
	if (a.Geo == nil) != (b.Geo == nil) || (a.Geo != nil && *a.Geo != *b.Geo) {
		return false
	}
	return reflect.DeepEqual(a.Metadata, b.Metadata)
}
