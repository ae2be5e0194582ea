package database

import "testing"

// The key must not collide with the other advisory locks of the code base:
// analytics/sqlstore's migrationLockKey (pg_advisory_xact_lock), which can be
// taken on another connection while WithMigrationLock holds this one.
func TestMigrationLockKey(t *testing.T) {
	const sqlstoreKey = 0x6d6572_616e61
	if migrationLockKey == sqlstoreKey {
		t.Fatalf("migration lock key %#x collides with analytics/sqlstore's", migrationLockKey)
	}
	if migrationLockKey != advisoryKey(MigrationLockName) || advisoryKey("other") == migrationLockKey {
		t.Fatal("advisoryKey is not a function of the name")
	}
	t.Logf("%s: %d", MigrationLockName, migrationLockKey)
}
