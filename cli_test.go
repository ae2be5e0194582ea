package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestSubcommandHelp: every command's --help (and -h) exits 0 with its own
// usage on stdout, before reading the environment — which here is broken,
// so a command that loaded it or connected anywhere would fail.
func TestSubcommandHelp(t *testing.T) {
	broken := func(k string) string {
		return map[string]string{"MERIDIAN_ENV": "staging", "DATABASE_URL": "bogus://x", "MERIDIAN_ADDR": "nowhere"}[k]
	}
	for _, tc := range []struct {
		args []string
		want []string // in the usage; "-x" flags of other commands must not be
		not  []string
	}{
		{[]string{"seed", "--help"}, []string{"Usage: meridian seed", "-users", "-if-empty"}, nil},
		{[]string{"export", "-h"}, []string{"Usage: meridian export", "-format", "-out"}, nil},
		{[]string{"healthcheck", "--help"}, []string{"Usage: meridian healthcheck", "/readyz"}, nil},
		{[]string{"models", "--help"}, []string{"Usage: meridian models <subcommand>", "models evaluate ", "models evaluate-recs"}, nil},
		{[]string{"models", "evaluate", "--help"}, []string{"Usage: meridian models evaluate", "-cdnow"}, []string{"-users"}},
		{[]string{"models", "evaluate-recs", "--help"}, []string{"-users", "-seed"}, []string{"-cdnow"}},
		{[]string{"apikey", "--help"}, []string{"Usage: meridian apikey <subcommand>", "apikey create", "apikey revoke"}, nil},
		{[]string{"apikey", "create", "--help"}, []string{"-name", "-role"}, []string{"-id"}},
		{[]string{"apikey", "revoke", "--help"}, []string{"-id"}, []string{"-name", "-role"}},
		{[]string{"migrate", "--help"}, []string{"Usage: meridian migrate <subcommand>", "migrate status", "migrate up"}, nil},
		{[]string{"migrate", "status", "--help"}, []string{"Usage: meridian migrate status", "changes nothing"}, []string{"-allow-destructive"}},
		{[]string{"migrate", "up", "-h"}, []string{"Usage: meridian migrate up", "-allow-destructive"}, nil},
		{[]string{"--help"}, []string{"Usage:", "Environment:", "MERIDIAN_ADDR (default: :8080)", "meridian migrate status|up"}, nil},
		{[]string{"help"}, []string{"Usage:"}, nil},
	} {
		var out, errs bytes.Buffer
		err := run(context.Background(), tc.args, broken, &out, &errs)
		name := strings.Join(tc.args, " ")
		if err != nil || errs.Len() > 0 {
			t.Errorf("%s: err %v, stderr %q; want exit 0 and nothing on stderr", name, err, errs.String())
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(out.String(), w) {
				t.Errorf("%s: usage lacks %q:\n%s", name, w, out.String())
			}
		}
		for _, n := range tc.not {
			if strings.Contains(out.String(), "  "+n+" ") {
				t.Errorf("%s: usage lists another command's flag %q:\n%s", name, n, out.String())
			}
		}
	}
}

// TestCommandMistakes: a wrong flag, argument or subcommand fails with
// the error and the usage on stderr, nothing on stdout.
func TestCommandMistakes(t *testing.T) {
	for _, args := range [][]string{
		{"seed", "--bogus"},
		{"seed", "extra"},
		{"apikey"},
		{"apikey", "rotate"},
		{"models"},
		{"migrate"},
		{"migrate", "down"},
		{"migrate", "up", "--bogus"},
		{"nope"},
	} {
		var out, errs bytes.Buffer
		err := run(context.Background(), args, func(string) string { return "" }, &out, &errs)
		if err == nil || out.Len() > 0 || !strings.Contains(errs.String(), "Usage:") {
			t.Errorf("%v: err %v, stdout %q, stderr %q; want an error and the usage on stderr", args, err, out.String(), errs.String())
		}
	}
}

// TestVersion: --version names the binary and the Go release it was built
// with (the module version and VCS revision come from the build; `go test`
// stamps neither).
func TestVersion(t *testing.T) {
	for _, arg := range []string{"--version", "-version", "version"} {
		var out bytes.Buffer
		if err := run(context.Background(), []string{arg}, func(string) string { return "" }, &out, &out); err != nil {
			t.Fatal(err)
		}
		if s := out.String(); !strings.HasPrefix(s, "meridian ") || !strings.Contains(s, " go1.") || strings.Count(s, "\n") != 1 {
			t.Errorf("%s = %q", arg, s)
		}
	}
}
