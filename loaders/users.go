package loaders

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"entgo.io/contrib/entgql"
	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql"
	"github.com/99designs/gqlgen/graphql"
	"github.com/graph-gophers/dataloader/v7"

	"github.com/meridian-graphql/meridian/ent"
	"github.com/meridian-graphql/meridian/ent/address"
	"github.com/meridian-graphql/meridian/ent/city"
	"github.com/meridian-graphql/meridian/ent/user"
	"github.com/meridian-graphql/meridian/platform/apperr"
)

// Place is the parent of a two-hop users edge.
type Place int

// Places users reach through their address.
const (
	InCity Place = iota
	InCountry
)

// MaxFirst caps the page size of the two-hop users edges.
const MaxFirst = 1000

// UsersArgs are the arguments of City.users and Country.users.
type UsersArgs struct {
	After   *entgql.Cursor[int]
	First   *int
	OrderBy *ent.UserOrder
	Where   *ent.UserWhereInput
}

// UsersIn returns the page of users living in the city or country id. All
// calls made for the same query position and arguments while one level of
// the query resolves are answered by one statement: on PostgreSQL a
// LATERAL subquery per parent reads its first+1 users (lateralPerParent),
// elsewhere the users of every parent are numbered per parent by a window
// function and cut at first+1 (limitPerParent).
func (l *Loaders) UsersIn(ctx context.Context, place Place, id int, args UsersArgs) (*ent.UserConnection, error) {
	key, err := usersInKey(ctx, place, args)
	if err != nil {
		return nil, err
	}
	return levelAt(l, ctx, key, id, func(ctx context.Context, ids []int) []*dataloader.Result[*ent.UserConnection] {
		return l.loadUsersIn(ctx, place, ids, args)
	})
}

// usersInKey identifies a query position (the field path without list
// indices) and the arguments, so that one batch serves the same selection.
func usersInKey(ctx context.Context, place Place, args UsersArgs) (string, error) {
	// The raw arguments (variables resolved) identify the page asked for.
	var raw map[string]any
	if fc := graphql.GetFieldContext(ctx); fc != nil && graphql.HasOperationContext(ctx) {
		raw = fc.Field.ArgumentMap(graphql.GetOperationContext(ctx).Variables)
	} else {
		raw = map[string]any{"after": args.After, "first": args.First, "where": args.Where}
	}
	a, err := json.Marshal(raw)
	if err != nil {
		return "", fmt.Errorf("users loader key: %w", err)
	}
	return fmt.Sprintf("%d|%s|%s", place, positionKey(ctx), a), nil
}

func (l *Loaders) loadUsersIn(ctx context.Context, place Place, ids []int, args UsersArgs) []*dataloader.Result[*ent.UserConnection] {
	out := make([]*dataloader.Result[*ent.UserConnection], len(ids))
	conns, err := l.queryUsersIn(ctx, place, ids, args)
	for i, id := range ids {
		if err != nil {
			out[i] = &dataloader.Result[*ent.UserConnection]{Error: err}
			continue
		}
		out[i] = &dataloader.Result[*ent.UserConnection]{Data: conns[id]}
	}
	return out
}

func (l *Loaders) queryUsersIn(ctx context.Context, place Place, ids []int, args UsersArgs) (map[int]*ent.UserConnection, error) {
	return l.queryUsersBy(ctx, place, ids, args, pagePerParent)
}

// perParent turns s (users, filtered by the page's where and cursor
// predicates) into the statement that reads the first limit users of each
// parent in ids, ordered by col then id, with the parent as parent_id.
type perParent func(s *sql.Selector, place Place, ids []int, limit int, col string, desc bool)

// pagePerParent is lateralPerParent on PostgreSQL and windowPerParent
// elsewhere (SQLite has no LATERAL).
func pagePerParent(s *sql.Selector, place Place, ids []int, limit int, col string, desc bool) {
	if s.Dialect() == dialect.Postgres {
		lateralPerParent(s, place, ids, limit, col, desc)
		return
	}
	windowPerParent(s, place, ids, limit, col, desc)
}

// windowPerParent numbers the users of all the parents per parent with
// ROW_NUMBER() and keeps the first limit of each.
func windowPerParent(s *sql.Selector, place Place, ids []int, limit int, col string, desc bool) {
	limitPerParent(s, joinPlace(s, place, ids), limit, col, desc)
}

func (l *Loaders) queryUsersBy(ctx context.Context, place Place, ids []int, args UsersArgs, page perParent) (map[int]*ent.UserConnection, error) {
	first := 100
	if args.First != nil {
		first = *args.First
	}
	if first < 0 || first > MaxFirst {
		return nil, apperr.BadInput("first", "must be between 0 and %d", MaxFirst)
	}
	order := args.OrderBy
	if order == nil {
		order = ent.DefaultUserOrder
	}
	if err := order.Direction.Validate(); err != nil {
		return nil, apperr.BadInput("orderBy.direction", "%v", err)
	}
	col := orderColumn(order)
	q := l.cfg.Client.User.Query()
	if args.Where != nil {
		p, err := args.Where.P()
		switch {
		case errors.Is(err, ent.ErrEmptyUserWhereInput):
		case err != nil:
			return nil, apperr.BadInput("where", "%v", err)
		default:
			q = q.Where(p)
		}
	}
	conns := make(map[int]*ent.UserConnection, len(ids))
	for _, id := range ids {
		conns[id] = &ent.UserConnection{Edges: []*ent.UserEdge{}, PageInfo: ent.PageInfo{HasPreviousPage: args.After != nil}}
	}
	if wantsTotal(ctx) {
		if err := l.countUsersIn(ctx, place, ids, q.Clone(), conns); err != nil {
			return nil, err
		}
	}
	// totalCount ignores the cursor; the page starts after it.
	if args.After != nil {
		for _, p := range entgql.CursorsPredicate(args.After, nil, user.FieldID, col, order.Direction) {
			q = q.Where(p)
		}
	}
	// Eager-load what the query selects below the users (address, orders,
	// …), one statement per level for all parents at once.
	if node := nodeField(ctx); node != nil {
		var err error
		if q, err = q.CollectFields(node, "User"); err != nil {
			return nil, fmt.Errorf("collect user fields: %w", err)
		}
	}
	if first == 0 {
		return conns, nil
	}
	q.Modify(func(s *sql.Selector) {
		page(s, place, ids, first+1, col, order.Direction == entgql.OrderDirectionDesc)
	})
	users, err := q.All(ctx)
	if err != nil {
		return nil, fmt.Errorf("users by %s: %w", placeName(place), err)
	}
	for _, u := range users {
		pid, err := parentID(u)
		if err != nil {
			return nil, err
		}
		c := conns[pid]
		if c == nil {
			continue
		}
		if len(c.Edges) == first {
			c.PageInfo.HasNextPage = true
			continue
		}
		c.Edges = append(c.Edges, &ent.UserEdge{Node: u, Cursor: cursorOf(u, order)})
	}
	for _, c := range conns {
		if n := len(c.Edges); n > 0 {
			c.PageInfo.StartCursor = &c.Edges[0].Cursor
			c.PageInfo.EndCursor = &c.Edges[n-1].Cursor
		}
	}
	return conns, nil
}

// countUsersIn fills TotalCount with one GROUP BY over the same filters.
func (l *Loaders) countUsersIn(ctx context.Context, place Place, ids []int, q *ent.UserQuery, conns map[int]*ent.UserConnection) error {
	var rows []struct {
		ParentID int `sql:"parent_id"`
		Count    int `sql:"count"`
	}
	q.Modify(func(s *sql.Selector) {
		parent := joinPlace(s, place, ids)
		s.Select(sql.As(parent, "parent_id"), sql.As(sql.Count("*"), "count")).GroupBy(parent)
	})
	err := q.Select().Scan(ctx, &rows)
	if err != nil {
		return fmt.Errorf("count users by %s: %w", placeName(place), err)
	}
	for _, r := range rows {
		if c := conns[r.ParentID]; c != nil {
			c.TotalCount = r.Count
		}
	}
	return nil
}

// limitPerParent keeps the first limit rows of each parent, in order. It
// numbers the rows per parent with ROW_NUMBER() in a CTE (entgql's
// LimitPerRow does the same, but drops a selected alias).
func limitPerParent(s *sql.Selector, parent string, limit int, col string, desc bool) {
	d := sql.Dialect(s.Dialect())
	cols := s.UnqualifiedColumns()
	if !slices.Contains(cols, col) {
		// Field collection may have narrowed the columns; the order column
		// is needed by the window and by the cursors.
		s.AppendSelect(s.C(col))
		cols = append(cols, col)
	}
	cols = append(cols, "parent_id")
	s.AppendSelectAs(parent, "parent_id")
	by := sql.Asc
	if desc {
		by = sql.Desc
	}
	terms := []string{by(col)}
	if col != user.FieldID {
		terms = append(terms, by(user.FieldID))
	}
	// The window's terms are built with the query's dialect (quoting).
	exprs := []sql.Querier{orderTerm(col, desc)}
	if col != user.FieldID {
		exprs = append(exprs, orderTerm(user.FieldID, desc))
	}
	with := d.With("src_query").
		As(s.Clone()).
		With("limited_query").
		As(d.Select("*").
			AppendSelectExprAs(sql.RowNumber().PartitionBy("parent_id").OrderExpr(exprs...), "row_number").
			From(d.Table("src_query")))
	t := d.Table("limited_query").As(s.TableName())
	*s = *d.Select(cols...).
		From(t).
		Where(sql.LTE(t.C("row_number"), limit)).
		OrderBy(append([]string{"parent_id"}, terms...)...).
		Prefix(with)
}

// lateralPerParent turns s (users, filtered by the page's where and cursor
// predicates) into one PostgreSQL statement that reads, for each parent id,
// its first limit users in order through the parent's indexes — instead of
// numbering every user of every parent:
//
//	WITH page_query AS (SELECT users.…, p.id AS parent_id
//	  FROM unnest($1::bigint[]) AS p(id)
//	  CROSS JOIN LATERAL (SELECT users.… FROM [cities JOIN] addresses
//	    CROSS JOIN LATERAL (SELECT users.… FROM users WHERE
//	      users.address_id = addresses.id AND <where> AND <cursor>
//	      OFFSET 0) AS users
//	    WHERE <parent> = p.id ORDER BY col, id LIMIT limit) AS users)
//	SELECT … FROM page_query AS users ORDER BY parent_id, col, id
//
// The nested LATERALs pin the plan to the indexes (cities.country_id,
// addresses.city_id, users.address_id) whatever the statistics say (OFFSET
// 0 keeps the planner from flattening the users subquery into a join):
// with a plain join the planner may walk users_pkey in order and test each
// user's parent (10 s for W1's 123 cities on a seeded database never
// analyzed), or hash all the users once per parent (6x slower than
// ROW_NUMBER on the benchmark's unanalyzed 2,000 users).
//
// The rows, their order and their columns are those of limitPerParent. The
// final FROM keeps the name users, like limitPerParent's: entgql's cursor
// predicates resolve their column through s when the statement is rendered.
func lateralPerParent(s *sql.Selector, place Place, ids []int, limit int, col string, desc bool) {
	d := sql.Dialect(s.Dialect())
	p := d.Table("p")
	a := d.Table(address.Table).As("place_a")
	// The address predicate joins the others before s is cloned: a cloned
	// selector whose WHERE is a single comparison may lose its operator
	// (Predicate.clone keeps closures that write to the original).
	s.Where(sql.ColumnsEQ(s.C(user.FieldAddressID), a.C(address.FieldID)))
	users := s.Clone()
	cols := users.UnqualifiedColumns()
	if !slices.Contains(cols, col) {
		// Field collection may have narrowed the columns; the order column
		// is needed by the ORDER BY and by the cursors.
		users.AppendSelect(users.C(col))
		cols = append(cols, col)
	}
	alias := s.TableName()
	t := d.Table(alias)
	by := sql.Asc
	if desc {
		by = sql.Desc
	}
	terms := []string{by(col)}
	if col != user.FieldID {
		terms = append(terms, by(user.FieldID))
	}
	parent := a.C(address.FieldCityID)
	if place == InCountry {
		parent = d.Table(city.Table).As("place_c").C(city.FieldCountryID)
	}
	page := d.Select()
	for _, c := range cols {
		page.AppendSelect(t.C(c))
	}
	page.FromExpr(sql.ExprFunc(func(b *sql.Builder) {
		if place == InCountry {
			b.Ident(city.Table).WriteString(" AS ").Ident("place_c").WriteString(" JOIN ")
		}
		b.Ident(address.Table).WriteString(" AS ").Ident("place_a")
		if place == InCountry {
			b.WriteString(" ON ").Ident(a.C(address.FieldCityID)).WriteString(" = ").Ident(d.Table(city.Table).As("place_c").C(city.FieldID))
		}
		b.WriteString(" CROSS JOIN LATERAL ")
		b.Wrap(func(b *sql.Builder) { b.Join(users.Offset(0)) })
		b.WriteString(" AS ").Ident(alias)
	})).
		Where(sql.ColumnsEQ(parent, p.C("id"))).
		OrderBy(terms...).
		Limit(limit)
	ids64 := make([]int64, len(ids))
	for i, id := range ids {
		ids64[i] = int64(id)
	}
	lateral := d.Select()
	for _, c := range cols {
		lateral.AppendSelect(t.C(c))
	}
	lateral.AppendSelectAs(p.C("id"), "parent_id").
		FromExpr(sql.ExprFunc(func(b *sql.Builder) {
			b.WriteString("unnest(").Arg(ids64).WriteString("::bigint[]) AS ").Ident("p").
				WriteString("(").Ident("id").WriteString(") CROSS JOIN LATERAL ")
			b.Wrap(func(b *sql.Builder) { b.Join(page) })
			b.WriteString(" AS ").Ident(alias)
		}))
	with := d.With("page_query").As(lateral)
	*s = *d.Select(append(cols, "parent_id")...).
		From(d.Table("page_query").As(alias)).
		OrderBy(append([]string{"parent_id"}, terms...)...).
		Prefix(with)
}

func orderTerm(col string, desc bool) sql.Querier {
	return sql.ExprFunc(func(b *sql.Builder) {
		b.Ident(col)
		if desc {
			b.WriteString(" DESC")
		} else {
			b.WriteString(" ASC")
		}
	})
}

// joinPlace joins the user's address (and city) and keeps the users of the
// given parents; it returns the parent id column.
func joinPlace(s *sql.Selector, place Place, ids []int) string {
	parent := joinParent(s, place)
	s.Where(sql.InInts(parent, ids...))
	return parent
}

// joinParent joins the user's address (and city); it returns the parent id
// column.
func joinParent(s *sql.Selector, place Place) string {
	a := sql.Table(address.Table).As("place_a")
	s.Join(a).On(s.C(user.FieldAddressID), a.C(address.FieldID))
	parent := a.C(address.FieldCityID)
	if place == InCountry {
		c := sql.Table(city.Table).As("place_c")
		s.Join(c).On(a.C(address.FieldCityID), c.C(city.FieldID))
		parent = c.C(city.FieldCountryID)
	}
	return parent
}

func parentID(u *ent.User) (int, error) {
	v, err := u.Value("parent_id")
	if err != nil {
		return 0, fmt.Errorf("users loader: %w", err)
	}
	switch n := v.(type) {
	case int64:
		return int(n), nil
	case int:
		return n, nil
	case float64:
		return int(n), nil
	}
	return 0, fmt.Errorf("users loader: parent_id has type %T", v)
}

// orderColumn is the column of an order field: entgql names the order
// fields after the upper-cased column (CREATED_AT → created_at).
func orderColumn(o *ent.UserOrder) string {
	if o.Field == nil {
		return user.FieldID
	}
	col := strings.ToLower(o.Field.String())
	if !user.ValidColumn(col) {
		return user.FieldID
	}
	return col
}

func cursorOf(u *ent.User, o *ent.UserOrder) entgql.Cursor[int] {
	c := entgql.Cursor[int]{ID: u.ID}
	if o.Field != nil && orderColumn(o) != user.FieldID {
		if v, err := o.Field.Value(u); err == nil {
			c.Value = v
		}
	}
	return c
}

func placeName(p Place) string {
	if p == InCountry {
		return "country"
	}
	return "city"
}

// nodeField returns a context whose field is the connection's edges.node
// selection, so that ent's field collection can eager-load below the users.
func nodeField(ctx context.Context) context.Context {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil {
		return nil
	}
	oc := graphql.GetOperationContext(ctx)
	for _, e := range graphql.CollectFields(oc, fc.Field.Selections, nil) {
		if e.Name != "edges" {
			continue
		}
		for _, n := range graphql.CollectFields(oc, e.Selections, nil) {
			if n.Name == "node" {
				return graphql.WithFieldContext(ctx, &graphql.FieldContext{Parent: fc, Object: "UserEdge", Field: n})
			}
		}
	}
	return nil
}

// wantsTotal reports whether the connection's totalCount is selected.
func wantsTotal(ctx context.Context) bool {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil {
		return true
	}
	for _, f := range graphql.CollectFields(graphql.GetOperationContext(ctx), fc.Field.Selections, nil) {
		if f.Name == "totalCount" {
			return true
		}
	}
	return false
}
