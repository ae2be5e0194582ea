// Objects: a row as json_build_object, its scalar columns formatted as
// gqlgen marshals them, and its edges (to-one as joins, to-many as
// connections).

package sqlread

import (
	"strings"

	"entgo.io/ent/dialect/sql"
	"github.com/99designs/gqlgen/graphql"
)

// object writes the JSON object of the row aliased a, of type typ, with the
// selection of f.
func (c *compiler) object(typ, a string, f graphql.CollectedField) bool {
	e, known := c.schema.entities[typ]
	if !known {
		return false
	}
	return c.jsonObject(f, typ, func(sf graphql.CollectedField) bool {
		if ed, isEdge := e.edges[sf.Name]; isEdge {
			return c.edge(ed, a, sf)
		}
		return c.scalar(e, a, sf)
	})
}

// jsonObject writes json_build_object over the selection of f on typ: each
// field's key, then its value, written by value (false: not compiled);
// __typename is the type's name.
func (c *compiler) jsonObject(f graphql.CollectedField, typ string, value func(graphql.CollectedField) bool) bool {
	fs, ok := c.fields(f, typ)
	if !ok {
		return false
	}
	c.b.WriteString("json_build_object(")
	for i, sf := range fs {
		if i > 0 {
			c.b.WriteString(", ")
		}
		c.key(sf.Alias)
		if sf.Name == "__typename" {
			c.text(typ)
			continue
		}
		if !value(sf) {
			return false
		}
	}
	c.b.WriteString(")")
	return true
}

// scalar writes one column, formatted as gqlgen marshals its type.
func (c *compiler) scalar(e entity, a string, f graphql.CollectedField) bool {
	t := f.Definition.Type
	if len(f.Selections) > 0 || t.Elem != nil {
		return false
	}
	col := column(f.Name)
	if !e.column(col) {
		return false
	}
	switch t.NamedType {
	case "ID":
		// graphql.IntID marshals as a JSON string.
		c.col(a, col).WriteString("::text")
	case "String", "Int", "Float", "Boolean":
		c.col(a, col)
	case "Time":
		// time.RFC3339Nano in UTC: microseconds without trailing zeros.
		c.b.WriteString("rtrim(rtrim(to_char(")
		c.col(a, col).WriteString(` AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US'), '0'), '.') || 'Z'`)
	default:
		return false
	}
	return true
}

func (c *compiler) col(a, col string) *sql.Builder {
	return c.b.Ident(a).WriteByte('.').Ident(col)
}

// column is the snake_case column entc derives a GraphQL field name from
// (postalCode → postal_code, cityID → city_id).
func column(name string) string {
	if len(name) > 2 && strings.HasSuffix(name, "ID") {
		return column(name[:len(name)-2]) + "_id"
	}
	var sb strings.Builder
	for _, r := range name {
		if r >= 'A' && r <= 'Z' {
			sb.WriteByte('_')
			r += 'a' - 'A'
		}
		sb.WriteRune(r)
	}
	return sb.String()
}

// edge writes an edge of the row aliased parent.
func (c *compiler) edge(ed edge, parent string, f graphql.CollectedField) bool {
	target := c.schema.entities[ed.target]
	if ed.kind == toOne {
		// Joined to the parent's rows; a missing row (a null foreign
		// key) is a null object.
		a := c.alias()
		join := ` LEFT JOIN "` + target.table + `" AS "` + a + `" ON "` + a + `"."id" = "` + parent + `"."` + ed.column + `"`
		if c.correlated > 0 {
			// Under a parent, the join runs once per parent row: fenced,
			// it stays an index probe per row, where a plain join on a
			// small table becomes a hash of the whole table per parent
			// (BenchmarkFourLevelQuery 35 → 18 ms). At the top, run
			// once, the plain join lets the planner choose (W4: 4,200 →
			// 7,200 tps).
			join = ` LEFT JOIN LATERAL (SELECT * FROM "` + target.table + `" AS "` + a + `" WHERE "` + a + `"."id" = "` + parent + `"."` + ed.column + `" OFFSET 0) AS "` + a + `" ON TRUE`
		}
		*c.joins = append(*c.joins, join)
		nullable := !f.Definition.Type.NonNull
		if nullable {
			c.b.WriteString("CASE WHEN ").Ident(a).WriteString(`."id" IS NULL THEN NULL ELSE `)
		}
		if !c.object(ed.target, a, f) {
			return false
		}
		if nullable {
			c.b.WriteString(" END")
		}
		return true
	}
	def, max := -1, maxPage
	if ed.kind == viaAddress {
		def, max = defaultUsersPage, maxUsersPage
	}
	pg, ok := c.page(target, f.ArgumentMap(c.oc.Variables), def, max)
	if !ok {
		return false
	}
	return c.connection(ed.target, f, source{e: target, edge: &ed, parent: parent}, pg)
}
