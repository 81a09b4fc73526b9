package gold

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// tokKind classifies a lexical token of Trino SQL.
type tokKind int

const (
	tokSpace tokKind = iota
	tokComment
	tokWord   // unquoted identifier or keyword
	tokQuoted // "quoted identifier"
	tokString // 'string literal' (also X'..', U&'..' prefixes lexed as words)
	tokNumber
	tokPunct
)

type token struct {
	kind tokKind
	text string
}

// lex splits Trino SQL into tokens. It never fails: an unterminated string,
// quoted identifier or block comment runs to the end of the input, which
// Trino then rejects with its own error.
func lex(s string) []token {
	var out []token
	for i := 0; i < len(s); {
		c := s[i]
		start := i
		var k tokKind
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f':
			for i < len(s) && strings.IndexByte(" \t\n\r\f", s[i]) >= 0 {
				i++
			}
			k = tokSpace
		case c == '-' && i+1 < len(s) && s[i+1] == '-':
			for i < len(s) && s[i] != '\n' {
				i++
			}
			k = tokComment
		case c == '/' && i+1 < len(s) && s[i+1] == '*':
			end := strings.Index(s[i+2:], "*/")
			if end < 0 {
				i = len(s)
			} else {
				i += 2 + end + 2
			}
			k = tokComment
		case c == '\'' || c == '"':
			i = quotedEnd(s, i)
			k = tokString
			if c == '"' {
				k = tokQuoted
			}
		case isWordStart(c):
			for i < len(s) && isWordPart(s[i]) {
				i++
			}
			k = tokWord
		case c >= '0' && c <= '9':
			for i < len(s) && (isWordPart(s[i]) || s[i] == '.') {
				i++
			}
			k = tokNumber
		default:
			i++
			k = tokPunct
		}
		out = append(out, token{kind: k, text: s[start:i]})
	}
	return out
}

// quotedEnd returns the index after the quote closing the one at i; a
// doubled quote is an escaped quote.
func quotedEnd(s string, i int) int {
	q := s[i]
	for j := i + 1; j < len(s); j++ {
		if s[j] == q {
			if j+1 < len(s) && s[j+1] == q {
				j++
				continue
			}
			return j + 1
		}
	}
	return len(s)
}

func isWordStart(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80
}

func isWordPart(c byte) bool { return isWordStart(c) || (c >= '0' && c <= '9') || c == '$' }

// Normalize returns sql without comments, with runs of white space as one
// space (none next to punctuation), unquoted words lower-cased and no
// trailing semicolon: two texts that differ only in layout, comments or
// keyword case normalize to the same string.
func Normalize(sql string) string {
	var b strings.Builder
	prevPunct, pendingSpace := true, false
	for _, t := range lex(sql) {
		switch t.kind {
		case tokSpace, tokComment:
			pendingSpace = true
			continue
		}
		punct := t.kind == tokPunct
		if pendingSpace && !prevPunct && !punct && b.Len() > 0 {
			b.WriteByte(' ')
		}
		pendingSpace = false
		if t.kind == tokWord {
			b.WriteString(strings.ToLower(t.text))
		} else {
			b.WriteString(t.text)
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
func qualified(toks []token, fn func(i int, schema, name string)) {
	for i := 0; i+2 < len(toks); i++ {
		if toks[i].kind != tokWord || toks[i+1].text != "." || (toks[i+2].kind != tokWord && toks[i+2].kind != tokQuoted) {
			continue
		}
		if i > 0 && toks[i-1].text == "." {
			continue
		}
		fn(i, strings.ToLower(toks[i].text), strings.ToLower(strings.Trim(toks[i+2].text, `"`)))
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
	qualified(lex(sql), func(_ int, schema, name string) {
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
	var w []token
	for _, t := range lex(sql) {
		if t.kind != tokSpace && t.kind != tokComment {
			w = append(w, t)
		}
	}
	name := func(t token) bool { return t.kind == tokWord || t.kind == tokQuoted }
	part := func(t token) string { return strings.ToLower(strings.Trim(t.text, `"`)) }
	seen := map[string]bool{}
	var out []string
	for i := 1; i+4 < len(w); i++ {
		kw := strings.ToLower(w[i-1].text)
		if w[i-1].kind != tokWord || (kw != "from" && kw != "join") {
			continue
		}
		if !name(w[i]) || w[i+1].text != "." || !name(w[i+2]) || w[i+3].text != "." || !name(w[i+4]) {
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
	toks := lex(sql)
	qualified(toks, func(i int, schema, _ string) {
		if to, ok := m[schema]; ok {
			toks[i].text = to
		}
	})
	var b strings.Builder
	for _, t := range toks {
		b.WriteString(t.text)
	}
	return b.String()
}

// replaceTables rewrites every reference to the table schema.name (after
// renaming) into the parenthesized subquery with, keeping an alias: "FROM
// silver.events e" becomes "FROM (SELECT ...) e" and an unaliased
// reference gets its table name as alias so qualified columns still work.
func replaceTables(sql string, with map[string]string) string {
	toks := lex(sql)
	var b strings.Builder
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		if t.kind == tokWord && i+2 < len(toks) && toks[i+1].text == "." && (i == 0 || toks[i-1].text != ".") {
			name := strings.ToLower(strings.Trim(toks[i+2].text, `"`))
			ref := strings.ToLower(t.text) + "." + name
			if sub, ok := with[ref]; ok {
				b.WriteString("(" + sub + ")")
				if !aliased(toks[i+3:]) {
					b.WriteString(" " + name)
				}
				i += 2
				continue
			}
		}
		b.WriteString(t.text)
	}
	return b.String()
}

// aliased reports whether the tokens after a table reference start with an
// alias (AS x, or a word that is not a clause keyword).
func aliased(rest []token) bool {
	for _, t := range rest {
		switch t.kind {
		case tokSpace, tokComment:
			continue
		case tokQuoted:
			return true
		case tokWord:
			switch strings.ToLower(t.text) {
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
