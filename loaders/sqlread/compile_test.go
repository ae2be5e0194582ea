package sqlread

import "testing"

// The end-to-end proof is httpapi's TestCompiledReadsAnswerAsTheResolvers;
// these pin the two pure helpers the statement's text depends on.

func TestColumnFollowsEntcNaming(t *testing.T) {
	for name, want := range map[string]string{
		"id": "id", "code": "code", "postalCode": "postal_code", "cityID": "city_id",
		"addressID": "address_id", "lastActiveAt": "last_active_at", "totalSpent": "total_spent",
	} {
		if got := column(name); got != want {
			t.Errorf("column(%q) = %q, want %q", name, got, want)
		}
	}
}

func TestIsNameRefusesWhatCouldLeaveALiteral(t *testing.T) {
	for _, ok := range []string{"a", "_x", "nodeID", "a1"} {
		if !isName(ok) {
			t.Errorf("isName(%q) = false", ok)
		}
	}
	for _, bad := range []string{"", "1a", "a'b", "a b", "é", "a-b"} {
		if isName(bad) {
			t.Errorf("isName(%q) = true", bad)
		}
	}
}
