package sqlread

import (
	"context"
	"strconv"
	"strings"

	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql"
	"github.com/99designs/gqlgen/graphql"

	"github.com/meridian-graphql/meridian/ent/address"
	"github.com/meridian-graphql/meridian/ent/city"
)

// compiler writes one statement into b. Each method reports whether it
// could; the first false abandons the whole statement (the caller hands the
// field to the resolvers), so nothing half-written is ever run.
type compiler struct {
	ctx    context.Context
	oc     *graphql.OperationContext
	schema *schema
	b      *sql.Builder
	n      int
	// joins are the to-one edges of the rows being written: LEFT JOINs
	// on the primary key, which the statement lists after those rows'
	// FROM item (PostgreSQL runs them 1.75× faster than a subquery per
	// row and edge: W4 3,270-3,770 → 5,780-6,610 tps).
	joins *[]string
	// correlated counts the connections under a parent row being written:
	// their rows are read once per parent.
	correlated int
}

// scope starts the to-one joins of a new row source; end hands them back
// to be written after its FROM item.
func (c *compiler) scope() (end func() []string) {
	saved, js := c.joins, []string{}
	c.joins = &js
	return func() []string {
		c.joins = saved
		return js
	}
}

func (c *compiler) writeJoins(js []string) {
	for _, j := range js {
		c.b.WriteString(j)
	}
}

// compile returns the statement answering the root field f, or ok false
// when f is not a shape the compiler answers exactly.
func compile(ctx context.Context, oc *graphql.OperationContext, s *schema, f graphql.CollectedField) (query string, args []any, ok bool) {
	r, found := s.roots[f.Name]
	if !found || !plain(f) {
		return "", nil, false
	}
	b := &sql.Builder{}
	b.SetDialect(dialect.Postgres)
	c := &compiler{ctx: ctx, oc: oc, schema: s, b: b}
	raw := f.ArgumentMap(oc.Variables)
	e := s.entities[r.target]
	b.WriteString("SELECT ")
	switch r.kind {
	case rootLookup:
		v, isString := raw[r.arg].(string)
		if !isString {
			return "", nil, false
		}
		if r.normalise != nil {
			v = r.normalise(v)
		}
		a := c.alias()
		b.WriteString("(SELECT ")
		end := c.scope()
		if !c.object(r.target, a, f) {
			return "", nil, false
		}
		b.WriteString(" FROM ").Ident(e.table).WriteString(" AS ").Ident(a)
		c.writeJoins(end())
		b.WriteString(" WHERE ").Ident(a).WriteByte('.').Ident(r.column).WriteString(" = ").Arg(v).
			WriteString(")")
	case rootConnection:
		pg, pageOK := c.page(e, raw, defaultRootPage, maxPage)
		if !pageOK || !c.connection(r.target, f, source{e: e}, pg) {
			return "", nil, false
		}
	}
	query, args = b.Query()
	return query, args, b.Err() == nil
}

func (c *compiler) alias() string {
	a := "m" + strconv.Itoa(c.n)
	c.n++
	return a
}

// plain reports whether f carries nothing the compiler would have to
// honour beyond its arguments: no schema directive (@hasRole, @cached,
// …), no query directive other than the @skip/@include that field
// collection already applied, no @defer.
func plain(f graphql.CollectedField) bool {
	if f.Definition == nil || len(f.Definition.Directives) > 0 || len(f.Deferrables) > 0 {
		return false
	}
	for _, d := range f.Directives {
		if d.Name != "skip" && d.Name != "include" {
			return false
		}
	}
	return true
}

// fields collects the selection of f on the object type typ, as the
// executor does (fragments merged, @skip/@include applied). More than 50
// keys would pass json_build_object's 100 arguments.
func (c *compiler) fields(f graphql.CollectedField, typ string) ([]graphql.CollectedField, bool) {
	fs := graphql.CollectFields(c.oc, f.Selections, c.schema.satisfies(typ))
	if len(fs) == 0 || len(fs) > 50 {
		return nil, false
	}
	for _, sf := range fs {
		if !plain(sf) && sf.Name != "__typename" {
			return nil, false
		}
		if !isName(sf.Alias) {
			return nil, false
		}
	}
	return fs, true
}

// key writes a JSON key: a GraphQL name, which needs no quoting beyond
// the literal's.
func (c *compiler) key(name string) {
	c.b.WriteString("'" + name + "', ")
}

func (c *compiler) text(s string) {
	c.b.WriteString("'" + s + "'::text")
}

func isName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		switch {
		case r == '_', r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z':
		case r >= '0' && r <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

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

// source is where a connection's rows come from: an entity's table, under
// a parent row when edge is set.
type source struct {
	e      entity
	edge   *edge
	parent string
}

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
