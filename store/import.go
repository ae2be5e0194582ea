package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/meridian-graphql/meridian/ent"
	"github.com/meridian-graphql/meridian/ent/city"
	"github.com/meridian-graphql/meridian/platform/apperr"
)

// MaxImportRows bounds one importUsers call.
const MaxImportRows = 10000

// ImportUser is one row of a batch import.
type ImportUser struct {
	Username     string
	Email        string
	CreatedAt    *time.Time
	LastActiveAt *time.Time
	Address      *ImportAddress
}

// ImportAddress is the new address of an imported user.
type ImportAddress struct {
	Street     string
	PostalCode *string
	CityID     int
}

// ImportResult reports a batch import: the users created in input order and
// one error per failed row.
type ImportResult struct {
	Imported int
	Failed   int
	Users    []*ent.User
	Errors   []*RowError
}

// RowError is why one row of an import failed.
type RowError struct {
	Index   int
	Code    string
	Message string
	Field   *string
}

// ImportUsers creates users (and their addresses) in one transaction, each
// row under its own savepoint: a row that fails is rolled back to its
// savepoint and reported, the others commit together.
func (s *Store) ImportUsers(ctx context.Context, rows []*ImportUser) (*ImportResult, error) {
	if len(rows) > MaxImportRows {
		return nil, apperr.BadInput("input", "at most %d rows per import, got %d", MaxImportRows, len(rows))
	}
	res := &ImportResult{}
	err := s.tx(ctx, func(tx *ent.Tx) error {
		for i, row := range rows {
			if err := ctx.Err(); err != nil {
				return err
			}
			sp := fmt.Sprintf("import_row_%d", i)
			if _, err := tx.ExecContext(ctx, "SAVEPOINT "+sp); err != nil {
				return fmt.Errorf("savepoint: %w", err)
			}
			u, rowErr := importRow(ctx, tx, row)
			if rowErr != nil {
				if _, err := tx.ExecContext(ctx, "ROLLBACK TO SAVEPOINT "+sp); err != nil {
					return fmt.Errorf("rollback to savepoint: %w", err)
				}
				e, ok := apperr.As(apperr.Translate(rowErr))
				if !ok {
					// Not the row's fault (the database went away, …): fail the call.
					return fmt.Errorf("import row %d: %w", i, rowErr)
				}
				re := &RowError{Index: i, Code: string(e.Code), Message: e.Message}
				if e.Field != "" {
					f := e.Field
					re.Field = &f
				}
				res.Errors = append(res.Errors, re)
				continue
			}
			if _, err := tx.ExecContext(ctx, "RELEASE SAVEPOINT "+sp); err != nil {
				return fmt.Errorf("release savepoint: %w", err)
			}
			if err := s.emit(ctx, tx, "user.created", u); err != nil {
				return err
			}
			res.Users = append(res.Users, u)
		}
		return nil
	}, TagUsers)
	if err != nil {
		return nil, err
	}
	res.Imported, res.Failed = len(res.Users), len(res.Errors)
	return res, nil
}

func importRow(ctx context.Context, tx *ent.Tx, row *ImportUser) (*ent.User, error) {
	create := tx.User.Create().
		SetUsername(strings.TrimSpace(row.Username)).
		SetEmail(normalizeEmail(row.Email)).
		SetNillableCreatedAt(utc(row.CreatedAt)).
		SetNillableLastActiveAt(utc(row.LastActiveAt))
	if row.CreatedAt != nil && row.LastActiveAt != nil && row.LastActiveAt.Before(*row.CreatedAt) {
		return nil, apperr.BadInput("lastActiveAt", "is before createdAt")
	}
	if a := row.Address; a != nil {
		ok, err := tx.City.Query().Where(city.ID(a.CityID)).Exist(ctx)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, apperr.NotFoundf("address.cityID", "city %d does not exist", a.CityID)
		}
		addr, err := tx.Address.Create().
			SetStreet(strings.TrimSpace(a.Street)).
			SetNillablePostalCode(a.PostalCode).
			SetCityID(a.CityID).
			Save(ctx)
		if err != nil {
			var ve *ent.ValidationError
			if errors.As(err, &ve) {
				e, _ := apperr.As(apperr.Translate(err))
				e.Field = "address." + e.Field
				return nil, e
			}
			return nil, err
		}
		create.SetAddressID(addr.ID)
	}
	return create.Save(ctx)
}
