package gqlhttp

import (
	"mime"
	"net/http"
	"strconv"
	"strings"
)

// mediaType is a response media type this package can answer with.
type mediaType uint8

const (
	mediaNone mediaType = iota
	// mediaGraphQLResponse is application/graphql-response+json, whose
	// status codes tell request errors (4xx) from results (2xx).
	mediaGraphQLResponse
	// mediaJSON is application/json, the legacy type: every well-formed
	// request is 200, because a non-200 JSON body may come from any proxy.
	mediaJSON
)

const (
	typeGraphQLResponse = "application/graphql-response+json"
	typeJSON            = "application/json"
)

// String is the bare media type, as gqlgen's transports expect in Accept.
func (m mediaType) String() string {
	if m == mediaJSON {
		return typeJSON
	}
	return typeGraphQLResponse
}

// contentType is the Content-Type header for m: the spec asks servers to
// state the encoding.
func (m mediaType) contentType() string {
	if m == mediaJSON {
		return typeJSON + "; charset=utf-8"
	}
	return typeGraphQLResponse + "; charset=utf-8"
}

// match is how well one Accept header accepts one media type.
type match struct {
	q           float64
	specificity int // 3 type/subtype, 2 type/*, 1 */*, 0 not accepted
	position    int // index of the media range in the header
}

// better reports whether m should win over o. The client's q-value comes
// first; at equal q a named type beats a wildcard, and then the range the
// client listed first wins, as the spec's "highest priority media type
// listed".
func (m match) better(o match) bool {
	if m.q != o.q {
		return m.q > o.q
	}
	if m.specificity != o.specificity {
		return m.specificity > o.specificity
	}
	return m.position < o.position
}

// negotiate picks the response media type for the Accept header values.
// Without an Accept header, or when only wildcards match, the answer is
// application/json: the spec lets a server assume it after its 2025-01-01
// watershed, graphql-http's audit asks for it (47DE, 80D8), and every
// client can read it, while a client that names
// application/graphql-response+json gets that type. ok is false when the
// client accepts neither type.
func negotiate(accept []string) (m mediaType, ok bool) {
	preferred, other := mediaJSON, mediaGraphQLResponse
	var gr, js match
	pos, listed := 0, false
	for _, header := range accept {
		for part := range strings.SplitSeq(header, ",") {
			typ, params, _ := strings.Cut(part, ";")
			typ = strings.TrimSpace(typ)
			if typ == "" {
				continue
			}
			listed = true
			q, charsetOK, valid := rangeParams(params)
			pos++
			if !valid {
				continue
			}
			switch {
			case strings.EqualFold(typ, typeGraphQLResponse):
				if charsetOK {
					gr = pick(gr, match{q, 3, pos})
				}
			case strings.EqualFold(typ, typeJSON):
				if charsetOK {
					js = pick(js, match{q, 3, pos})
				}
			case strings.EqualFold(typ, "application/*"):
				gr, js = pick(gr, match{q, 2, pos}), pick(js, match{q, 2, pos})
			case typ == "*/*":
				gr, js = pick(gr, match{q, 1, pos}), pick(js, match{q, 1, pos})
			}
		}
	}
	if !listed {
		return preferred, true
	}
	var byType [3]match
	byType[mediaGraphQLResponse], byType[mediaJSON] = gr, js
	first, second := byType[preferred], byType[other]
	switch {
	case first.q <= 0 && second.q <= 0:
		return mediaNone, false
	case second.q > 0 && second.better(first):
		return other, true
	case first.q > 0:
		return preferred, true
	default:
		return other, true
	}
}

// pick keeps the most specific range that names a type: RFC 9110 gives a
// type the q-value of the most specific range that matches it, whatever
// the order. At equal specificity the first listed stays.
func pick(cur, next match) match {
	if next.specificity > cur.specificity {
		return next
	}
	return cur
}

// rangeParams reads the q-value and charset of one media range. A range
// with an unreadable q is ignored rather than guessed at; one whose charset
// is not UTF-8 does not accept our responses, which are always UTF-8.
func rangeParams(params string) (q float64, charsetOK, valid bool) {
	q, charsetOK, valid = 1, true, true
	for params != "" {
		var p string
		p, params, _ = strings.Cut(params, ";")
		name, value, _ := strings.Cut(p, "=")
		name, value = strings.TrimSpace(name), strings.Trim(strings.TrimSpace(value), `"`)
		switch {
		case strings.EqualFold(name, "q"):
			f, err := strconv.ParseFloat(value, 64)
			if err != nil || f < 0 || f > 1 {
				return 0, false, false
			}
			q = f
		case strings.EqualFold(name, "charset"):
			charsetOK = isUTF8(value)
		}
	}
	return q, charsetOK, true
}

func isUTF8(charset string) bool {
	return strings.EqualFold(charset, "utf-8") || strings.EqualFold(charset, "utf8")
}

// jsonBody reports whether a POST's Content-Type is application/json in
// UTF-8 (the charset may be left out: the spec says to assume UTF-8). The
// spec lets a server refuse a POST without Content-Type, and this one
// does: guessing the type would also let cross-site HTML forms, which
// cannot send application/json without a CORS preflight, post GraphQL.
func jsonBody(contentType string) (ok bool, why string) {
	if contentType == "" {
		return false, "the request has no Content-Type; send application/json"
	}
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil || mt != typeJSON {
		return false, "unsupported Content-Type " + strconv.Quote(contentType) + "; send application/json"
	}
	if cs, ok := params["charset"]; ok && !isUTF8(cs) {
		return false, "unsupported charset " + strconv.Quote(cs) + "; send UTF-8"
	}
	return true, ""
}

// streams reports a request that gqlgen's SSE transport serves: its answer
// is an event stream, not a GraphQL response to negotiate or rewrite. The
// test mirrors transport.SSE.Supports so that exactly those requests skip
// the negotiation.
func streams(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "text/event-stream")
}
