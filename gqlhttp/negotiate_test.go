package gqlhttp

import "testing"

func TestNegotiate(t *testing.T) {
	cases := []struct {
		accept []string
		legacy bool
		want   mediaType
	}{
		{nil, false, mediaGraphQLResponse},
		{nil, true, mediaJSON},
		{[]string{""}, false, mediaGraphQLResponse},
		{[]string{" , "}, true, mediaJSON},
		{[]string{"text/html", "application/json"}, false, mediaJSON}, // several Accept headers
		{[]string{"APPLICATION/JSON"}, false, mediaJSON},
		{[]string{"application/json;q=0.8, application/graphql-response+json;q=0.9"}, false, mediaGraphQLResponse},
		{[]string{"application/json;q=0.9, */*;q=1"}, false, mediaGraphQLResponse},
		{[]string{"application/json;q=0.9, */*;q=1"}, true, mediaGraphQLResponse}, // */* only covers what is not named
		{[]string{"*/*;q=0.5, application/graphql-response+json;q=0"}, false, mediaJSON},
		{[]string{"application/*;q=0.3, */*;q=0"}, false, mediaGraphQLResponse},
		{[]string{"application/json;q=oops, application/graphql-response+json"}, false, mediaGraphQLResponse},
		{[]string{`application/json; charset="UTF-8"`}, false, mediaJSON},
		{[]string{"application/json; charset=utf-16, application/graphql-response+json;q=0.1"}, false, mediaGraphQLResponse},
		{[]string{"application/graphql-response+json;q=0"}, false, mediaNone},
		{[]string{"application/json;q=0, application/graphql-response+json;q=0"}, false, mediaNone},
		{[]string{"*/*;q=0"}, false, mediaNone},
		{[]string{"text/event-stream"}, false, mediaNone},
		{[]string{"application/json;q=1.5"}, false, mediaNone},
	}
	for _, c := range cases {
		got, ok := negotiate(c.accept, c.legacy)
		if got != c.want || ok != (c.want != mediaNone) {
			t.Errorf("%q legacy=%v: %v %v, want %v", c.accept, c.legacy, got, ok, c.want)
		}
	}
}

func TestJSONBody(t *testing.T) {
	for ct, want := range map[string]bool{
		"application/json":                  true,
		"Application/JSON; Charset=UTF-8":   true,
		"application/json; charset=utf8":    true,
		"application/json; boundary=x":      true,
		"":                                  false,
		"application/json; charset=utf-16":  false,
		"application/jsonx":                 false,
		"application/graphql-response+json": false,
		"multipart/form-data; boundary=x":   false,
		"application/json; charset":         false,
	} {
		if got, _ := jsonBody(ct); got != want {
			t.Errorf("%q: %v, want %v", ct, got, want)
		}
	}
}
