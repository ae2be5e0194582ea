package limits

import (
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/lexer"
)

// CountTokens counts the lexical tokens of query the way gqlparser's parser
// does (comments included), stopping as soon as the count passes limit so
// that an oversized query costs no more than limit+1 tokens to refuse. ok is
// false when the query has more than limit tokens; limit <= 0 means no limit.
//
// A lexical error ends the count with ok true: the parser will report it,
// with a better message than a limit could.
//
// gqlparser can cap tokens itself (parser.ParseQueryWithTokenLimit, and
// gqlgen's Server.SetParserTokenLimit), but only as a parse failure with
// GRAPHQL_PARSE_FAILED; counting first lets the refusal carry its own code.
func CountTokens(query string, limit int) (n int, ok bool) {
	lx := lexer.New(&ast.Source{Input: query})
	for {
		tok, err := lx.ReadToken()
		if err != nil || tok.Kind == lexer.EOF {
			return n, true
		}
		n++
		if limit > 0 && n > limit {
			return n, false
		}
	}
}
