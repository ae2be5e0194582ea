package store

import (
	"context"
	"strings"

	"github.com/meridian-graphql/meridian/ent"
	"github.com/meridian-graphql/meridian/ent/address"
	"github.com/meridian-graphql/meridian/ent/city"
	"github.com/meridian-graphql/meridian/ent/country"
	"github.com/meridian-graphql/meridian/ent/user"
	"github.com/meridian-graphql/meridian/platform/apperr"
)

// CreateCountry creates a country; the code is upper-cased first.
func (s *Store) CreateCountry(ctx context.Context, in ent.CreateCountryInput) (*ent.Country, error) {
	in.Code = strings.ToUpper(strings.TrimSpace(in.Code))
	in.Name = strings.TrimSpace(in.Name)
	var out *ent.Country
	err := s.tx(ctx, func(tx *ent.Tx) (err error) {
		if out, err = tx.Country.Create().SetInput(in).Save(ctx); err != nil {
			return err
		}
		return s.emit(ctx, tx, "country.created", out)
	}, TagGeo)
	return out, err
}

// UpdateCountry updates a country.
func (s *Store) UpdateCountry(ctx context.Context, id int, in ent.UpdateCountryInput) (*ent.Country, error) {
	if in.Code != nil {
		c := strings.ToUpper(strings.TrimSpace(*in.Code))
		in.Code = &c
	}
	var out *ent.Country
	err := s.tx(ctx, func(tx *ent.Tx) (err error) {
		if out, err = tx.Country.UpdateOneID(id).SetInput(in).Save(ctx); err != nil {
			return notFound(err, "id", "country", id)
		}
		return s.emit(ctx, tx, "country.updated", out)
	}, TagGeo)
	return out, err
}

// DeleteCountry deletes a country that has no cities.
func (s *Store) DeleteCountry(ctx context.Context, id int) error {
	return s.tx(ctx, func(tx *ent.Tx) error {
		if err := exists(ctx, tx.Country.Query().Where(country.ID(id)).Exist, "id", "country", id); err != nil {
			return err
		}
		n, err := tx.City.Query().Where(city.CountryID(id)).Count(ctx)
		if err != nil {
			return err
		}
		if n > 0 {
			return apperr.Conflictf("id", "country %d has %d cities; delete or move them first", id, n)
		}
		if err := tx.Country.DeleteOneID(id).Exec(ctx); err != nil {
			return err
		}
		return s.emit(ctx, tx, "country.deleted", map[string]int{"id": id})
	}, TagGeo)
}

// CreateCity creates a city in an existing country.
func (s *Store) CreateCity(ctx context.Context, in ent.CreateCityInput) (*ent.City, error) {
	var out *ent.City
	err := s.tx(ctx, func(tx *ent.Tx) (err error) {
		if err := exists(ctx, tx.Country.Query().Where(country.ID(in.CountryID)).Exist, "countryID", "country", in.CountryID); err != nil {
			return err
		}
		if out, err = tx.City.Create().SetInput(in).Save(ctx); err != nil {
			return err
		}
		return s.emit(ctx, tx, "city.created", out)
	}, TagGeo)
	return out, err
}

// UpdateCity updates a city.
func (s *Store) UpdateCity(ctx context.Context, id int, in ent.UpdateCityInput) (*ent.City, error) {
	var out *ent.City
	err := s.tx(ctx, func(tx *ent.Tx) (err error) {
		if in.CountryID != nil {
			if err := exists(ctx, tx.Country.Query().Where(country.ID(*in.CountryID)).Exist, "countryID", "country", *in.CountryID); err != nil {
				return err
			}
		}
		if out, err = tx.City.UpdateOneID(id).SetInput(in).Save(ctx); err != nil {
			return notFound(err, "id", "city", id)
		}
		return s.emit(ctx, tx, "city.updated", out)
	}, TagGeo)
	return out, err
}

// DeleteCity deletes a city that has no addresses.
func (s *Store) DeleteCity(ctx context.Context, id int) error {
	return s.tx(ctx, func(tx *ent.Tx) error {
		if err := exists(ctx, tx.City.Query().Where(city.ID(id)).Exist, "id", "city", id); err != nil {
			return err
		}
		n, err := tx.Address.Query().Where(address.CityID(id)).Count(ctx)
		if err != nil {
			return err
		}
		if n > 0 {
			return apperr.Conflictf("id", "city %d has %d addresses; delete or move them first", id, n)
		}
		if err := tx.City.DeleteOneID(id).Exec(ctx); err != nil {
			return err
		}
		return s.emit(ctx, tx, "city.deleted", map[string]int{"id": id})
	}, TagGeo)
}

// CreateAddress creates an address in an existing city.
func (s *Store) CreateAddress(ctx context.Context, in ent.CreateAddressInput) (*ent.Address, error) {
	in.Street = strings.TrimSpace(in.Street)
	var out *ent.Address
	err := s.tx(ctx, func(tx *ent.Tx) (err error) {
		if err := exists(ctx, tx.City.Query().Where(city.ID(in.CityID)).Exist, "cityID", "city", in.CityID); err != nil {
			return err
		}
		if out, err = tx.Address.Create().SetInput(in).Save(ctx); err != nil {
			return err
		}
		return s.emit(ctx, tx, "address.created", out)
	}, TagUsers)
	return out, err
}

// UpdateAddress updates an address.
func (s *Store) UpdateAddress(ctx context.Context, id int, in ent.UpdateAddressInput) (*ent.Address, error) {
	var out *ent.Address
	err := s.tx(ctx, func(tx *ent.Tx) (err error) {
		if in.CityID != nil {
			if err := exists(ctx, tx.City.Query().Where(city.ID(*in.CityID)).Exist, "cityID", "city", *in.CityID); err != nil {
				return err
			}
		}
		if out, err = tx.Address.UpdateOneID(id).SetInput(in).Save(ctx); err != nil {
			return notFound(err, "id", "address", id)
		}
		return s.emit(ctx, tx, "address.updated", out)
	}, TagUsers)
	return out, err
}

// DeleteAddress deletes an address nobody lives at.
func (s *Store) DeleteAddress(ctx context.Context, id int) error {
	return s.tx(ctx, func(tx *ent.Tx) error {
		if err := exists(ctx, tx.Address.Query().Where(address.ID(id)).Exist, "id", "address", id); err != nil {
			return err
		}
		n, err := tx.User.Query().Where(user.AddressID(id)).Count(ctx)
		if err != nil {
			return err
		}
		if n > 0 {
			return apperr.Conflictf("id", "address %d has %d users; move them first", id, n)
		}
		if err := tx.Address.DeleteOneID(id).Exec(ctx); err != nil {
			return err
		}
		return s.emit(ctx, tx, "address.deleted", map[string]int{"id": id})
	}, TagUsers)
}

// exists checks that an entity referenced by field exists.
func exists(ctx context.Context, exist func(context.Context) (bool, error), field, kind string, id int) error {
	ok, err := exist(ctx)
	if err != nil {
		return err
	}
	if !ok {
		return apperr.NotFoundf(field, "%s %d does not exist", kind, id)
	}
	return nil
}

// notFound names the missing entity of an update by id.
func notFound(err error, field, kind string, id int) error {
	if ent.IsNotFound(err) {
		return apperr.NotFoundf(field, "%s %d does not exist", kind, id)
	}
	return err
}
