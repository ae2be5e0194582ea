package seed

import "time"

// testNow is the fixed reference time of the tests, so that runs compare.
func testNow() time.Time { return time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC) }
