package gqlhttp

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/meridian-graphql/meridian/platform/apperr"
)

// mode is what the rewriter does with the inner handler's writes.
type mode uint8

const (
	// modePending: a GraphQL answer (200 or 422) whose status waits for the
	// top of the body; writes are held until topScan has a verdict.
	modePending mode = iota
	// modePass: the status is out, writes go straight to the client.
	modePass
	// modeHold: a response without data, or gqlgen's own 400; the whole
	// body is held until the handler returns, when its errors tell a
	// request error from a field error. Such bodies are small: they carry
	// errors, no result.
	modeHold
	// modeDiscard: Handler answers in place of the inner handler (the body
	// was malformed, or a GET asked for a mutation); its output is dropped.
	modeDiscard
)

// rewriter is the http.ResponseWriter the inner handler sees for a GraphQL
// request. It holds back the status line until it knows the status the
// spec asks for, which for a result is as soon as the top-level data
// member starts, and never buffers more than it must to know.
type rewriter struct {
	w      http.ResponseWriter
	media  mediaType
	method string
	body   *checkedBody // nil for GET

	status      int  // the inner handler's status
	wroteHeader bool // the inner handler has set its status
	getMutation bool // gqlgen refused a GET for not being a query
	mode        mode
	buf         []byte
	scan        topScan
}

func (rw *rewriter) Header() http.Header { return rw.w.Header() }

// Unwrap lets http.ResponseController reach the connection, for deadlines.
func (rw *rewriter) Unwrap() http.ResponseWriter { return rw.w }

func (rw *rewriter) WriteHeader(code int) {
	if rw.wroteHeader {
		return
	}
	if code >= 100 && code < 200 {
		// Informational answers (103 Early Hints) go out at once; the
		// final status is still to come.
		rw.w.WriteHeader(code)
		return
	}
	rw.wroteHeader, rw.status = true, code
	switch {
	case rw.body != nil && rw.body.err != nil:
		// gqlgen's answer to the read error Handler caused.
		rw.mode = modeDiscard
	case rw.method == http.MethodGet && code == http.StatusNotAcceptable:
		// gqlgen's GET transport answers an operation other than a query
		// with 406, after validation and before execution; the spec asks
		// for 405. (Handler has already answered unacceptable Accept
		// headers itself, so this 406 can only be that one.)
		rw.mode, rw.getMutation = modeDiscard, true
	case streamingType(rw.w.Header().Get("Content-Type")):
		rw.commit(code)
	case code == http.StatusOK || code == http.StatusUnprocessableEntity:
		rw.mode = modePending
	case code == http.StatusBadRequest && sameType(rw.w.Header().Get("Content-Type"), rw.media):
		// gqlgen's own 400, a request error under graphql-response+json:
		// the status stays, the body loses its "data": null.
		rw.mode = modeHold
	default:
		// Not a GraphQL answer of gqlgen's: the 401, 413 or 429 of a
		// middleware, a 5xx. It keeps its status and headers.
		rw.commit(code)
	}
}

func (rw *rewriter) Write(p []byte) (int, error) {
	if !rw.wroteHeader {
		rw.WriteHeader(http.StatusOK)
	}
	switch rw.mode {
	case modePass:
		return rw.w.Write(p)
	case modeDiscard:
		return len(p), nil
	case modeHold:
		rw.buf = append(rw.buf, p...)
		return len(p), nil
	}
	switch rw.scan.feed(p) {
	case hasData:
		rw.setContentType()
		rw.commit(http.StatusOK)
		return rw.flushBuf(p)
	case noData:
		rw.mode = modeHold
	case notObject:
		rw.commit(rw.status)
		return rw.flushBuf(p)
	}
	rw.buf = append(rw.buf, p...)
	return len(p), nil
}

// Flush is a handler that wants its bytes out now, which only streams do:
// whatever is held goes out with the handler's own status.
func (rw *rewriter) Flush() {
	if !rw.wroteHeader {
		rw.WriteHeader(http.StatusOK)
	}
	switch rw.mode {
	case modeDiscard:
		return
	case modePending, modeHold:
		rw.commit(rw.status)
		if _, err := rw.flushBuf(nil); err != nil {
			return
		}
	}
	if f, ok := rw.w.(http.Flusher); ok {
		f.Flush()
	}
}

// finish completes the response once the inner handler has returned.
func (rw *rewriter) finish() {
	switch {
	case rw.body != nil && rw.body.err != nil && rw.mode != modePass:
		// Nothing has reached the client yet, so the 400 replaces
		// whatever the inner handler made of the failed read.
		writeError(rw.w, http.StatusBadRequest, rw.media, codeBadRequest, rw.body.err.Error())
	case rw.getMutation:
		rw.w.Header().Set("Allow", http.MethodPost)
		writeError(rw.w, http.StatusMethodNotAllowed, rw.media, codeMethodNotAllowed,
			"only queries may be sent with GET; send mutations with POST")
	case !rw.wroteHeader || rw.mode == modePass:
	case rw.mode == modeHold:
		status := rw.status
		if status != http.StatusBadRequest {
			status = rw.noDataStatus()
		}
		if status == http.StatusServiceUnavailable {
			rw.w.Header().Set("Retry-After", strconv.Itoa(apperr.RetryAfterSeconds))
		}
		if status == http.StatusBadRequest && rw.media == mediaGraphQLResponse {
			rw.buf = withoutData(rw.buf)
			rw.w.Header().Del("Content-Length")
		}
		rw.setContentType()
		rw.commit(status)
		_, _ = rw.flushBuf(nil)
	default:
		// The body ended before a verdict: not a whole JSON object.
		rw.commit(rw.status)
		_, _ = rw.flushBuf(nil)
	}
}

// noDataStatus is the status of a GraphQL response without data. Under
// application/json every well-formed request is 200 (the spec's legacy
// rule; gqlgen says 422 for parse and validation errors): a client cannot
// tell a JSON body with another status from an intermediary's, so even a
// request an outage failed is 200, its errors coded SERVICE_UNAVAILABLE.
// Under application/graphql-response+json a request error is 400; but a
// field error on a non-null root field also leaves data null, and that is
// an executed request, 200. gqlgen writes "data":null in both cases, so the
// errors decide: a field error has a path, a request error has none. When
// every error is SERVICE_UNAVAILABLE — a store outage failed the whole
// request, nothing of it could be served — the answer is 503 (with
// Retry-After, set by finish): the spec lets a server answer a response it
// could not generate with the status of its condition, and 503 is what
// clients, proxies and load balancers know to retry. A partial result has
// data and stays 200 with its per-field errors.
func (rw *rewriter) noDataStatus() int {
	if rw.media == mediaJSON {
		return http.StatusOK
	}
	var resp struct {
		Errors []struct {
			Path       json.RawMessage `json:"path"`
			Extensions struct {
				Code string `json:"code"`
			} `json:"extensions"`
		} `json:"errors"`
	}
	if json.Unmarshal(rw.buf, &resp) != nil {
		return http.StatusBadRequest
	}
	unavailable := len(resp.Errors) > 0
	for _, e := range resp.Errors {
		unavailable = unavailable && e.Extensions.Code == string(apperr.Unavailable)
	}
	if unavailable {
		return http.StatusServiceUnavailable
	}
	for _, e := range resp.Errors {
		if kind(e.Path) != 'n' {
			return http.StatusOK
		}
	}
	return http.StatusBadRequest
}

// withoutData drops the "data": null that gqlgen writes into every
// response, request errors included. The GraphQL spec says a request error
// has no data entry, and under application/graphql-response+json that
// absence is what the 400 stands for. Only these small bodies are
// re-encoded; results keep their bytes.
func withoutData(body []byte) []byte {
	var members map[string]json.RawMessage
	if json.Unmarshal(body, &members) != nil {
		return body
	}
	if d, ok := members["data"]; !ok || kind(d) != 'n' {
		return body
	}
	delete(members, "data")
	out, err := json.Marshal(members) // errors, extensions: sorted keys keep errors first
	if err != nil {
		return body
	}
	return out
}

// setContentType states the negotiated type and its encoding; gqlgen
// wrote the same type, without the charset.
func (rw *rewriter) setContentType() {
	rw.w.Header().Set("Content-Type", rw.media.contentType())
}

func (rw *rewriter) commit(code int) {
	rw.mode = modePass
	rw.w.WriteHeader(code)
}

// flushBuf writes what was held, then p.
func (rw *rewriter) flushBuf(p []byte) (int, error) {
	if len(rw.buf) > 0 {
		buf := rw.buf
		rw.buf = nil
		if _, err := rw.w.Write(buf); err != nil {
			return 0, err
		}
	}
	if len(p) == 0 {
		return 0, nil
	}
	return rw.w.Write(p)
}

// streamingType reports an event stream or multipart answer, which must
// reach the client as it is written.
func streamingType(contentType string) bool {
	return strings.HasPrefix(contentType, "text/event-stream") || strings.HasPrefix(contentType, "multipart/")
}

// sameType reports whether a Content-Type names m, whatever its parameters.
func sameType(contentType string, m mediaType) bool {
	mt, _, _ := strings.Cut(contentType, ";")
	return strings.EqualFold(strings.TrimSpace(mt), m.String())
}
