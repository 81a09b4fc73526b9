package trino

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	client "github.com/trinodb/trino-go-client/trino"

	"weir/config"
)

func TestSplitStatements(t *testing.T) {
	cases := []struct {
		name, script string
		want         []string
	}{
		{"one", "SELECT 1", []string{"SELECT 1"}},
		{"two with trailing semicolon", "SELECT 1;\nSELECT 2;\n", []string{"SELECT 1", "SELECT 2"}},
		{"semicolon in a string", "SELECT ';' AS x; SELECT 'it''s;'", []string{"SELECT ';' AS x", "SELECT 'it''s;'"}},
		{"semicolon in an identifier", `SELECT 1 AS "a;b"`, []string{`SELECT 1 AS "a;b"`}},
		{"line comment", "-- setup; not a statement\nSELECT 1; -- trailing;\n", []string{"-- setup; not a statement\nSELECT 1"}},
		{"block comment", "/* a; b */ SELECT 1", []string{"/* a; b */ SELECT 1"}},
		{"only comments", "-- nothing here;\n", nil},
		{"only a block comment", "SELECT 1; /* done */", []string{"SELECT 1"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := SplitStatements(c.script)
			if strings.Join(got, "|") != strings.Join(c.want, "|") || len(got) != len(c.want) {
				t.Errorf("got %q, want %q", got, c.want)
			}
		})
	}
}

func TestQuote(t *testing.T) {
	cases := []struct{ got, want string }{
		{Ident(`a"b`), `"a""b"`},
		{String("it's"), `'it''s'`},
		{Escape("it's"), `it''s`},
		{List(nil), "NULL"},
		{List([]string{"a", "b'c"}), `'a','b''c'`},
		{Qualified("iceberg", "gold", "x"), `"iceberg"."gold"."x"`},
	}
	for _, c := range cases {
		if c.got != c.want {
			t.Errorf("got %s, want %s", c.got, c.want)
		}
	}
}

func TestDSN(t *testing.T) {
	cases := []struct {
		url, catalog, want string
	}{
		{"http://weir@127.0.0.1:8080", "iceberg", "http://weir@127.0.0.1:8080?catalog=iceberg"},
		{"https://u@trino:8443?SSLCertPath=%2Fca.crt", "iceberg", "https://u@trino:8443?SSLCertPath=%2Fca.crt&catalog=iceberg"},
	}
	for _, c := range cases {
		got, err := DSN(config.Trino{URL: c.url, Catalog: c.catalog})
		if err != nil || got != c.want {
			t.Errorf("DSN(%s) = %s, %v; want %s", c.url, got, err, c.want)
		}
	}
	if _, err := DSN(config.Trino{URL: "http://[::1", Catalog: "x"}); err == nil {
		t.Error("DSN of a bad URL: no error")
	}
}

func TestRetry(t *testing.T) {
	starting := &client.ErrQueryFailed{StatusCode: 200, Reason: &client.ErrTrino{ErrorName: "SERVER_STARTING_UP"}}
	syntax := &client.ErrQueryFailed{StatusCode: 200, Reason: &client.ErrTrino{ErrorName: "SYNTAX_ERROR"}}
	catalogDown := &client.ErrQueryFailed{StatusCode: 200, Reason: &client.ErrTrino{ErrorName: "GENERIC_INTERNAL_ERROR",
		Message: "Cannot check and eventually update SQL schema"}}
	internal := &client.ErrQueryFailed{StatusCode: 200, Reason: &client.ErrTrino{ErrorName: "GENERIC_INTERNAL_ERROR", Message: "Query failed"}}
	cases := []struct {
		name      string
		errs      []error
		wantCalls int
		wantErr   error
	}{
		{"ok", []error{nil}, 1, nil},
		{"transient then ok", []error{starting, nil}, 2, nil},
		{"not retryable", []error{syntax}, 1, syntax},
		{"503", []error{&client.ErrQueryFailed{StatusCode: 503, Reason: errors.New("busy")}, nil}, 2, nil},
		{"catalog database unreachable", []error{catalogDown, nil}, 2, nil},
		{"other internal error", []error{internal}, 1, internal},
		{"after rows", []error{permanent(starting)}, 1, starting},
	}
	old := retryDelays
	retryDelays = []time.Duration{0, 0, 0}
	defer func() { retryDelays = old }()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			calls := 0
			err := Retry(context.Background(), func() error {
				calls++
				return c.errs[calls-1]
			})
			if calls != c.wantCalls || err != c.wantErr {
				t.Errorf("calls %d, err %v; want %d, %v", calls, err, c.wantCalls, c.wantErr)
			}
		})
	}
}

// FuzzLex: the tokens are the input byte for byte, and none is empty.
func FuzzLex(f *testing.F) {
	for _, s := range []string{"SELECT 'a''b' -- c\n/* d */ \"e\"\"f\" 1.5e3;", "'open", "/* open", `"open`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var b strings.Builder
		for _, tok := range Lex(s) {
			if tok.Text == "" {
				t.Fatalf("empty token in %q", s)
			}
			b.WriteString(tok.Text)
		}
		if b.String() != s {
			t.Fatalf("tokens of %q join to %q", s, b.String())
		}
	})
}
