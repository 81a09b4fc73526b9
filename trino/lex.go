package trino

import "strings"

// Kind classifies a lexical token of Trino SQL.
type Kind int

const (
	Space     Kind = iota
	Comment        // -- line or /* block */
	Word           // unquoted identifier or keyword
	Delimited      // "quoted identifier"
	Literal        // 'string literal' (X'..', U&'..' prefixes lex as words)
	Number
	Punct
)

// Token is one lexical token; the texts of a Lex result, joined, are the
// input byte for byte.
type Token struct {
	Kind Kind
	Text string
}

// Lex splits Trino SQL into tokens. It never fails: an unterminated string,
// quoted identifier or block comment runs to the end of the input, which
// Trino then rejects with its own error.
func Lex(s string) []Token {
	var out []Token
	for i := 0; i < len(s); {
		c := s[i]
		start := i
		var k Kind
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f':
			for i < len(s) && strings.IndexByte(" \t\n\r\f", s[i]) >= 0 {
				i++
			}
			k = Space
		case c == '-' && i+1 < len(s) && s[i+1] == '-':
			for i < len(s) && s[i] != '\n' {
				i++
			}
			k = Comment
		case c == '/' && i+1 < len(s) && s[i+1] == '*':
			end := strings.Index(s[i+2:], "*/")
			if end < 0 {
				i = len(s)
			} else {
				i += 2 + end + 2
			}
			k = Comment
		case c == '\'' || c == '"':
			i = quotedEnd(s, i)
			k = Literal
			if c == '"' {
				k = Delimited
			}
		case isWordStart(c):
			for i < len(s) && isWordPart(s[i]) {
				i++
			}
			k = Word
		case c >= '0' && c <= '9':
			for i < len(s) && (isWordPart(s[i]) || s[i] == '.') {
				i++
			}
			k = Number
		default:
			i++
			k = Punct
		}
		out = append(out, Token{Kind: k, Text: s[start:i]})
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

// Code returns toks without white space and comments.
func Code(toks []Token) []Token {
	var out []Token
	for _, t := range toks {
		if t.Kind != Space && t.Kind != Comment {
			out = append(out, t)
		}
	}
	return out
}

// SplitStatements splits a SQL script on semicolons outside string
// literals, quoted identifiers and comments (Trino takes one statement per
// query). Statements are trimmed; those holding only comments are dropped.
func SplitStatements(script string) []string {
	var out []string
	var cur strings.Builder
	code := false
	flush := func() {
		if s := strings.TrimSpace(cur.String()); s != "" && code {
			out = append(out, s)
		}
		cur.Reset()
		code = false
	}
	for _, t := range Lex(script) {
		if t.Kind == Punct && t.Text == ";" {
			flush()
			continue
		}
		if t.Kind != Space && t.Kind != Comment {
			code = true
		}
		cur.WriteString(t.Text)
	}
	flush()
	return out
}
