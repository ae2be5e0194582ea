package engine_test

import (
	"bytes"
	"slices"
	"strconv"
	"testing"

	"github.com/meridian-graphql/meridian/analytics/engine"
)

// FuzzEnumScalars decodes the engine's GraphQL enums (Segment, the
// segmentReport/usersBySegment argument, and ModelConfidence) from client
// values: exactly the declared names are accepted, case-sensitively as
// GraphQL enums are; an accepted value marshals to its quoted name and
// decodes to itself; a refusal leaves the target unchanged.
func FuzzEnumScalars(f *testing.F) {
	for _, s := range []string{"VIP", "DORMANT", "AT_RISK", "ACTIVE", "LOW", "MEDIUM", "HIGH", "vip", " VIP", "VIP\x00", "", "AT RISK", "HIGHEST"} {
		f.Add(s, false)
	}
	f.Add("", true)
	f.Fuzz(func(t *testing.T, s string, notString bool) {
		var v any = s
		if notString {
			v = len(s) // an Int literal where the enum was expected
		}
		seg := engine.Segment("unchanged")
		err := seg.UnmarshalGQL(v)
		if want := !notString && slices.Contains(engine.Segments(), engine.Segment(s)); (err == nil) != want {
			t.Fatalf("Segment.UnmarshalGQL(%#v) = %v; want accepted %v", v, err, want)
		}
		if err != nil {
			if seg != "unchanged" {
				t.Fatalf("refused segment %#v changed the target to %q", v, seg)
			}
		} else {
			var b bytes.Buffer
			seg.MarshalGQL(&b)
			var again engine.Segment
			u, _ := strconv.Unquote(b.String())
			if b.String() != strconv.Quote(s) || again.UnmarshalGQL(u) != nil || again != seg {
				t.Fatalf("segment %q marshals to %s and back to %q", seg, b.String(), again)
			}
		}
		conf := engine.Confidence("unchanged")
		err = conf.UnmarshalGQL(v)
		if want := !notString && slices.Contains([]engine.Confidence{engine.Low, engine.Medium, engine.High}, engine.Confidence(s)); (err == nil) != want {
			t.Fatalf("Confidence.UnmarshalGQL(%#v) = %v; want accepted %v", v, err, want)
		}
		if err != nil {
			if conf != "unchanged" {
				t.Fatalf("refused confidence %#v changed the target to %q", v, conf)
			}
			return
		}
		var b bytes.Buffer
		conf.MarshalGQL(&b)
		if b.String() != strconv.Quote(s) {
			t.Fatalf("confidence %q marshals to %s", conf, b.String())
		}
	})
}
