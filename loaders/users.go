package loaders

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"entgo.io/contrib/entgql"
	"entgo.io/ent/dialect/sql"
	"github.com/99designs/gqlgen/graphql"
	"github.com/graph-gophers/dataloader/v7"

	"meridian/apperr"
	"meridian/ent"
	"meridian/ent/address"
	"meridian/ent/city"
	"meridian/ent/user"
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
// the query resolves are answered by one statement: the users of every
// parent, numbered per parent by a window function and cut at first+1.
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
		limitPerParent(s, joinPlace(s, place, ids), first+1, col, order.Direction == entgql.OrderDirectionDesc)
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
	a := sql.Table(address.Table).As("place_a")
	s.Join(a).On(s.C(user.FieldAddressID), a.C(address.FieldID))
	parent := a.C(address.FieldCityID)
	if place == InCountry {
		c := sql.Table(city.Table).As("place_c")
		s.Join(c).On(a.C(address.FieldCityID), c.C(city.FieldID))
		parent = c.C(city.FieldCountryID)
	}
	s.Where(sql.InInts(parent, ids...))
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
