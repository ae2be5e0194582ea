package loaders_test

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/meridian-graphql/meridian/analytics"
	"github.com/meridian-graphql/meridian/loaders"
	"github.com/meridian-graphql/meridian/platform/apperr"
)

// FuzzDecodeEventCursor feeds User.events' `after` cursor decoder client
// strings. A refusal is BAD_USER_INPUT on field "after"; an accepted cursor
// names an event (non-empty id), and encoding the event it names gives a
// cursor that decodes to the same position — the cursors the server hands
// out always round-trip.
func FuzzDecodeEventCursor(f *testing.F) {
	enc := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	at := time.Date(2026, 3, 1, 10, 0, 0, 123456789, time.UTC)
	f.Add(loaders.EncodeEventCursor(&analytics.Event{ID: "evt-1", Timestamp: at}))
	f.Add(loaders.EncodeEventCursor(&analytics.Event{ID: "01JQ0000000000000000000000", Timestamp: time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)}))
	for _, s := range []string{
		"", "=", "!!!!", "YQ", "YQ==",
		enc("2026-03-01T10:00:00Z|"),
		enc("2026-03-01T10:00:00Z"),
		enc("|evt"),
		enc("2026-03-01T10:00:00+02:00|evt|with|bars"),
		enc("2026-13-01T10:00:00Z|evt"),
		enc("9999-12-31T23:59:59.999999999Z|evt"),
		enc("0000-01-01T00:00:00Z|evt"),
		enc("2026-03-01T10:00:00Z|\x00\xff"),
		base64.StdEncoding.EncodeToString([]byte("2026-03-01T10:00:00Z|evt+/")),
		enc("2026-03-01T10:00:00Z|evt") + "\n",
		strings.Repeat("A", 4096),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := loaders.DecodeEventCursor(s)
		if err != nil {
			var ae *apperr.Error
			if !errors.As(err, &ae) || ae.Code != apperr.BadUserInput || ae.Field != "after" {
				t.Fatalf("DecodeEventCursor(%q) refused with %#v, want BAD_USER_INPUT on after", s, err)
			}
			if c != nil {
				t.Fatalf("DecodeEventCursor(%q) returned a cursor with its error", s)
			}
			return
		}
		if c == nil || c.ID == "" {
			t.Fatalf("DecodeEventCursor(%q) = %+v without an error", s, c)
		}
		again := loaders.EncodeEventCursor(&analytics.Event{ID: c.ID, Timestamp: c.Timestamp})
		c2, err := loaders.DecodeEventCursor(again)
		if err != nil {
			t.Fatalf("the cursor of %+v (from %q) does not decode: %v", c, s, err)
		}
		if !c2.Timestamp.Equal(c.Timestamp) || c2.ID != c.ID {
			t.Fatalf("cursor round trip moved: %q → %+v → %q → %+v", s, c, again, c2)
		}
		if again2 := loaders.EncodeEventCursor(&analytics.Event{ID: c2.ID, Timestamp: c2.Timestamp}); again2 != again {
			t.Fatalf("re-encoding is not stable: %q then %q", again, again2)
		}
	})
}
