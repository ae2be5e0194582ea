package gqlhttp

import "testing"

func TestTopScan(t *testing.T) {
	cases := []struct {
		body string
		want verdict
	}{
		{`{"data":{"a":1}}`, hasData},
		{` { "data" : [] }`, hasData},
		{`{"data":"s"}`, hasData},
		{`{"data":0}`, hasData},
		{`{"data":false}`, hasData},
		{`{"errors":[{"message":"x","path":["a"]}],"data":{"a":null}}`, hasData},
		{`{"errors":[{"message":"}]\"data\":{"}],"data":{}}`, hasData},
		{`{"extensions":{"data":{}},"data":{}}`, hasData},
		{`{"errors":[{"message":"x"}],"data":null}`, noData},
		{`{"errors":[{"message":"x"}],"data":null,"extensions":{"a":[1,{"b":"}"}]}}`, noData},
		{`{"errors":[{"message":"x"}]}`, noData},
		{`{}`, noData},
		{`{"n":123,"t":true,"data":null}`, noData},
		{`{"dat":{},"datas":{},"xdata":{}}`, noData},
		{`{"d\u0061ta":{}}`, noData}, // gqlgen never escapes its keys
		{`[]`, notObject},
		{`null`, notObject},
		{`<html>`, notObject},
		{`{"data" {}}`, notObject},
		{`{"data":{}`, hasData}, // decided at the value's first byte
		{`{"errors":[`, needMore},
		{`{"data":nu`, needMore},
		{``, needMore},
	}
	for _, c := range cases {
		var whole topScan
		if got := whole.feed([]byte(c.body)); got != c.want {
			t.Errorf("%s: %v, want %v", c.body, got, c.want)
		}
		var bytewise topScan
		got := needMore
		for i := 0; i < len(c.body) && got == needMore; i++ {
			got = bytewise.feed([]byte{c.body[i]})
		}
		if got != c.want {
			t.Errorf("%s byte by byte: %v, want %v", c.body, got, c.want)
		}
	}
}

// FuzzTopScanSplit checks that where the body is cut into writes never
// changes the verdict.
func FuzzTopScanSplit(f *testing.F) {
	f.Add(`{"errors":[{"message":"a\\\"b","path":["x",1]}],"data":{"x":[1,2]}}`, 5)
	f.Add(`{"errors":[{"message":"x"}],"data":null,"extensions":{}}`, 17)
	f.Add(`{"a":"\\\\","data":true}`, 9)
	f.Fuzz(func(t *testing.T, body string, cut int) {
		var whole, split topScan
		want := whole.feed([]byte(body))
		if cut < 0 || cut > len(body) {
			cut = len(body) / 2
		}
		got := split.feed([]byte(body[:cut]))
		if got == needMore {
			got = split.feed([]byte(body[cut:]))
		}
		if got != want {
			t.Errorf("cut at %d: %v, whole: %v", cut, got, want)
		}
	})
}
