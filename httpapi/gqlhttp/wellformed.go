package gqlhttp

import (
	"bytes"
	"encoding/json"
	"io"
	"net/url"
)

// malformedError says why a request is not a well-formed GraphQL-over-HTTP
// request; its text is the message of the 400 answer.
type malformedError struct{ msg string }

func (e *malformedError) Error() string { return e.msg }

func malformed(msg string) error { return &malformedError{msg} }

// params holds the request parameters undecoded: only their JSON kinds are
// checked here, gqlgen decodes them again. encoding/json matches the names
// case-insensitively, as gqlgen's own decoding does, so both agree on
// which member is the query.
type params struct {
	Query         json.RawMessage `json:"query"`
	OperationName json.RawMessage `json:"operationName"`
	Variables     json.RawMessage `json:"variables"`
	Extensions    json.RawMessage `json:"extensions"`
}

// checkBody reports whether a POST body is a well-formed request: one JSON
// object whose query is a string, whose operationName is a string or null
// and whose variables and extensions are objects or null (null is the same
// as leaving a parameter out). The query may only be left out when the
// extensions name a persisted query (APQ), whose text the server supplies.
func checkBody(body []byte) error {
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	switch {
	case len(trimmed) == 0:
		return malformed("the request body is empty; send a JSON object with a query")
	case trimmed[0] != '{' && json.Valid(trimmed):
		return malformed("the request body must be a JSON object")
	}
	var p params
	// Unmarshal checks the whole body, trailing bytes included, before it
	// decodes, so any syntax error surfaces here.
	if err := json.Unmarshal(trimmed, &p); err != nil {
		return malformed("the request body is not valid JSON: " + err.Error())
	}
	return checkParams(kind(p.Query), kind(p.OperationName), kind(p.Variables), p.Extensions)
}

// checkParams applies the parameter rules, given each parameter's JSON
// kind ('"' string, '{' object, 'n' null or absent, anything else for the
// rest), shared by POST bodies and GET URLs.
func checkParams(query, operationName, variables byte, extensions json.RawMessage) error {
	switch ext := kind(extensions); {
	case ext != '{' && ext != 'n':
		return malformed("extensions must be an object")
	case query == 'n' && !persisted(extensions):
		return malformed("the request has no query")
	case query != '"' && query != 'n':
		return malformed("query must be a string")
	case operationName != '"' && operationName != 'n':
		return malformed("operationName must be a string")
	case variables != '{' && variables != 'n':
		return malformed("variables must be an object")
	}
	return nil
}

// kind is the JSON kind of a raw value by its first byte; an absent value
// counts as null.
func kind(raw json.RawMessage) byte {
	raw = bytes.TrimLeft(raw, " \t\r\n")
	if len(raw) == 0 {
		return 'n'
	}
	switch raw[0] {
	case '"', '{', 'n':
		return raw[0]
	}
	return '?'
}

// persisted reports extensions that carry an automatic persisted query
// reference, which stands in for the query text.
func persisted(extensions json.RawMessage) bool {
	if kind(extensions) != '{' {
		return false
	}
	var ext struct {
		PersistedQuery json.RawMessage `json:"persistedQuery"`
	}
	return json.Unmarshal(extensions, &ext) == nil && kind(ext.PersistedQuery) == '{'
}

// checkURL applies the same rules to a GET request's URL parameters, where
// query and operationName are plain strings and variables and extensions
// JSON text. An empty variables or extensions parameter is the same as
// none, as gqlgen reads it.
func checkURL(rawQuery string) error {
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return malformed("the URL query is not valid: " + err.Error())
	}
	queryKind := byte('n')
	if q.Has("query") {
		queryKind = '"'
	}
	variables, err := jsonParam(q, "variables")
	if err != nil {
		return err
	}
	extensions, err := jsonParam(q, "extensions")
	if err != nil {
		return err
	}
	return checkParams(queryKind, '"', kind(variables), extensions)
}

// jsonParam returns the JSON text of a URL parameter after checking that
// it is valid JSON.
func jsonParam(q url.Values, name string) (json.RawMessage, error) {
	v := q.Get(name)
	if v == "" {
		return nil, nil
	}
	if !json.Valid([]byte(v)) {
		return nil, malformed(name + " is not valid JSON")
	}
	return json.RawMessage(v), nil
}

// checkedBody reads the request body for the handlers inside and checks it
// once it has been read to the end. A malformed body ends the read with the
// malformedError instead of io.EOF, so gqlgen stops before parsing, let
// alone executing, and Handler answers 400 in its place.
//
// Checking here rather than reading the body up front keeps the order of
// the chain: the authentication, rate limit and body-size limit between
// Handler and gqlgen act before the body is read, and the size limit
// bounds what is kept here.
type checkedBody struct {
	body io.ReadCloser
	buf  []byte
	err  error // the malformedError, once the body was read to the end
	done bool
}

// maxPrealloc bounds the buffer allocated from Content-Length, which the
// client chooses.
const maxPrealloc = 64 << 10

func newCheckedBody(body io.ReadCloser, contentLength int64) *checkedBody {
	n := 512
	if contentLength > 0 {
		n = int(min(contentLength+1, maxPrealloc))
	}
	return &checkedBody{body: body, buf: make([]byte, 0, n)}
}

func (b *checkedBody) Read(p []byte) (int, error) {
	if b.done {
		if b.err != nil {
			return 0, b.err
		}
		return 0, io.EOF
	}
	n, err := b.body.Read(p)
	b.buf = append(b.buf, p[:n]...)
	if err == io.EOF {
		b.done, b.err, b.buf = true, checkBody(b.buf), nil
		if b.err != nil {
			return n, b.err
		}
	}
	return n, err
}

func (b *checkedBody) Close() error { return b.body.Close() }
