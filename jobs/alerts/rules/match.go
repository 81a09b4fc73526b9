package rules

import "strconv"

// Fields is a record as rules see it: values by field name. Str returns the
// field's text (numbers formatted), Num its number (text parsed); ok is false
// when the record has no such field or it is not a number.
type Fields interface {
	Str(name string) (string, bool)
	Num(name string) (float64, bool)
}

// Matcher is a compiled filter: all clauses must hold.
type Matcher []clause

type clause struct {
	field string
	kind  int // kindEq ... kindLe
	str   string
	set   map[string]bool
	num   float64
}

const (
	kindEq = iota
	kindNe
	kindIn
	kindNotIn
	kindGt
	kindGe
	kindLt
	kindLe
)

// Compile turns validated filter clauses into a Matcher.
func Compile(ms []Match) Matcher {
	out := make(Matcher, 0, len(ms))
	for _, m := range ms {
		c := clause{field: m.Field}
		switch {
		case m.Eq != nil:
			c.kind, c.str = kindEq, *m.Eq
		case m.Ne != nil:
			c.kind, c.str = kindNe, *m.Ne
		case m.In != nil:
			c.kind, c.set = kindIn, toSet(m.In)
		case m.NotIn != nil:
			c.kind, c.set = kindNotIn, toSet(m.NotIn)
		case m.Gt != nil:
			c.kind, c.num = kindGt, *m.Gt
		case m.Ge != nil:
			c.kind, c.num = kindGe, *m.Ge
		case m.Lt != nil:
			c.kind, c.num = kindLt, *m.Lt
		case m.Le != nil:
			c.kind, c.num = kindLe, *m.Le
		}
		out = append(out, c)
	}
	return out
}

// Match reports whether every clause holds for f. A missing field fails
// every clause except ne and not_in.
func (m Matcher) Match(f Fields) bool {
	for i := range m {
		c := &m[i]
		switch c.kind {
		case kindEq, kindNe, kindIn, kindNotIn:
			s, ok := f.Str(c.field)
			var hit bool
			switch c.kind {
			case kindEq:
				hit = ok && s == c.str
			case kindNe:
				hit = !ok || s != c.str
			case kindIn:
				hit = ok && c.set[s]
			case kindNotIn:
				hit = !ok || !c.set[s]
			}
			if !hit {
				return false
			}
		default:
			v, ok := f.Num(c.field)
			if !ok {
				return false
			}
			var hit bool
			switch c.kind {
			case kindGt:
				hit = v > c.num
			case kindGe:
				hit = v >= c.num
			case kindLt:
				hit = v < c.num
			case kindLe:
				hit = v <= c.num
			}
			if !hit {
				return false
			}
		}
	}
	return true
}

func toSet(vs []string) map[string]bool {
	s := make(map[string]bool, len(vs))
	for _, v := range vs {
		s[v] = true
	}
	return s
}

// Compare applies a condition operator.
func Compare(op string, v, threshold float64) bool {
	switch op {
	case ">":
		return v > threshold
	case ">=":
		return v >= threshold
	case "<":
		return v < threshold
	case "<=":
		return v <= threshold
	}
	return false
}

// Map is a Fields backed by a string map, for tests and dimension records.
type Map map[string]string

// Str returns m[name].
func (m Map) Str(name string) (string, bool) { s, ok := m[name]; return s, ok }

// Num parses m[name] as a float.
func (m Map) Num(name string) (float64, bool) {
	s, ok := m[name]
	if !ok {
		return 0, false
	}
	v, err := strconv.ParseFloat(s, 64)
	return v, err == nil
}
