package store

import (
	"context"
	"strings"
	"time"

	"github.com/meridian-graphql/meridian/ent"
	"github.com/meridian-graphql/meridian/ent/address"
	"github.com/meridian-graphql/meridian/ent/order"
	"github.com/meridian-graphql/meridian/ent/user"
)

// CreateUser creates a user, optionally at an existing address. Emails are
// kept lower-case so that uniqueness ignores case.
func (s *Store) CreateUser(ctx context.Context, in ent.CreateUserInput) (*ent.User, error) {
	in.Username = strings.TrimSpace(in.Username)
	in.Email = normalizeEmail(in.Email)
	in.CreatedAt = utc(in.CreatedAt)
	in.LastActiveAt = utc(in.LastActiveAt)
	var out *ent.User
	err := s.tx(ctx, func(tx *ent.Tx) (err error) {
		if in.AddressID != nil {
			if err := exists(ctx, tx.Address.Query().Where(address.ID(*in.AddressID)).Exist, "addressID", "address", *in.AddressID); err != nil {
				return err
			}
		}
		if out, err = tx.User.Create().SetInput(in).Save(ctx); err != nil {
			return err
		}
		return s.emit(ctx, tx, "user.created", out)
	}, TagUsers)
	return out, err
}

// UpdateUser updates a user.
func (s *Store) UpdateUser(ctx context.Context, id int, in ent.UpdateUserInput) (*ent.User, error) {
	if in.Email != nil {
		e := normalizeEmail(*in.Email)
		in.Email = &e
	}
	in.LastActiveAt = utc(in.LastActiveAt)
	var out *ent.User
	err := s.tx(ctx, func(tx *ent.Tx) (err error) {
		if in.AddressID != nil {
			if err := exists(ctx, tx.Address.Query().Where(address.ID(*in.AddressID)).Exist, "addressID", "address", *in.AddressID); err != nil {
				return err
			}
		}
		if out, err = tx.User.UpdateOneID(id).SetInput(in).Save(ctx); err != nil {
			return notFound(err, "id", "user", id)
		}
		return s.emit(ctx, tx, "user.updated", out)
	}, TagUsers)
	return out, err
}

// DeleteUser deletes a user and the user's orders.
func (s *Store) DeleteUser(ctx context.Context, id int) error {
	return s.tx(ctx, func(tx *ent.Tx) error {
		if err := exists(ctx, tx.User.Query().Where(user.ID(id)).Exist, "id", "user", id); err != nil {
			return err
		}
		if _, err := tx.Order.Delete().Where(order.UserID(id)).Exec(ctx); err != nil {
			return err
		}
		if err := tx.User.DeleteOneID(id).Exec(ctx); err != nil {
			return err
		}
		return s.emit(ctx, tx, "user.deleted", map[string]int{"id": id})
	}, TagUsers, TagOrders)
}

func normalizeEmail(e string) string { return strings.ToLower(strings.TrimSpace(e)) }

func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}
