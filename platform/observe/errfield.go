package observe

import (
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// errorField names the schema field ("Type.field") an error's path points
// at, by walking the path through the operation's selections. Paths hold
// response keys, which are client-chosen aliases; mapping them back to the
// schema keeps the label's values bounded by the schema. It costs nothing
// per field: only responses with errors are walked.
//
// It returns "none" for request-level errors (parse, validation, limits:
// no path) and "other" when the path does not lead to a field of the
// operation.
func errorField(op *ast.OperationDefinition, e *gqlerror.Error) string {
	if len(e.Path) == 0 {
		return labelNone
	}
	if op == nil {
		return labelOther
	}
	var f *ast.Field
	set := op.SelectionSet
	for _, el := range e.Path {
		key, ok := el.(ast.PathName)
		if !ok {
			continue // a list index: same selections, next element
		}
		if f = fieldByKey(set, string(key), 0); f == nil {
			return labelOther
		}
		set = f.SelectionSet
	}
	if f == nil || f.ObjectDefinition == nil {
		return labelOther
	}
	return f.ObjectDefinition.Name + "." + f.Name
}

// maxFragmentDepth bounds the descent through nested fragments. Validation
// already rejects fragment cycles; this only keeps a malformed document from
// recursing without end.
const maxFragmentDepth = 32

// fieldByKey finds the field whose response key is key among set and the
// fragments it spreads.
func fieldByKey(set ast.SelectionSet, key string, depth int) *ast.Field {
	if depth > maxFragmentDepth {
		return nil
	}
	for _, sel := range set {
		var sub ast.SelectionSet
		switch s := sel.(type) {
		case *ast.Field:
			if s.Alias == key || (s.Alias == "" && s.Name == key) {
				return s
			}
			continue
		case *ast.InlineFragment:
			sub = s.SelectionSet
		case *ast.FragmentSpread:
			if s.Definition == nil {
				continue
			}
			sub = s.Definition.SelectionSet
		}
		if f := fieldByKey(sub, key, depth+1); f != nil {
			return f
		}
	}
	return nil
}

// errorCode is an error's extensions.code, or "none".
func errorCode(e *gqlerror.Error) string {
	if c, ok := e.Extensions["code"].(string); ok && c != "" {
		return c
	}
	return labelNone
}
