// Connections and pagination: a connection's arguments (first, orderBy,
// where) and its totalCount, edges and pageInfo.

package sqlread

import (
	"strconv"
	"strings"

	"entgo.io/ent/dialect/sql"
	"github.com/99designs/gqlgen/graphql"
)

// page is a connection's arguments.
type page struct {
	limit int // -1: every row
	col   string
	desc  bool
	where func(*sql.Selector)
}

// page reads first, orderBy and where as the resolvers would; def is the
// page size without first (-1: all rows). Cursors, last, first: 0 and out
// of range sizes are left to the resolvers.
func (c *compiler) page(e entity, raw map[string]any, def, max int) (page, bool) {
	pg := page{limit: def, col: "id"}
	for _, name := range []string{"after", "before", "last"} {
		if raw[name] != nil {
			return pg, false
		}
	}
	if v := raw["first"]; v != nil {
		n, err := graphql.UnmarshalInt(v)
		if err != nil || n <= 0 || n > max {
			return pg, false
		}
		pg.limit = n
	}
	if v := raw["orderBy"]; v != nil {
		o, isMap := v.(map[string]any)
		if !isMap {
			return pg, false
		}
		field, _ := o["field"].(string)
		// LAST_ACTIVE_AT orders by a computed column (users.last_active_order)
		// on root connections but by last_active_at under a place: left to
		// the resolvers.
		col := strings.ToLower(field)
		if field == "" || field == "LAST_ACTIVE_AT" || !e.column(col) {
			return pg, false
		}
		pg.col = col
		switch d := o["direction"]; d {
		case nil, "ASC":
		case "DESC":
			pg.desc = true
		default:
			return pg, false
		}
	}
	if v := raw["where"]; v != nil {
		p, err := e.where(c.ctx, v)
		if err != nil {
			return pg, false
		}
		pg.where = p
	}
	return pg, true
}

// connection writes the connection object of f over src.
func (c *compiler) connection(target string, f graphql.CollectedField, src source, pg page) bool {
	return c.jsonObject(f, f.Definition.Type.Name(), func(sf graphql.CollectedField) bool {
		switch sf.Name {
		case "totalCount":
			a := c.alias()
			c.b.WriteString("(SELECT count(*) FROM ")
			c.from(src, a)
			c.b.WriteString(" WHERE ")
			c.conds(src, pg, a)
			c.b.WriteString(")")
			return true
		case "pageInfo":
			return c.pageInfo(sf, src, pg)
		case "edges":
			return c.edges(target, sf, src, pg)
		}
		return false
	})
}

// edges writes the page's edges in order; a cursor is left to the
// resolvers (entgql encodes it).
func (c *compiler) edges(target string, f graphql.CollectedField, src source, pg page) bool {
	m, in := c.alias(), c.alias()
	end := c.scope()
	if src.edge != nil {
		c.correlated++
		defer func() { c.correlated-- }()
	}
	c.b.WriteString("COALESCE((SELECT json_agg(")
	if !c.jsonObject(f, f.Definition.Type.Name(), func(sf graphql.CollectedField) bool {
		return sf.Name == "node" && c.object(target, m, sf)
	}) {
		return false
	}
	c.b.WriteString(" ORDER BY ")
	c.order(m, pg)
	c.b.WriteString(") FROM (SELECT ").Ident(in).WriteString(".* FROM ")
	if src.edge != nil && src.edge.kind == viaAddress {
		// The place's addresses, then each one's users in a LATERAL
		// fenced by OFFSET 0, then the order and LIMIT: PostgreSQL then
		// reads them over address_city_id_id and user_address_id whatever
		// the table sizes. A plain join under the LIMIT walked users in the
		// order's index (users_pkey, …) probing each one's address — 10 s
		// for W1 — and on small tables hashed every user once per parent
		// (BenchmarkFourLevelQuery: 91 ms).
		c.viaAddress(src, pg, in)
	} else {
		c.from(src, in)
		c.b.WriteString(" WHERE ")
		c.conds(src, pg, in)
	}
	c.b.WriteString(" ORDER BY ")
	c.order(in, pg)
	if pg.limit >= 0 {
		c.b.WriteString(" LIMIT " + strconv.Itoa(pg.limit))
	}
	c.b.WriteString(") AS ").Ident(m)
	c.writeJoins(end())
	c.b.WriteString("), '[]'::json)")
	return true
}

func (c *compiler) pageInfo(f graphql.CollectedField, src source, pg page) bool {
	return c.jsonObject(f, "PageInfo", func(sf graphql.CollectedField) bool {
		switch sf.Name {
		case "hasPreviousPage":
			c.b.WriteString("false") // no cursor: the first page
			return true
		case "hasNextPage":
			if pg.limit < 0 {
				c.b.WriteString("false")
				return true
			}
			a := c.alias()
			c.b.WriteString("EXISTS (SELECT 1 FROM ")
			c.from(src, a)
			c.b.WriteString(" WHERE ")
			c.conds(src, pg, a)
			// More rows than the page, in any order.
			c.b.WriteString(" OFFSET " + strconv.Itoa(pg.limit) + ")")
			return true
		}
		return false
	})
}
