package events

import (
	"maps"
	"math"
	"slices"
	"strconv"
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

// maxDepth bounds nesting inside skipped (unknown) values.
const maxDepth = 64

// jsonScanner reads one flat JSON object out of a string that was converted
// from the payload once; string fields without escapes are substrings of it,
// so a record costs one allocation plus one per escaped string.
type jsonScanner struct {
	s     string
	i     int
	first bool
}

func (p *jsonScanner) ws() {
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *jsonScanner) errAt(field, reason string) error { return syntaxErr(field, reason, p.i) }

// begin consumes the opening brace.
func (p *jsonScanner) begin() error {
	p.ws()
	if p.i >= len(p.s) || p.s[p.i] != '{' {
		return p.errAt("", "not a JSON object")
	}
	p.i++
	p.first = true
	return nil
}

// nextKey returns the next key (positioned on its value) or ok=false after
// the closing brace.
func (p *jsonScanner) nextKey() (key string, ok bool, err error) {
	p.ws()
	if p.i >= len(p.s) {
		return "", false, p.errAt("", "truncated object")
	}
	if p.first {
		p.first = false
		if p.s[p.i] == '}' {
			p.i++
			return "", false, nil
		}
	} else {
		switch p.s[p.i] {
		case '}':
			p.i++
			return "", false, nil
		case ',':
			p.i++
			p.ws()
		default:
			return "", false, p.errAt("", "want ',' or '}'")
		}
	}
	if p.i >= len(p.s) || p.s[p.i] != '"' {
		return "", false, p.errAt("", "want object key")
	}
	key, err = p.quoted("")
	if err != nil {
		return "", false, err
	}
	p.ws()
	if p.i >= len(p.s) || p.s[p.i] != ':' {
		return "", false, p.errAt(key, "want ':' after key")
	}
	p.i++
	p.ws()
	return key, true, nil
}

// end accepts only trailing whitespace after the object.
func (p *jsonScanner) end() error {
	p.ws()
	if p.i != len(p.s) {
		return p.errAt("", "data after object")
	}
	return nil
}

// null consumes a JSON null if there is one.
func (p *jsonScanner) null() bool {
	if len(p.s)-p.i >= 4 && p.s[p.i:p.i+4] == "null" {
		p.i += 4
		return true
	}
	return false
}

// str reads a string value; null reads as "".
func (p *jsonScanner) str(field string) (string, error) {
	if p.null() {
		return "", nil
	}
	if p.i >= len(p.s) || p.s[p.i] != '"' {
		return "", p.errAt(field, "want string")
	}
	return p.quoted(field)
}

// quoted reads a JSON string starting at the opening quote.
func (p *jsonScanner) quoted(field string) (string, error) {
	p.i++
	start := p.i
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case c == '"':
			v := p.s[start:p.i]
			p.i++
			return v, nil
		case c == '\\':
			return p.unescape(field, start)
		case c < 0x20:
			return "", p.errAt(field, "control character in string")
		}
		p.i++
	}
	return "", p.errAt(field, "unterminated string")
}

// unescape is the slow path of quoted, from the first backslash on.
func (p *jsonScanner) unescape(field string, start int) (string, error) {
	buf := make([]byte, 0, p.i-start+16)
	buf = append(buf, p.s[start:p.i]...)
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case c == '"':
			p.i++
			return string(buf), nil
		case c < 0x20:
			return "", p.errAt(field, "control character in string")
		case c != '\\':
			buf = append(buf, c)
			p.i++
			continue
		}
		if p.i+1 >= len(p.s) {
			break
		}
		e := p.s[p.i+1]
		p.i += 2
		switch e {
		case '"', '\\', '/':
			buf = append(buf, e)
		case 'b':
			buf = append(buf, '\b')
		case 'f':
			buf = append(buf, '\f')
		case 'n':
			buf = append(buf, '\n')
		case 'r':
			buf = append(buf, '\r')
		case 't':
			buf = append(buf, '\t')
		case 'u':
			r, ok := p.hex4()
			if !ok {
				return "", p.errAt(field, "bad \\u escape")
			}
			if utf16.IsSurrogate(r) {
				// A valid pair makes one rune; anything else is U+FFFD, as in encoding/json.
				r2 := utf8.RuneError
				if len(p.s)-p.i >= 6 && p.s[p.i] == '\\' && p.s[p.i+1] == 'u' {
					save := p.i
					p.i += 2
					if lo, ok := p.hex4(); ok {
						if d := utf16.DecodeRune(r, lo); d != utf8.RuneError {
							r2 = d
						} else {
							p.i = save
						}
					} else {
						p.i = save
					}
				}
				r = r2
			}
			buf = utf8.AppendRune(buf, r)
		default:
			return "", p.errAt(field, "bad escape")
		}
	}
	return "", p.errAt(field, "unterminated string")
}

func (p *jsonScanner) hex4() (rune, bool) {
	if len(p.s)-p.i < 4 {
		return 0, false
	}
	var r rune
	for _, c := range []byte(p.s[p.i : p.i+4]) {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	p.i += 4
	return r, true
}

// numberToken returns the characters of a number value.
func (p *jsonScanner) numberToken(field string) (string, error) {
	start := p.i
	for p.i < len(p.s) {
		c := p.s[p.i]
		if (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E' {
			p.i++
			continue
		}
		break
	}
	if p.i == start {
		return "", p.errAt(field, "want number")
	}
	return p.s[start:p.i], nil
}

// float reads a finite number; null reads as 0.
func (p *jsonScanner) float(field string) (float64, error) {
	if p.null() {
		return 0, nil
	}
	tok, err := p.numberToken(field)
	if err != nil {
		return 0, err
	}
	f, err := strconv.ParseFloat(tok, 64)
	if err != nil || !finite(f) {
		return 0, syntaxErr(field, "bad number "+strconv.Quote(tok), p.i-len(tok))
	}
	return f, nil
}

// int reads an integer number; null reads as 0.
func (p *jsonScanner) int(field string) (int64, error) {
	if p.null() {
		return 0, nil
	}
	tok, err := p.numberToken(field)
	if err != nil {
		return 0, err
	}
	v, err := strconv.ParseInt(tok, 10, 64)
	if err != nil {
		return 0, syntaxErr(field, "bad integer "+strconv.Quote(tok), p.i-len(tok))
	}
	return v, nil
}

// time reads an RFC 3339 string; null reads as the zero time.
func (p *jsonScanner) time(field string) (time.Time, error) {
	start := p.i
	s, err := p.str(field)
	if err != nil || s == "" {
		return time.Time{}, err
	}
	t, ok := parseRFC3339(s)
	if !ok {
		return time.Time{}, syntaxErr(field, "want RFC 3339 time in years 1970-2199", start)
	}
	return t, nil
}

// Extra holds the fields of a JSON record that its model does not know,
// each value as its JSON text (a string keeps its quotes, an object or
// array its whole text), so that nothing a producer adds is lost and
// AppendJSON writes it back as it came. A null value is absent. Silver
// keeps them in the ExtraField column, where a promoted field
// (config promote) becomes a typed column.
type Extra map[string]string

// ExtraField is the column (a map of field name → JSON text) that keeps a
// record's Extra.
const ExtraField = "extra"

// extra reads the value of key, which the model does not know, into *m.
func (p *jsonScanner) extra(m *Extra, key string) error {
	if p.null() {
		return nil
	}
	start := p.i
	if err := p.skip(key); err != nil {
		return err
	}
	if *m == nil {
		*m = Extra{}
	}
	(*m)[key] = p.s[start:p.i]
	return nil
}

// skip consumes any value (of a key this model does not know).
func (p *jsonScanner) skip(field string) error {
	depth := 0
	for {
		p.ws()
		if p.i >= len(p.s) {
			return p.errAt(field, "truncated value")
		}
		switch c := p.s[p.i]; c {
		case '{', '[':
			depth++
			if depth > maxDepth {
				return p.errAt(field, "nested too deep")
			}
			p.i++
			continue
		case '}', ']':
			if depth == 0 {
				return p.errAt(field, "unexpected "+string(c))
			}
			depth--
			p.i++
		case '"':
			if _, err := p.quoted(field); err != nil {
				return err
			}
		case 't', 'f', 'n':
			ok := false
			for _, lit := range [...]string{"true", "false", "null"} {
				if len(p.s)-p.i >= len(lit) && p.s[p.i:p.i+len(lit)] == lit {
					p.i += len(lit)
					ok = true
					break
				}
			}
			if !ok {
				return p.errAt(field, "bad literal")
			}
		case ',', ':':
			if depth == 0 {
				return p.errAt(field, "want value")
			}
			p.i++
			continue
		default:
			if _, err := p.numberToken(field); err != nil {
				return err
			}
		}
		if depth == 0 {
			return nil
		}
	}
}

// JSON encoding helpers; they mirror encoding/json with HTML escaping off.

const hexDigits = "0123456789abcdef"

// AppendJSONString appends s as a JSON string, escaped as encoding/json
// does without HTML escaping (invalid UTF-8 becomes U+FFFD).
func AppendJSONString(dst []byte, s string) []byte { return appendJSONString(dst, s) }

func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += n
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += n
			start = i
			continue
		}
		i += n
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

func appendJSONFloat(dst []byte, f float64) []byte {
	if !finite(f) {
		return append(dst, "null"...)
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	dst = strconv.AppendFloat(dst, f, format, -1, 64)
	if format == 'e' {
		// e-09 → e-9, as encoding/json writes it.
		if n := len(dst); n >= 4 && dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
			dst[n-2] = dst[n-1]
			dst = dst[:n-1]
		}
	}
	return dst
}

// jsonObject appends "key":value pairs with the separators in between.
type jsonObject struct {
	buf []byte
	n   int
}

func newJSONObject(dst []byte) jsonObject { return jsonObject{buf: append(dst, '{')} }

func (o *jsonObject) key(k string) {
	if o.n > 0 {
		o.buf = append(o.buf, ',')
	}
	o.n++
	o.buf = append(o.buf, '"')
	o.buf = append(o.buf, k...)
	o.buf = append(o.buf, '"', ':')
}

func (o *jsonObject) str(k, v string) { o.key(k); o.buf = appendJSONString(o.buf, v) }

func (o *jsonObject) strOmit(k, v string) {
	if v != "" {
		o.str(k, v)
	}
}

func (o *jsonObject) float(k string, v float64) { o.key(k); o.buf = appendJSONFloat(o.buf, v) }

func (o *jsonObject) floatOmit(k string, v float64) {
	if v != 0 {
		o.float(k, v)
	}
}

func (o *jsonObject) int(k string, v int64) { o.key(k); o.buf = strconv.AppendInt(o.buf, v, 10) }

func (o *jsonObject) intOmit(k string, v int64) {
	if v != 0 {
		o.int(k, v)
	}
}

func (o *jsonObject) time(k string, t time.Time) {
	o.key(k)
	o.buf = append(o.buf, '"')
	o.buf = appendRFC3339(o.buf, t)
	o.buf = append(o.buf, '"')
}

// extra writes the fields of x after the model's own, in key order.
func (o *jsonObject) extra(x Extra) {
	for _, k := range slices.Sorted(maps.Keys(x)) {
		if o.n > 0 {
			o.buf = append(o.buf, ',')
		}
		o.n++
		o.buf = appendJSONString(o.buf, k)
		o.buf = append(o.buf, ':')
		o.buf = append(o.buf, x[k]...)
	}
}

func (o *jsonObject) close() []byte { return append(o.buf, '}') }
