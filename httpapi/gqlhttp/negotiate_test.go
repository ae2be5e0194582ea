package gqlhttp

import "testing"

func TestNegotiate(t *testing.T) {
	cases := []struct {
		accept []string
		want   mediaType
	}{
		{nil, mediaJSON},
		{[]string{""}, mediaJSON},
		{[]string{" , "}, mediaJSON},
		{[]string{"*/*"}, mediaJSON},
		{[]string{"application/*"}, mediaJSON},
		{[]string{"*/*", "application/*"}, mediaJSON},
		{[]string{"application/graphql-response+json"}, mediaGraphQLResponse},
		{[]string{"application/graphql-response+json, */*"}, mediaGraphQLResponse}, // a named type beats the wildcard
		{[]string{"*/*;q=0.8, application/graphql-response+json"}, mediaGraphQLResponse},
		{[]string{"text/html", "application/json"}, mediaJSON}, // several Accept headers
		{[]string{"APPLICATION/JSON"}, mediaJSON},
		{[]string{"application/json;q=0.8, application/graphql-response+json;q=0.9"}, mediaGraphQLResponse},
		{[]string{"application/json;q=0.9, */*;q=1"}, mediaGraphQLResponse}, // */* covers only what is not named
		{[]string{"*/*;q=0.5, application/graphql-response+json;q=0"}, mediaJSON},
		{[]string{"*/*;q=0.5, application/json;q=0"}, mediaGraphQLResponse},
		{[]string{"application/*;q=0.3, */*;q=0"}, mediaJSON},
		{[]string{"application/json;q=oops, application/graphql-response+json"}, mediaGraphQLResponse},
		{[]string{`application/json; charset="UTF-8"`}, mediaJSON},
		{[]string{"application/json; charset=utf-16, application/graphql-response+json;q=0.1"}, mediaGraphQLResponse},
		{[]string{"application/graphql-response+json;q=0"}, mediaNone},
		{[]string{"application/json;q=0, application/graphql-response+json;q=0"}, mediaNone},
		{[]string{"*/*;q=0"}, mediaNone},
		{[]string{"text/event-stream"}, mediaNone},
		{[]string{"application/json;q=1.5"}, mediaNone},
	}
	for _, c := range cases {
		got, ok := negotiate(c.accept)
		if got != c.want || ok != (c.want != mediaNone) {
			t.Errorf("%q: %v %v, want %v", c.accept, got, ok, c.want)
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
