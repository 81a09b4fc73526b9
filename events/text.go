package events

import (
	"math"
	"time"
	"unicode/utf8"
)

// invalidUTF8At returns the offset of the first invalid UTF-8 sequence, or -1.
func invalidUTF8At(b []byte) int {
	if utf8.Valid(b) {
		return -1
	}
	for i := 0; i < len(b); {
		if b[i] < utf8.RuneSelf {
			i++
			continue
		}
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n == 1 {
			return i
		}
		i += n
	}
	return -1
}

var monthNames = [12]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}

// Sane event-time range: anything outside is a producer bug, not a late or
// future event.
const (
	minYear = 1970
	maxYear = 2199
)

func digits(s string, n int) (int, bool) {
	if len(s) < n {
		return 0, false
	}
	v := 0
	for i := 0; i < n; i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	return v, true
}

func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// civil builds a UTC time from checked fields minus a zone offset in seconds.
func civil(y, mo, d, h, mi, s, ns, offset int) (time.Time, bool) {
	if y < minYear || y > maxYear || mo < 1 || mo > 12 || d < 1 || d > daysIn(mo, y) ||
		h > 23 || mi > 59 || s > 59 {
		return time.Time{}, false
	}
	t := time.Date(y, time.Month(mo), d, h, mi, s, ns, time.UTC)
	return t.Add(-time.Duration(offset) * time.Second), true
}

// parseRFC3339 reads YYYY-MM-DDTHH:MM:SS[.fffffffff](Z|±HH:MM) and returns UTC.
func parseRFC3339(s string) (time.Time, bool) {
	if len(s) < 20 || s[4] != '-' || s[7] != '-' || s[13] != ':' || s[16] != ':' {
		return time.Time{}, false
	}
	if c := s[10]; c != 'T' && c != 't' && c != ' ' {
		return time.Time{}, false
	}
	y, ok1 := digits(s, 4)
	mo, ok2 := digits(s[5:], 2)
	d, ok3 := digits(s[8:], 2)
	h, ok4 := digits(s[11:], 2)
	mi, ok5 := digits(s[14:], 2)
	sec, ok6 := digits(s[17:], 2)
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) {
		return time.Time{}, false
	}
	i, ns := 19, 0
	if s[i] == '.' {
		i++
		start := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			if i-start < 9 {
				ns = ns*10 + int(s[i]-'0')
			}
			i++
		}
		n := i - start
		if n == 0 {
			return time.Time{}, false
		}
		for ; n < 9; n++ {
			ns *= 10
		}
	}
	if i >= len(s) {
		return time.Time{}, false
	}
	offset := 0
	switch s[i] {
	case 'Z', 'z':
		i++
	case '+', '-':
		if len(s)-i != 6 || s[i+3] != ':' {
			return time.Time{}, false
		}
		oh, ok1 := digits(s[i+1:], 2)
		om, ok2 := digits(s[i+4:], 2)
		if !ok1 || !ok2 || oh > 23 || om > 59 {
			return time.Time{}, false
		}
		offset = oh*3600 + om*60
		if s[i] == '-' {
			offset = -offset
		}
		i += 6
	default:
		return time.Time{}, false
	}
	if i != len(s) {
		return time.Time{}, false
	}
	return civil(y, mo, d, h, mi, sec, ns, offset)
}

// appendRFC3339 writes t in UTC as encoding/json does (RFC3339Nano).
func appendRFC3339(dst []byte, t time.Time) []byte {
	return t.UTC().AppendFormat(dst, time.RFC3339Nano)
}

// clfTimeLen is len("10/Oct/2000:13:55:36 -0700").
const clfTimeLen = 26

// parseCLFTime reads the Common Log Format time dd/Mon/yyyy:HH:MM:SS ±hhmm.
func parseCLFTime(s string) (time.Time, bool) {
	if len(s) != clfTimeLen || s[2] != '/' || s[6] != '/' || s[11] != ':' || s[14] != ':' || s[17] != ':' || s[20] != ' ' {
		return time.Time{}, false
	}
	mo := 0
	for i, m := range monthNames {
		if s[3:6] == m {
			mo = i + 1
			break
		}
	}
	d, ok1 := digits(s, 2)
	y, ok2 := digits(s[7:], 4)
	h, ok3 := digits(s[12:], 2)
	mi, ok4 := digits(s[15:], 2)
	sec, ok5 := digits(s[18:], 2)
	oh, ok6 := digits(s[22:], 2)
	om, ok7 := digits(s[24:], 2)
	if mo == 0 || !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6 && ok7) || om > 59 {
		return time.Time{}, false
	}
	offset := oh*3600 + om*60
	switch s[21] {
	case '-':
		offset = -offset
	case '+':
	default:
		return time.Time{}, false
	}
	return civil(y, mo, d, h, mi, sec, 0, offset)
}

// appendCLFTime writes t in UTC as dd/Mon/yyyy:HH:MM:SS +0000.
func appendCLFTime(dst []byte, t time.Time) []byte {
	t = t.UTC()
	y, mo, d := t.Date()
	h, mi, s := t.Clock()
	dst = append2(dst, d)
	dst = append(dst, '/')
	dst = append(dst, monthNames[mo-1]...)
	dst = append(dst, '/')
	dst = append2(dst, y/100)
	dst = append2(dst, y%100)
	dst = append(dst, ':')
	dst = append2(dst, h)
	dst = append(dst, ':')
	dst = append2(dst, mi)
	dst = append(dst, ':')
	dst = append2(dst, s)
	return append(dst, " +0000"...)
}

func append2(dst []byte, v int) []byte {
	return append(dst, byte('0'+v/10%10), byte('0'+v%10))
}

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

func oneOf(v string, set []string) bool {
	for _, s := range set {
		if v == s {
			return true
		}
	}
	return false
}
