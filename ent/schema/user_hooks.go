package schema

import (
	"context"
	"errors"
	"fmt"
	"time"

	"entgo.io/ent"
)

// neverActiveSQL is the SQL default of users.last_active_order, which the
// rows that predate the column get when the migration adds it. It is the
// epoch spelt as PostgreSQL reads the default back, so that no later start
// sees a change to migrate on either backend. On SQLite, which compares
// times as text, it is not what the driver writes (nor can the driver read
// it back): database's Migrate rewrites such rows — to last_active_at, or
// the epoch as the driver writes it — right after migrating.
const neverActiveSQL = "'1970-01-01 00:00:00+00'"

// neverActive is last_active_order of never-active users: the Unix epoch.
func neverActive() time.Time { return time.Unix(0, 0).UTC() }

// syncLastActiveOrder keeps last_active_order equal to last_active_at, or to
// the epoch when that is NULL, on every create (one or bulk, where a value
// set for last_active_order is replaced) and update (one or many: set or
// clear last_active_at). It goes through ent's generic mutation interface,
// by field name, so that the schema does not import the generated code. An
// update that sets last_active_order without touching last_active_at is
// refused: the key would no longer follow the field. ON CONFLICT updates of
// upserts and raw SQL bypass ent hooks; no code writes users either way.
func syncLastActiveOrder(next ent.Mutator) ent.Mutator {
	return ent.MutateFunc(func(ctx context.Context, m ent.Mutation) (ent.Value, error) {
		if !m.Op().Is(ent.OpCreate | ent.OpUpdate | ent.OpUpdateOne) {
			return next.Mutate(ctx, m)
		}
		var key time.Time
		switch v, set := m.Field("last_active_at"); {
		case set:
			t, ok := v.(time.Time)
			if !ok {
				return nil, fmt.Errorf("user: last_active_at is a %T", v)
			}
			key = t
		case m.Op().Is(ent.OpCreate), m.FieldCleared("last_active_at"):
			key = neverActive()
		default:
			if _, set := m.Field("last_active_order"); set {
				return nil, errors.New("user: last_active_order follows last_active_at: set or clear that instead")
			}
			return next.Mutate(ctx, m)
		}
		if err := m.SetField("last_active_order", key); err != nil {
			return nil, fmt.Errorf("user: set last_active_order: %w", err)
		}
		return next.Mutate(ctx, m)
	})
}
