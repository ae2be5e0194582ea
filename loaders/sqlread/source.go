// Row sources: where a connection's rows come from (a table, or a place's
// users through their addresses), the conditions tying them to the parent
// and the where filter, and their order.

package sqlread

import (
	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql"

	"github.com/meridian-graphql/meridian/ent/address"
	"github.com/meridian-graphql/meridian/ent/city"
)

// source is where a connection's rows come from: an entity's table, under
// a parent row when edge is set.
type source struct {
	e      entity
	edge   *edge
	parent string
}

// viaAddress writes the users of src's place aliased in: FROM its
// addresses, each one's users, WHERE under the parent.
func (c *compiler) viaAddress(src source, pg page, in string) {
	a := in + "_a"
	c.b.Ident(address.Table).WriteString(" AS ").Ident(a)
	if src.edge.country {
		c.b.WriteString(" JOIN ").Ident(city.Table).WriteString(" AS ").Ident(in + "_c").
			WriteString(" ON ").Ident(in + "_c").WriteString(`."id" = `)
		c.col(a, address.FieldCityID)
	}
	c.b.WriteString(" CROSS JOIN LATERAL (SELECT ").Ident(in).WriteString(".* FROM ").
		Ident(src.e.table).WriteString(" AS ").Ident(in).WriteString(" WHERE ")
	c.col(in, "address_id").WriteString(" = ")
	c.col(a, "id")
	c.where(src, pg, in)
	c.b.WriteString(" OFFSET 0) AS ").Ident(in).WriteString(" WHERE ")
	c.parentCond(src, in)
}

// from writes the rows of src under the alias a: the entity's table, and
// for a place's users the hop through their address (and city).
func (c *compiler) from(src source, a string) {
	c.b.Ident(src.e.table).WriteString(" AS ").Ident(a)
	if src.edge == nil || src.edge.kind != viaAddress {
		return
	}
	c.b.WriteString(" JOIN ").Ident(address.Table).WriteString(" AS ").Ident(a + "_a").
		WriteString(" ON ").Ident(a + "_a").WriteString(`."id" = `)
	c.col(a, "address_id")
	if src.edge.country {
		c.b.WriteString(" JOIN ").Ident(city.Table).WriteString(" AS ").Ident(a + "_c").
			WriteString(" ON ").Ident(a + "_c").WriteString(`."id" = `)
		c.col(a+"_a", address.FieldCityID)
	}
}

// conds writes the condition on src's rows aliased a: under the parent,
// and the where argument through ent's own predicates.
func (c *compiler) conds(src source, pg page, a string) {
	if src.edge != nil {
		c.parentCond(src, a)
	} else {
		c.b.WriteString("TRUE")
	}
	c.where(src, pg, a)
}

// parentCond writes the condition that ties src's rows aliased a to the
// parent row.
func (c *compiler) parentCond(src source, a string) {
	switch ed := src.edge; {
	case ed.kind == toMany:
		c.col(a, ed.column)
	case ed.country:
		c.col(a+"_c", city.FieldCountryID)
	default:
		c.col(a+"_a", address.FieldCityID)
	}
	c.b.WriteString(" = ")
	c.col(src.parent, "id")
}

// where writes " AND (…)" with the where argument on the rows aliased a,
// through ent's own predicates; nothing without one.
func (c *compiler) where(src source, pg page, a string) {
	if pg.where != nil {
		s := sql.Dialect(dialect.Postgres).Select().From(sql.Table(src.e.table).As(a))
		pg.where(s)
		if p := s.P(); p != nil {
			c.b.WriteString(" AND (").Join(p).WriteString(")")
		}
	}
}

// order writes the page's order on the rows aliased a: the order column,
// then the id, in one direction, as entgql and the users loader order.
func (c *compiler) order(a string, pg page) {
	dir := " ASC"
	if pg.desc {
		dir = " DESC"
	}
	c.col(a, pg.col).WriteString(dir)
	if pg.col != "id" {
		c.b.WriteString(", ")
		c.col(a, "id").WriteString(dir)
	}
}
