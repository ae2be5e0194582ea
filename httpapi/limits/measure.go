package limits

import (
	"math"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
)

// Report is what Measure found in one operation.
type Report struct {
	// Depth is the deepest field nesting; root fields are at depth 1.
	Depth int
	// Cost estimates the fields the operation resolves; see Measure.
	Cost int
	// Aliases counts the fields selected under an alias other than their
	// name, with fragments expanded.
	Aliases int
	// Page is the largest page-size argument the client passed, nil when it
	// passed none. Schema defaults are not client input and do not count.
	Page *PageArg
	// Introspection is the first __schema or __type field selected, nil when
	// there is none.
	Introspection *ast.Field
	// IntrospectionDepth is the deepest nesting under __schema or __type,
	// the introspection field included; 0 without introspection. It is kept
	// apart from Depth because the introspection clients send (GraphiQL's
	// nine nested ofType) is deeper than most limits; see Config.Check.
	IntrospectionDepth int
}

// PageArg is one page-size argument as the client passed it.
type PageArg struct {
	// Field is "Type.field" of the field the argument belongs to.
	Field string
	// Arg is the argument name, e.g. "first".
	Arg string
	// Value is the argument value, saturated to the int range.
	Value    int
	Position *ast.Position
}

// Measure analyses op, an operation of doc, with the request variables vars.
// doc should have been validated against schema, which fills in the field
// definitions that tell lists from single values; without them every field
// counts as a single value.
//
// The cost counts 1 per field. The selections under a list field count once
// per element, the element count being the page size: the field's page-size
// argument (literal, variable, or the schema default), else
// cfg.ListSizes["Type.field"], else cfg.DefaultListSize. A connection — a
// field whose type has a list field named edges, as entgql generates —
// takes the page size from its own arguments and lends it to its list
// children (edges, nodes), so `users(first: 10) { edges { node { id } } }`
// multiplies the node subtree by 10 once, while pageInfo and totalCount
// count once. A list of scalars costs 1. A list field without a page size
// that takes a list argument — nodes(ids:) — resolves up to one element per
// item of it, so its element count is the longest such list (literal or
// variable) when that exceeds the assumed page size.
//
// Introspection fields (__schema, __type) count as one field each towards
// the cost: their size is bounded by the schema, not by the client. Their
// depth is not bounded by anything but the query (ofType nests as deep as
// the client writes), so it is measured, into IntrospectionDepth, and their
// aliases count. @skip and @include are ignored, so the estimate is an upper
// bound.
//
// Measure never fails: a document that is not valid (an unknown fragment, a
// fragment cycle) is measured as far as it makes sense, and validation
// reports it anyway.
func Measure(schema *ast.Schema, doc *ast.QueryDocument, op *ast.OperationDefinition, vars map[string]any, cfg Config) Report {
	var r Report
	if op == nil {
		return r
	}
	w := walker{
		schema:   schema,
		doc:      doc,
		vars:     vars,
		cfg:      &cfg,
		pageArgs: cfg.pageArgs(),
		report:   &r,
		memo:     map[memoKey]measure{},
		active:   map[string]bool{},
		conn:     map[string]bool{},
	}
	m := w.selections(op.SelectionSet, noLent)
	r.Depth, r.Cost, r.Aliases = m.depth, m.cost, m.aliases
	return r
}

// noLent is the lent page size outside connections. It is not 0 because
// `first: 0` is a page size too.
const noLent = -1

// measure is the result of one selection set.
type measure struct {
	depth, cost, aliases int
}

// memoKey identifies a fragment measured with the page size lent by an
// enclosing connection: the only context its measure depends on.
type memoKey struct {
	fragment string
	lent     int
}

// walker carries the state of one Measure call; nothing outlives it.
type walker struct {
	schema   *ast.Schema
	doc      *ast.QueryDocument
	vars     map[string]any
	cfg      *Config
	pageArgs []string
	report   *Report

	// memo makes each fragment cost one walk per context however often it
	// is spread, which keeps "fragment bombs" (A spreads B twice, B spreads
	// C twice, ...) linear.
	memo map[memoKey]measure
	// active holds the fragments being walked, to stop at a cycle instead of
	// recursing forever should one get past validation.
	active map[string]bool
	// conn caches whether a type name is a connection.
	conn map[string]bool
}

// selections measures a selection set. lent is the page size an enclosing
// connection lends to its list fields, noLent when none.
func (w *walker) selections(set ast.SelectionSet, lent int) measure {
	var m measure
	for _, sel := range set {
		var c measure
		switch s := sel.(type) {
		case *ast.Field:
			c = w.field(s, lent)
		case *ast.InlineFragment:
			c = w.selections(s.SelectionSet, lent)
		case *ast.FragmentSpread:
			c = w.spread(s, lent)
		}
		m.depth = max(m.depth, c.depth)
		m.cost = addSat(m.cost, c.cost)
		m.aliases = addSat(m.aliases, c.aliases)
	}
	return m
}

func (w *walker) spread(s *ast.FragmentSpread, lent int) measure {
	def := s.Definition
	if def == nil && w.doc != nil {
		def = w.doc.Fragments.ForName(s.Name)
	}
	if def == nil {
		return measure{}
	}
	key := memoKey{def.Name, lent}
	if m, ok := w.memo[key]; ok {
		return m
	}
	if w.active[def.Name] {
		return measure{}
	}
	w.active[def.Name] = true
	m := w.selections(def.SelectionSet, lent)
	delete(w.active, def.Name)
	w.memo[key] = m
	return m
}

func (w *walker) field(f *ast.Field, lent int) measure {
	m := measure{depth: 1, cost: 1}
	if f.Alias != "" && f.Alias != f.Name {
		m.aliases = 1
	}
	if f.Name == "__schema" || f.Name == "__type" {
		if w.report.Introspection == nil {
			w.report.Introspection = f
		}
		c := w.selections(f.SelectionSet, noLent)
		w.report.IntrospectionDepth = max(w.report.IntrospectionDepth, 1+c.depth)
		m.aliases = addSat(m.aliases, c.aliases)
		return m
	}

	page, hasPage := w.pageSize(f)
	var isList, isConn bool
	if def := f.Definition; def != nil && def.Type != nil {
		isList = def.Type.Elem != nil
		isConn = !isList && w.isConnection(def.Type.Name())
	}

	size := 1 // how many times the children are resolved
	childLent := noLent
	switch {
	case isConn:
		// The connection object itself is resolved once; its page size
		// goes to the edges/nodes lists below it.
		childLent = page
		if !hasPage {
			childLent = w.listSize(f)
		}
	case isList && hasPage:
		size = page
	case isList && lent != noLent:
		size = lent
	case isList:
		size = max(w.listSize(f), w.longestListArg(f))
	}

	c := w.selections(f.SelectionSet, childLent)
	m.depth += c.depth
	m.cost = addSat(m.cost, mulSat(size, c.cost))
	m.aliases = addSat(m.aliases, c.aliases)
	return m
}

// pageSize returns the page size f asks for: the largest of its page-size
// arguments, from the request or else from the schema default. It records
// the request's values in the report for the MaxFirst check.
func (w *walker) pageSize(f *ast.Field) (int, bool) {
	if len(f.Arguments) == 0 && (f.Definition == nil || len(f.Definition.Arguments) == 0) {
		return 0, false // most fields: nothing to look up
	}
	size, found := 0, false
	for _, name := range w.pageArgs {
		v, explicit, ok := w.argInt(f, name)
		if !ok {
			continue
		}
		if explicit {
			if p := w.report.Page; p == nil || v > p.Value {
				w.report.Page = &PageArg{Field: fieldKey(f), Arg: name, Value: v, Position: f.Position}
				if a := f.Arguments.ForName(name); a != nil && a.Position != nil {
					w.report.Page.Position = a.Position
				}
			}
		}
		if !found || v > size {
			size, found = v, true
		}
	}
	return max(size, 0), found
}

// argInt returns the integer value of f's argument name and whether the
// request set it (rather than the schema default). ok is false when the
// argument is absent, null or not a number.
func (w *walker) argInt(f *ast.Field, name string) (v int, explicit, ok bool) {
	if a := f.Arguments.ForName(name); a != nil && a.Value != nil {
		var raw any
		if a.Value.Kind == ast.Variable {
			var set bool
			raw, set = w.vars[a.Value.Raw]
			if !set && a.Value.VariableDefinition != nil && a.Value.VariableDefinition.DefaultValue != nil {
				raw, _ = a.Value.VariableDefinition.DefaultValue.Value(nil)
			}
		} else {
			raw, _ = a.Value.Value(w.vars)
		}
		if v, ok := toInt(raw); ok {
			return v, true, true
		}
	}
	if f.Definition == nil {
		return 0, false, false
	}
	if d := f.Definition.Arguments.ForName(name); d != nil && d.DefaultValue != nil {
		raw, _ := d.DefaultValue.Value(nil)
		if v, ok := toInt(raw); ok {
			return v, false, true
		}
	}
	return 0, false, false
}

// longestListArg returns the length of f's longest list argument, literal
// or from a variable (a variable's default when the request leaves it out);
// 0 when f has none.
func (w *walker) longestListArg(f *ast.Field) int {
	n := 0
	for _, a := range f.Arguments {
		if a.Value == nil {
			continue
		}
		switch a.Value.Kind {
		case ast.ListValue:
			n = max(n, len(a.Value.Children))
		case ast.Variable:
			raw, set := w.vars[a.Value.Raw]
			if !set && a.Value.VariableDefinition != nil && a.Value.VariableDefinition.DefaultValue != nil {
				raw, _ = a.Value.VariableDefinition.DefaultValue.Value(nil)
			}
			if l, ok := raw.([]any); ok {
				n = max(n, len(l))
			}
		}
	}
	return n
}

// isConnection reports whether the named type is a Relay connection: an
// object or interface with a list field called edges.
func (w *walker) isConnection(name string) bool {
	if c, ok := w.conn[name]; ok {
		return c
	}
	var c bool
	if w.schema != nil {
		if def := w.schema.Types[name]; def != nil {
			edges := def.Fields.ForName("edges")
			c = edges != nil && edges.Type != nil && edges.Type.Elem != nil
		}
	} else {
		// Without the schema, the entgql naming convention is the best
		// evidence left.
		c = strings.HasSuffix(name, "Connection")
	}
	w.conn[name] = c
	return c
}

// listSize returns the page size assumed for list field f when the request
// gives none.
func (w *walker) listSize(f *ast.Field) int {
	if len(w.cfg.ListSizes) == 0 {
		return w.cfg.listSize("") // skip building the key
	}
	return w.cfg.listSize(fieldKey(f))
}

// fieldKey returns "Type.field" for f, the key of Config.ListSizes.
func fieldKey(f *ast.Field) string {
	if f.ObjectDefinition == nil {
		return f.Name
	}
	return f.ObjectDefinition.Name + "." + f.Name
}

// toInt converts a decoded GraphQL Int (int64 from literals and coerced
// variables, other numeric kinds from callers that build vars by hand) to
// an int, saturating rather than wrapping so that a huge value stays huge.
func toInt(v any) (int, bool) {
	switch n := v.(type) {
	case int:
		return n, true
	case int8:
		return int(n), true
	case int16:
		return int(n), true
	case int32:
		return int(n), true
	case int64:
		return int(n), true // int is 64 bits on every supported platform
	case uint:
		return satUint(uint64(n)), true
	case uint8:
		return int(n), true
	case uint16:
		return int(n), true
	case uint32:
		return int(n), true
	case uint64:
		return satUint(n), true
	case float32:
		return satFloat(float64(n))
	case float64:
		return satFloat(n)
	case interface{ Int64() (int64, error) }: // json.Number
		if i, err := n.Int64(); err == nil {
			return int(i), true
		}
		if f, ok := v.(interface{ Float64() (float64, error) }); ok {
			if x, err := f.Float64(); err == nil {
				return satFloat(x)
			}
		}
	}
	return 0, false
}

func satUint(n uint64) int {
	if n > math.MaxInt {
		return math.MaxInt
	}
	return int(n)
}

func satFloat(f float64) (int, bool) {
	switch {
	case math.IsNaN(f):
		return 0, false
	case f >= math.MaxInt:
		return math.MaxInt, true
	case f <= math.MinInt:
		return math.MinInt, true
	}
	return int(f), true
}

// addSat adds two non-negative ints, saturating: costs multiply quickly and
// a wrapped negative cost would pass every limit.
func addSat(a, b int) int {
	if a > math.MaxInt-b {
		return math.MaxInt
	}
	return a + b
}

// mulSat multiplies two non-negative ints, saturating.
func mulSat(a, b int) int {
	if a == 0 || b == 0 {
		return 0
	}
	if a > math.MaxInt/b {
		return math.MaxInt
	}
	return a * b
}
