package gqlhttp

import (
	"net/http"
)

// Handler returns next behind the GraphQL-over-HTTP rules described in the
// package documentation. next is the endpoint's handler chain ending in
// gqlgen's server with its GET, POST, SSE, WebSocket and OPTIONS
// transports; Handler goes in front of the whole chain, so that its CORS
// headers reach every answer and preflights never meet authentication.
//
// A POST body is checked as gqlgen reads it, which keeps a second copy of
// the body for the length of the request; the body-size limit inside the
// chain bounds it. The check relies on the body being read to its end, as
// gqlgen's POST transport does.
//
// Responses are not buffered: a result's status is known from its first
// bytes, and only answers without data (errors alone, small) are held
// until the handler returns. Streams (SSE, WebSocket, anything that
// flushes) pass as they are written.
func Handler(next http.Handler, cfg Config) http.Handler {
	return &endpoint{next: next, cors: newCORS(cfg)}
}

type endpoint struct {
	next http.Handler
	cors cors
}

func (h *endpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet && r.Header.Get("Upgrade") != "" {
		// A WebSocket handshake: gqlgen's transport and the socket's own
		// protocol take it from here.
		h.next.ServeHTTP(w, r)
		return
	}
	if h.cors.preflight(w, r) {
		return
	}
	h.cors.annotate(w.Header(), r)
	switch r.Method {
	case http.MethodPost:
		h.post(w, r)
	case http.MethodGet:
		h.get(w, r)
	case http.MethodOptions:
		w.Header().Set("Allow", allowMethods)
		w.WriteHeader(http.StatusNoContent)
	default:
		w.Header().Set("Allow", allowMethods)
		writeError(w, http.StatusMethodNotAllowed, h.errorMedia(r), codeMethodNotAllowed,
			"method "+r.Method+" is not allowed; send GraphQL with GET (queries) or POST")
	}
}

func (h *endpoint) post(w http.ResponseWriter, r *http.Request) {
	if ok, why := jsonBody(r.Header.Get("Content-Type")); !ok {
		writeError(w, http.StatusUnsupportedMediaType, h.errorMedia(r), codeUnsupportedMediaType, why)
		return
	}
	if streams(r) {
		// Server-Sent Events: a stream, not one response whose status
		// could wait for its body.
		h.next.ServeHTTP(w, r)
		return
	}
	media, ok := h.negotiate(w, r)
	if !ok {
		return
	}
	body := r.Body
	if body == nil {
		body = http.NoBody
	}
	checked := newCheckedBody(body, r.ContentLength)
	inner := withAccept(r, media)
	inner.Body = checked
	rw := &rewriter{w: w, media: media, method: r.Method, body: checked}
	h.next.ServeHTTP(rw, inner)
	rw.finish()
}

func (h *endpoint) get(w http.ResponseWriter, r *http.Request) {
	media, ok := h.negotiate(w, r)
	if !ok {
		return
	}
	if err := checkURL(r.URL.RawQuery); err != nil {
		writeError(w, http.StatusBadRequest, media, codeBadRequest, err.Error())
		return
	}
	rw := &rewriter{w: w, media: media, method: r.Method}
	h.next.ServeHTTP(rw, withAccept(r, media))
	rw.finish()
}

// negotiate picks the response type, or answers 406 and reports false.
func (h *endpoint) negotiate(w http.ResponseWriter, r *http.Request) (mediaType, bool) {
	// The body's type depends on Accept: caches must keep one per value.
	w.Header().Add("Vary", "Accept")
	media, ok := negotiate(r.Header.Values("Accept"))
	if !ok {
		writeError(w, http.StatusNotAcceptable, mediaJSON, codeNotAcceptable,
			"the Accept header allows neither "+typeGraphQLResponse+" nor "+typeJSON)
	}
	return media, ok
}

// errorMedia is the type of an error answered before or without
// negotiation: the client's choice when it has one, else JSON.
func (h *endpoint) errorMedia(r *http.Request) mediaType {
	if m, ok := negotiate(r.Header.Values("Accept")); ok {
		return m
	}
	return mediaJSON
}

// withAccept is r with its Accept header replaced by the negotiated type,
// so that gqlgen's own negotiation, which picks the Content-Type and its
// 400-or-422 status, lands on the same type as Handler's. The headers are
// copied: the caller's request is not changed.
func withAccept(r *http.Request, m mediaType) *http.Request {
	inner := r.WithContext(r.Context())
	inner.Header = r.Header.Clone()
	inner.Header.Set("Accept", m.String())
	return inner
}
