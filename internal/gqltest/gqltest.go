// Package gqltest drives Meridian's real HTTP handler in tests: it posts
// GraphQL operations and decodes the data, the errors with their
// extensions.code, and the statement count the server reports.
//
// Tested by httpapi's flow tests, which drive the handler through it.
package gqltest

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/meridian-graphql/meridian/analytics/sqlstore"
	"github.com/meridian-graphql/meridian/auth"
	"github.com/meridian-graphql/meridian/httpapi"
	"github.com/meridian-graphql/meridian/platform/database"
)

// Client posts operations to an in-process server.
type Client struct {
	t             testing.TB
	srv           *httptest.Server
	authorization string
}

// NewAdmin starts the handler over db for callers who are all admins
// (Grant(auth.Admin)), with the SQL event store in the same database and a
// local-only cache: for the tests of what admins may do, every mutation
// included, that do not test the roles themselves.
func NewAdmin(t testing.TB, db *database.DB) *Client {
	t.Helper()
	return Serve(t, httpapi.Deps{DB: db, Auth: Grant(auth.Admin)})
}

// Grant returns an authenticator that gives every caller without
// credentials role, mutations included (as far as role allows them). A test
// asks for the access it needs with it: a handler whose Deps.Auth is nil
// refuses every caller.
func Grant(role auth.Role) *auth.Authenticator {
	return &auth.Authenticator{Anonymous: role, AnonymousWrites: true}
}

// Serve starts the handler with deps, filling in the SQL event store and the
// test loader wait when they are not set. Loaders collect keys for 250 ms
// instead of production's 10 ms: the statement-count tests assert exact
// counts, and under the race detector on a busy 2-core CI machine the
// goroutines of one level were seen to need more than 20 ms to all reach
// their loader. Deps.Auth is left as given: nil refuses every caller.
func Serve(t testing.TB, deps httpapi.Deps) *Client {
	t.Helper()
	if deps.Events == nil {
		events, err := sqlstore.New(context.Background(), deps.DB)
		if err != nil {
			t.Fatalf("event store: %v", err)
		}
		deps.Events = events
	}
	if deps.LoaderWait == 0 {
		deps.LoaderWait = 250 * time.Millisecond
		if w, err := time.ParseDuration(os.Getenv("MERIDIAN_TEST_LOADER_WAIT")); err == nil {
			deps.LoaderWait = w
		}
	}
	srv := httptest.NewServer(httpapi.NewHandler(deps))
	t.Cleanup(srv.Close)
	return &Client{t: t, srv: srv}
}

// As returns a client that sends credential in the Authorization header.
func (c *Client) As(credential string) *Client {
	cc := *c
	cc.authorization = credential
	return &cc
}

// URL is the server's base URL.
func (c *Client) URL() string { return c.srv.URL }

// Error is one GraphQL error.
type Error struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path"`
	Extensions map[string]any `json:"extensions"`
}

// Code is extensions.code.
func (e Error) Code() string { s, _ := e.Extensions["code"].(string); return s }

// Response is a decoded GraphQL response.
type Response struct {
	Data       json.RawMessage `json:"data"`
	Errors     []Error         `json:"errors"`
	Extensions struct {
		SQLStatements int64 `json:"sqlStatements"`
	} `json:"extensions"`
	Status int `json:"-"`
}

// Do posts query with vars and decodes the response.
func (c *Client) Do(query string, vars map[string]any) *Response {
	c.t.Helper()
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		c.t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, c.srv.URL+"/query", bytes.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if c.authorization != "" {
		req.Header.Set("Authorization", c.authorization)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatalf("post: %v", err)
	}
	defer res.Body.Close()
	var out Response
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		c.t.Fatalf("decode response (status %d): %v", res.StatusCode, err)
	}
	out.Status = res.StatusCode
	return &out
}

// MustDo is Do that fails the test on any GraphQL error and decodes data into v.
func (c *Client) MustDo(query string, vars map[string]any, v any) *Response {
	c.t.Helper()
	r := c.Do(query, vars)
	if len(r.Errors) > 0 {
		c.t.Fatalf("unexpected errors (%d): %+v", len(r.Errors), r.Errors[:min(3, len(r.Errors))])
	}
	if v != nil {
		if err := json.Unmarshal(r.Data, v); err != nil {
			c.t.Fatalf("decode data: %v\n%s", err, r.Data)
		}
	}
	return r
}

// ErrorCode is Do that expects exactly one error and returns it.
func (c *Client) ErrorCode(query string, vars map[string]any) Error {
	c.t.Helper()
	r := c.Do(query, vars)
	if len(r.Errors) != 1 {
		c.t.Fatalf("want exactly one error, got %+v (data %s)", r.Errors, r.Data)
	}
	return r.Errors[0]
}
