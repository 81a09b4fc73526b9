package events

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// AccessLog is one web.access line: the Combined Log Format
//
//	host ident user [dd/Mon/yyyy:HH:MM:SS ±hhmm] "METHOD path PROTO" status bytes "referrer" "user agent"
//
// optionally followed by the request time in seconds (nginx $request_time,
// e.g. 0.042) and the upstream cache status (HIT, MISS, BYPASS, ...). Plain
// Combined Log Format lines from a real Apache or nginx parse too; they have
// RequestTimeMs = NoRequestTime and CacheStatus "".
//
// "-" in ident, user, referrer, user agent, request time and cache status
// reads as empty, "-" bytes as NoBytes (unknown, not 0); a request of "-"
// (Apache's 408 lines) reads as empty Method, Path and Protocol.
//
// A line cut after its status (a producer or a log shipper that truncated
// it) is kept: bytes, referrer and user agent read as absent from the first
// one that was cut, and ParseIssue says which. A line without a readable
// client, time, request or status is an error.
type AccessLog struct {
	ClientIP      string    `json:"client_ip"`
	Ident         string    `json:"ident,omitempty"`
	User          string    `json:"user,omitempty"`
	Time          time.Time `json:"time"`
	Method        string    `json:"method"`
	Path          string    `json:"path"`
	Protocol      string    `json:"protocol"`
	Status        int       `json:"status"`
	Bytes         int64     `json:"bytes"`
	Referrer      string    `json:"referrer,omitempty"`
	UserAgent     string    `json:"user_agent,omitempty"`
	RequestTimeMs float64   `json:"request_time_ms"`
	CacheStatus   string    `json:"cache_status,omitempty"`
	// ParseIssue says what was cut from a truncated line (Issue*), "" for a
	// whole one.
	ParseIssue string `json:"parse_issue,omitempty"`
	// Extra holds, as logged, the variables of a declared format
	// (AccessFormat) that no field above holds, by nginx name (host,
	// request_length, upstream_response_time, ...); nil for the default
	// format.
	Extra map[string]string `json:"extra,omitempty"`
}

// NoBytes is Bytes of a line that logged none ("-") or whose bytes were cut.
const NoBytes = -1

// HasBytes reports whether the line logged a response size.
func (a *AccessLog) HasBytes() bool { return a.Bytes >= 0 }

// Parse issues of a line cut after its status (AccessLog.ParseIssue). The
// fields from the one named on are absent (null in silver).
const (
	IssueTruncatedBytes        = "truncated bytes"
	IssueTruncatedReferrer     = "truncated referrer"
	IssueUnterminatedReferrer  = "unterminated referrer"
	IssueTruncatedUserAgent    = "truncated user_agent"
	IssueUnterminatedUserAgent = "unterminated user_agent"
)

// NoRequestTime is RequestTimeMs of a line that does not log one.
const NoRequestTime = -1

// HasRequestTime reports whether the line logged a request time.
func (a *AccessLog) HasRequestTime() bool { return a.RequestTimeMs >= 0 }

// clfScanner walks one access-log line (a string converted once).
type clfScanner struct {
	s string
	i int
}

func (p *clfScanner) spaces() {
	for p.i < len(p.s) && p.s[p.i] == ' ' {
		p.i++
	}
}

func (p *clfScanner) more() bool {
	p.spaces()
	return p.i < len(p.s)
}

// token reads up to the next space.
func (p *clfScanner) token(field string) (string, error) {
	p.spaces()
	start := p.i
	for p.i < len(p.s) && p.s[p.i] != ' ' {
		p.i++
	}
	if p.i == start {
		return "", syntaxErr(field, "truncated line", p.i)
	}
	return p.s[start:p.i], nil
}

// quoted reads a "..." field; inside, \" and \\ are escapes (Apache writes
// them), other backslashes stay as they are.
func (p *clfScanner) quoted(field string) (string, error) {
	p.spaces()
	if p.i >= len(p.s) {
		return "", syntaxErr(field, "truncated line", p.i)
	}
	if p.s[p.i] != '"' {
		return "", syntaxErr(field, "want quoted field", p.i)
	}
	p.i++
	start := p.i
	escaped := false
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case '\\':
			escaped = true
			p.i += 2
			continue
		case '"':
			v := p.s[start:p.i]
			p.i++
			if p.i < len(p.s) && p.s[p.i] != ' ' {
				return "", syntaxErr(field, "want space after closing quote", p.i)
			}
			if escaped {
				v = unescapeCLF(v)
			}
			return v, nil
		}
		p.i++
	}
	return "", &ParseError{Field: field, Offset: start - 1, Err: errUnterminated}
}

// errUnterminated is the syntax error of a quoted field without its closing
// quote (the line was cut inside it).
var errUnterminated = fmt.Errorf("%w: unterminated quoted field", ErrSyntax)

// cutQuoted reads a quoted field that a cut line may lack ("" and issue
// truncated) or end inside ("" and issue unterminated); "-" reads as "".
func (p *clfScanner) cutQuoted(field, truncated, unterminated string) (v, issue string, err error) {
	if !p.more() {
		return "", truncated, nil
	}
	v, err = p.quoted(field)
	if errors.Is(err, errUnterminated) {
		return "", unterminated, nil
	}
	return dash(v), "", err
}

func unescapeCLF(v string) string {
	var b strings.Builder
	b.Grow(len(v))
	for i := 0; i < len(v); i++ {
		if v[i] == '\\' && i+1 < len(v) && (v[i+1] == '"' || v[i+1] == '\\') {
			i++
		}
		b.WriteByte(v[i])
	}
	return b.String()
}

func dash(s string) string {
	if s == "-" {
		return ""
	}
	return s
}

// ParseAccessLog reads one web.access line (a trailing newline is ignored)
// and validates it.
func ParseAccessLog(b []byte) (AccessLog, error) {
	var a AccessLog
	for n := len(b); n > 0 && (b[n-1] == '\n' || b[n-1] == '\r'); n-- {
		b = b[:n-1]
	}
	if err := checkPayload(b); err != nil {
		return a, err
	}
	p := clfScanner{s: string(b)}
	var err error
	if a.ClientIP, err = p.token("client_ip"); err != nil {
		return AccessLog{}, err
	}
	var tok string
	if tok, err = p.token("ident"); err != nil {
		return AccessLog{}, err
	}
	a.Ident = dash(tok)
	if tok, err = p.token("user"); err != nil {
		return AccessLog{}, err
	}
	a.User = dash(tok)

	p.spaces()
	if p.i >= len(p.s) || p.s[p.i] != '[' {
		return AccessLog{}, syntaxErr("time", "want [", p.i)
	}
	if len(p.s)-p.i < clfTimeLen+2 || p.s[p.i+1+clfTimeLen] != ']' {
		return AccessLog{}, syntaxErr("time", "want [dd/Mon/yyyy:HH:MM:SS ±hhmm]", p.i)
	}
	t, ok := parseCLFTime(p.s[p.i+1 : p.i+1+clfTimeLen])
	if !ok {
		return AccessLog{}, syntaxErr("time", "bad time or year outside 1970-2199", p.i+1)
	}
	a.Time = t
	p.i += clfTimeLen + 2

	req, err := p.quoted("request")
	if err != nil {
		return AccessLog{}, err
	}
	if err := a.setRequest(req); err != nil {
		return AccessLog{}, err
	}

	if tok, err = p.token("status"); err != nil {
		return AccessLog{}, err
	}
	status, ok := digits(tok, 3)
	if !ok || len(tok) != 3 {
		return AccessLog{}, syntaxErr("status", "want 3 digits", p.i-len(tok))
	}
	a.Status = status

	// A line cut in flight keeps what is intact after the status: the
	// missing fields read as absent and ParseIssue says what was cut.
	a.Bytes, a.RequestTimeMs = NoBytes, NoRequestTime
	if !p.more() {
		return a.cut(IssueTruncatedBytes)
	}
	tok, _ = p.token("bytes")
	n, err := strconv.ParseUint(tok, 10, 63)
	if err != nil && tok != "-" {
		return AccessLog{}, syntaxErr("bytes", "want digits or -", p.i-len(tok))
	}
	switch {
	case tok != "-" && p.i == len(p.s):
		// The line ends inside the number or right after it: the digits
		// may be a prefix of the logged value.
		return a.cut(IssueTruncatedBytes)
	case tok != "-":
		a.Bytes = int64(n)
	}

	var issue string
	if a.Referrer, issue, err = p.cutQuoted("referrer", IssueTruncatedReferrer, IssueUnterminatedReferrer); err != nil {
		return AccessLog{}, err
	} else if issue != "" {
		return a.cut(issue)
	}
	if a.UserAgent, issue, err = p.cutQuoted("user_agent", IssueTruncatedUserAgent, IssueUnterminatedUserAgent); err != nil {
		return AccessLog{}, err
	} else if issue != "" {
		return a.cut(issue)
	}

	if p.more() {
		tok, _ = p.token("request_time")
		if tok != "-" {
			ms, ok := parseSecondsAsMs(tok)
			if !ok {
				return AccessLog{}, syntaxErr("request_time", "want seconds like 0.042", p.i-len(tok))
			}
			a.RequestTimeMs = ms
		}
		if p.more() {
			tok, _ = p.token("cache_status")
			a.CacheStatus = dash(tok)
		}
		if p.more() {
			return AccessLog{}, syntaxErr("", "unexpected data after cache status", p.i)
		}
	}
	if err := a.Validate(); err != nil {
		return AccessLog{}, err
	}
	return a, nil
}

// cut returns a line cut after its status, with the issue recorded.
func (a *AccessLog) cut(issue string) (AccessLog, error) {
	a.ParseIssue = issue
	if err := a.Validate(); err != nil {
		return AccessLog{}, err
	}
	return *a, nil
}

// setRequest splits "METHOD path PROTO"; the protocol is the last word only
// if it looks like one, so paths with spaces survive.
func (a *AccessLog) setRequest(req string) error {
	if req == "-" || req == "" {
		return nil
	}
	sp := strings.IndexByte(req, ' ')
	if sp <= 0 {
		return syntaxErr("request", "want METHOD path [PROTOCOL]", -1)
	}
	a.Method, a.Path = req[:sp], req[sp+1:]
	if last := strings.LastIndexByte(a.Path, ' '); last >= 0 && strings.HasPrefix(a.Path[last+1:], "HTTP/") {
		a.Path, a.Protocol = a.Path[:last], a.Path[last+1:]
	} else if strings.HasPrefix(a.Path, "HTTP/") && !strings.ContainsRune(a.Path, ' ') {
		a.Path, a.Protocol = "", a.Path
	}
	return nil
}

// parseSecondsAsMs reads a decimal number of seconds; up to three decimals
// convert to milliseconds exactly.
func parseSecondsAsMs(s string) (float64, bool) {
	whole, frac, i := 0, 0, 0
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		whole = whole*10 + int(s[i]-'0')
		if whole > MaxDurationMs/1000 {
			return 0, false
		}
	}
	if i == 0 {
		return 0, false
	}
	if i < len(s) && s[i] == '.' {
		i++
		start := i
		for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		}
		if n := i - start; n == 0 || i != len(s) {
			return 0, false
		} else if n > 3 {
			f, err := strconv.ParseFloat(s, 64)
			return f * 1000, err == nil
		}
		for j := start; j < start+3; j++ {
			frac *= 10
			if j < i {
				frac += int(s[j] - '0')
			}
		}
	}
	if i != len(s) {
		return 0, false
	}
	return float64(whole*1000 + frac), true
}

// Validate checks required fields and ranges.
func (a *AccessLog) Validate() error {
	switch {
	case a.ClientIP == "":
		return missingErr("client_ip")
	case !hostChars(a.ClientIP):
		return invalidErr("client_ip", "want an IP address or host name")
	case a.Time.IsZero():
		return missingErr("time")
	case a.Status < 100 || a.Status > 599:
		return invalidErr("status", "out of range 100-599")
	case a.Bytes < 0 && a.Bytes != NoBytes:
		return invalidErr("bytes", "negative")
	case !finite(a.RequestTimeMs) || (a.RequestTimeMs < 0 && a.RequestTimeMs != NoRequestTime) || a.RequestTimeMs > MaxDurationMs:
		return invalidErr("request_time", "out of range 0-86400 s")
	}
	return nil
}

func hostChars(s string) bool {
	if len(s) > 255 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '.' || c == ':' || c == '-' || c == '_' || c == '%') {
			return false
		}
	}
	return true
}

// AppendLine appends the record as one access-log line (no newline), with the
// time in UTC. Absent request time and cache status write "-" when the other
// is present and nothing when both are absent; a record with a ParseIssue is
// written cut where that issue says.
func (a *AccessLog) AppendLine(dst []byte) []byte {
	dst = append(dst, a.ClientIP...)
	dst = append(dst, ' ')
	dst = appendDash(dst, a.Ident)
	dst = append(dst, ' ')
	dst = appendDash(dst, a.User)
	dst = append(dst, " ["...)
	dst = appendCLFTime(dst, a.Time)
	dst = append(dst, "] \""...)
	if a.Method == "" && a.Path == "" && a.Protocol == "" {
		dst = append(dst, '-')
	} else {
		dst = appendCLFEscaped(dst, a.Method)
		dst = append(dst, ' ')
		dst = appendCLFEscaped(dst, a.Path)
		if a.Protocol != "" {
			dst = append(dst, ' ')
			dst = appendCLFEscaped(dst, a.Protocol)
		}
	}
	dst = append(dst, "\" "...)
	dst = strconv.AppendInt(dst, int64(a.Status), 10)
	// A truncated record is written cut where its line was, so that it
	// parses back to the same value.
	if a.ParseIssue == IssueTruncatedBytes {
		return dst
	}
	dst = append(dst, ' ')
	if a.HasBytes() {
		dst = strconv.AppendInt(dst, a.Bytes, 10)
	} else {
		dst = append(dst, '-')
	}
	switch a.ParseIssue {
	case IssueTruncatedReferrer:
		return append(dst, ' ') // whole bytes: a space after them
	case IssueUnterminatedReferrer:
		return append(dst, " \""...)
	}
	dst = append(dst, " \""...)
	dst = appendCLFEscaped(dst, orDash(a.Referrer))
	dst = append(dst, '"')
	switch a.ParseIssue {
	case IssueTruncatedUserAgent:
		return dst
	case IssueUnterminatedUserAgent:
		return append(dst, " \""...)
	}
	dst = append(dst, " \""...)
	dst = appendCLFEscaped(dst, orDash(a.UserAgent))
	dst = append(dst, '"')
	if !a.HasRequestTime() && a.CacheStatus == "" {
		return dst
	}
	dst = append(dst, ' ')
	if a.HasRequestTime() {
		dst = strconv.AppendFloat(dst, a.RequestTimeMs/1000, 'f', -1, 64)
	} else {
		dst = append(dst, '-')
	}
	dst = append(dst, ' ')
	return appendDash(dst, a.CacheStatus)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func appendDash(dst []byte, s string) []byte { return append(dst, orDash(s)...) }

func appendCLFEscaped(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '"' || c == '\\' {
			dst = append(dst, '\\')
		}
		dst = append(dst, s[i])
	}
	return dst
}

// StatusClass returns "1xx" ... "5xx" for a status code, "" if out of range.
func StatusClass(status int) string {
	if status < 100 || status > 599 {
		return ""
	}
	return [...]string{"1xx", "2xx", "3xx", "4xx", "5xx"}[status/100-1]
}

// IsStaticFile reports whether a request target names a file: its last path
// segment has an extension (.jar, .xhtml, .tar.gz, .rss, ...) or is a
// dot-file (.env). Any extension counts, not a list of known ones, because
// real sites serve every kind of file. The query string and fragment are
// ignored, a full URL (a proxy request) counts by its path, ";params" of the
// segment are dropped and it is percent-decoded before the check; a target
// ending in "/" is a directory, whatever its name (/dir.name/).
func IsStaticFile(target string) bool {
	seg := lastSegment(target)
	if i := strings.IndexByte(seg, ';'); i >= 0 {
		seg = seg[:i]
	}
	if strings.IndexByte(seg, '%') >= 0 {
		if dec, err := url.PathUnescape(seg); err == nil {
			seg = dec
			if i := strings.LastIndexByte(seg, '/'); i >= 0 {
				seg = seg[i+1:] // an encoded slash still ends a name
			}
		}
	}
	dot := strings.LastIndexByte(seg, '.')
	return dot >= 0 && dot < len(seg)-1 && seg != ".."
}

// lastSegment is the last path segment of a request target, without query
// string and fragment; "" for a target ending in "/" or without a path.
func lastSegment(target string) string {
	if i := strings.IndexAny(target, "?#"); i >= 0 {
		target = target[:i]
	}
	if i := strings.Index(target, "://"); i >= 0 && !strings.Contains(target[:i], "/") {
		rest := target[i+3:]
		slash := strings.IndexByte(rest, '/')
		if slash < 0 {
			return "" // http://host: the root
		}
		target = rest[slash:]
	}
	return target[strings.LastIndexByte(target, '/')+1:]
}
