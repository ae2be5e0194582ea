package faultsvc

import (
	"fmt"
	"os"
	"testing"
)

// Tally counts what a fault did to the writes that crossed it.
type Tally struct {
	Sent       int // writes the test attempted
	Accepted   int // writes the system acknowledged
	Stored     int // distinct accepted writes found in the store afterwards
	Lost       int // accepted writes not stored
	Duplicated int // extra copies of stored writes
}

// Count builds a Tally from the ids the system acknowledged and how many
// times each id was found stored (ids stored but never acknowledged — a
// write that failed for the client but landed — count in neither Lost nor
// Duplicated; they are reported as Stored beyond Accepted).
func Count(sent int, accepted []string, stored map[string]int) Tally {
	t := Tally{Sent: sent, Accepted: len(accepted)}
	for _, n := range stored {
		if n > 0 {
			t.Stored++
		}
		if n > 1 {
			t.Duplicated += n - 1
		}
	}
	for _, id := range accepted {
		if stored[id] == 0 {
			t.Lost++
		}
	}
	return t
}

func (t Tally) String() string {
	return fmt.Sprintf("sent=%d accepted=%d stored=%d lost=%d duplicated=%d", t.Sent, t.Accepted, t.Stored, t.Lost, t.Duplicated)
}

// Report logs the tally as a "faults:" line under the fault's name, and
// fails the test when anything acknowledged was lost or stored twice.
func (t Tally) Report(tb testing.TB, fault string) {
	tb.Helper()
	tb.Logf("faults: %s: %s", fault, t)
	if t.Lost > 0 || t.Duplicated > 0 {
		tb.Errorf("%s: %d acknowledged writes lost, %d duplicated", fault, t.Lost, t.Duplicated)
	}
}

// Long skips a fault test that takes minutes (a soak, repeated outages)
// unless MERIDIAN_FAULTS=1, as `make faults` sets; quick fault tests run
// in `make test`.
func Long(tb testing.TB) {
	tb.Helper()
	if os.Getenv("MERIDIAN_FAULTS") != "1" {
		tb.Skip("a long fault test: run by `make faults` (MERIDIAN_FAULTS=1)")
	}
}
