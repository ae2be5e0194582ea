package gqlhttp

import (
	"encoding/json"
	"net/http"
	"strconv"
)

// The extensions.code of the errors Handler answers itself, in the style
// of the API's other codes.
const (
	codeBadRequest           = "BAD_REQUEST"
	codeMethodNotAllowed     = "METHOD_NOT_ALLOWED"
	codeNotAcceptable        = "NOT_ACCEPTABLE"
	codeUnsupportedMediaType = "UNSUPPORTED_MEDIA_TYPE"
	codeForbidden            = "FORBIDDEN"
)

type errorBody struct {
	Errors []errorEntry `json:"errors"`
}

type errorEntry struct {
	Message    string            `json:"message"`
	Extensions map[string]string `json:"extensions"`
}

// writeError answers with a GraphQL-shaped error and no data entry: these
// are request errors, nothing was executed. The body is a GraphQL response
// so that clients can show the message whatever the status.
func writeError(w http.ResponseWriter, status int, m mediaType, code, msg string) {
	body, _ := json.Marshal(errorBody{Errors: []errorEntry{{Message: msg, Extensions: map[string]string{"code": code}}}})
	h := w.Header()
	h.Set("Content-Type", m.contentType())
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
