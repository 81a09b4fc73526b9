package gold

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"

	"weir/trino"
)

// Normalize returns sql without comments, with runs of white space as one
// space (none next to punctuation), unquoted words lower-cased and no
// trailing semicolon: two texts that differ only in layout, comments or
// keyword case normalize to the same string.
func Normalize(sql string) string {
	var b strings.Builder
	prevPunct, pendingSpace := true, false
	for _, t := range trino.Lex(sql) {
		switch t.Kind {
		case trino.Space, trino.Comment:
			pendingSpace = true
			continue
		}
		punct := t.Kind == trino.Punct
		if pendingSpace && !prevPunct && !punct && b.Len() > 0 {
			b.WriteByte(' ')
		}
		pendingSpace = false
		if t.Kind == trino.Word {
			b.WriteString(strings.ToLower(t.Text))
		} else {
			b.WriteString(t.Text)
		}
		prevPunct = punct
	}
	return strings.TrimRight(b.String(), "; ")
}

// Fingerprint is a short hash of the normalized SQL.
func Fingerprint(sql string) string {
	sum := sha256.Sum256([]byte(Normalize(sql)))
	return hex.EncodeToString(sum[:8])
}

// qualified calls fn for every schema-qualified name schema.name in sql
// (unquoted words, not preceded by a dot, so catalog.schema.name and
// alias.column are left alone) with the token index of the schema word.
func qualified(toks []trino.Token, fn func(i int, schema, name string)) {
	for i := 0; i+2 < len(toks); i++ {
		if toks[i].Kind != trino.Word || toks[i+1].Text != "." || (toks[i+2].Kind != trino.Word && toks[i+2].Kind != trino.Delimited) {
			continue
		}
		if i > 0 && toks[i-1].Text == "." {
			continue
		}
		fn(i, strings.ToLower(toks[i].Text), strings.ToLower(strings.Trim(toks[i+2].Text, `"`)))
	}
}

// references returns the distinct names "schema.name" that sql reads from
// the given schemas, in order of first appearance.
func references(sql string, schemas ...string) []string {
	want := map[string]bool{}
	for _, s := range schemas {
		want[s] = true
	}
	seen := map[string]bool{}
	var out []string
	qualified(trino.Lex(sql), func(_ int, schema, name string) {
		ref := schema + "." + name
		if want[schema] && !seen[ref] {
			seen[ref] = true
			out = append(out, ref)
		}
	})
	return out
}

// catalogTables returns the distinct names "catalog.schema.table" that sql
// reads from another catalog (three-part names after FROM or JOIN), in
// order of first appearance.
func catalogTables(sql string) []string {
	w := trino.Code(trino.Lex(sql))
	name := func(t trino.Token) bool { return t.Kind == trino.Word || t.Kind == trino.Delimited }
	part := func(t trino.Token) string { return strings.ToLower(strings.Trim(t.Text, `"`)) }
	seen := map[string]bool{}
	var out []string
	for i := 1; i+4 < len(w); i++ {
		kw := strings.ToLower(w[i-1].Text)
		if w[i-1].Kind != trino.Word || (kw != "from" && kw != "join") {
			continue
		}
		if !name(w[i]) || w[i+1].Text != "." || !name(w[i+2]) || w[i+3].Text != "." || !name(w[i+4]) {
			continue
		}
		ref := part(w[i]) + "." + part(w[i+2]) + "." + part(w[i+4])
		if !seen[ref] {
			seen[ref] = true
			out = append(out, ref)
		}
	}
	return out
}

// renameSchemas rewrites the schema qualifiers of names in sql through m
// (e.g. silver → it_silver), leaving strings, comments and everything else
// byte for byte.
func renameSchemas(sql string, m map[string]string) string {
	if len(m) == 0 {
		return sql
	}
	toks := trino.Lex(sql)
	qualified(toks, func(i int, schema, _ string) {
		if to, ok := m[schema]; ok {
			toks[i].Text = to
		}
	})
	var b strings.Builder
	for _, t := range toks {
		b.WriteString(t.Text)
	}
	return b.String()
}

// replaceTables rewrites every reference to the table schema.name (after
// renaming) into the parenthesized subquery with, keeping an alias: "FROM
// silver.events e" becomes "FROM (SELECT ...) e" and an unaliased
// reference gets its table name as alias so qualified columns still work.
func replaceTables(sql string, with map[string]string) string {
	toks := trino.Lex(sql)
	var b strings.Builder
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		if t.Kind == trino.Word && i+2 < len(toks) && toks[i+1].Text == "." && (i == 0 || toks[i-1].Text != ".") {
			name := strings.ToLower(strings.Trim(toks[i+2].Text, `"`))
			ref := strings.ToLower(t.Text) + "." + name
			if sub, ok := with[ref]; ok {
				b.WriteString("(" + sub + ")")
				if !aliased(toks[i+3:]) {
					b.WriteString(" " + name)
				}
				i += 2
				continue
			}
		}
		b.WriteString(t.Text)
	}
	return b.String()
}

// aliased reports whether the tokens after a table reference start with an
// alias (AS x, or a word that is not a clause keyword).
func aliased(rest []trino.Token) bool {
	for _, t := range rest {
		switch t.Kind {
		case trino.Space, trino.Comment:
			continue
		case trino.Delimited:
			return true
		case trino.Word:
			switch strings.ToLower(t.Text) {
			case "where", "group", "order", "limit", "join", "left", "right", "full", "inner", "cross",
				"on", "union", "except", "intersect", "having", "window", "offset", "fetch", "natural", "using", "for", "tablesample":
				return false
			}
			return true
		}
		return false
	}
	return false
}
