package trino

import "strings"

// Ident returns s as a delimited identifier: "s", inner quotes doubled.
func Ident(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// String returns s as a string literal: 's', inner quotes doubled. The
// form is standard SQL, which PostgreSQL (standard_conforming_strings, on
// by default) reads the same way.
func String(s string) string { return "'" + Escape(s) + "'" }

// Escape doubles the single quotes of s, for text that goes between the
// quotes of a literal written elsewhere (a dashboard's '$var').
func Escape(s string) string { return strings.ReplaceAll(s, "'", "''") }

// List returns values as comma-separated string literals for an IN list;
// no values give NULL, so that "x IN (NULL)" still parses and matches nothing.
func List(values []string) string {
	if len(values) == 0 {
		return "NULL"
	}
	q := make([]string, len(values))
	for i, v := range values {
		q[i] = String(v)
	}
	return strings.Join(q, ",")
}

// Qualified returns the delimited parts joined by dots ("a"."b"."c").
func Qualified(parts ...string) string {
	q := make([]string, len(parts))
	for i, p := range parts {
		q[i] = Ident(p)
	}
	return strings.Join(q, ".")
}
