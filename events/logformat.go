package events

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// AccessFormat is an access-log line format compiled once from its
// declaration: an nginx log_format string (CompileNginx), an Apache
// LogFormat string (CompileApache) or a list of tab-separated named fields
// (CompileTSV). It is a list of fields, each followed by the literal text
// that ends it; Parse walks the list with plain string scans (no regular
// expression).
//
// Well-known variables fill the AccessLog fields (nginx names; the Apache
// directives map to the same): remote_addr → ClientIP, remote_user → User,
// time_local / time_iso8601 / msec → Time, request → Method, Path and
// Protocol (or request_method, request_uri, server_protocol), status →
// Status, body_bytes_sent → Bytes, http_referer → Referrer, http_user_agent
// → UserAgent, request_time (seconds; Apache %D µs, %T s) → RequestTimeMs,
// upstream_cache_status → CacheStatus. Every other variable is kept, as
// logged ("-" included), in Extra under its nginx name (host,
// request_length, bytes_sent, upstream_bytes_received, ...; Apache's are
// named like nginx's: %{Host}i → http_host, %I → request_length, %O →
// bytes_sent, %v → server_name). A variable whose AccessLog field an
// earlier one already fills goes to Extra too.
//
// A line that does not match its format is an error naming the field where
// it stopped matching; lines cut in flight are errors here too (only the
// default format, ParseAccessLog, keeps them).
type AccessFormat struct {
	syntax string // "nginx", "apache" or "tsv"
	lead   string // literal text before the first field
	fields []formatField
	// extras is the number of fields that go to Extra (the map's size).
	extras int
}

// formatField is one field of a compiled format and the literal after it.
type formatField struct {
	kind fieldKind
	name string // nginx variable name: the Extra key, and the field of errors
	// sep is the literal text after the field; "" for a last field, which
	// runs to the end of the line.
	sep string
	// quoted: the field sits between double quotes (sep starts with the
	// closing one); it ends at the first quote not escaped by a backslash.
	quoted bool
	// width is the fixed length of the value (time_local), or 0.
	width int
	// bracketed: the value is [...] (Apache %t), brackets not kept.
	bracketed bool
	// list: nginx writes several values ("0.012, 0.010 : 0.003") for one
	// upstream variable; a space followed by more of the list does not end it.
	list bool
}

type fieldKind uint8

const (
	kindExtra fieldKind = iota
	kindClient
	kindIdent
	kindUser
	kindTimeCLF     // 10/Oct/2000:13:55:36 -0700
	kindTimeISO     // 2000-10-10T13:55:36-07:00
	kindTimeSecFrac // 971211336.123 (nginx $msec)
	kindTimeMilli   // 971211336123 (Apache %{msec}t)
	kindTimeMicro   // 971211336123456 (Apache %{usec}t)
	kindRequest
	kindMethod
	kindPath
	kindProtocol
	kindStatus
	kindBytes
	kindReferrer
	kindUserAgent
	kindSeconds // request time in (decimal) seconds
	kindMillis  // request time in milliseconds (Apache %{ms}T)
	kindMicros  // request time in microseconds (Apache %D)
	kindCache
)

// slot is the AccessLog field a kind fills; one variable per slot, the
// others go to Extra.
func (k fieldKind) slot() int {
	switch k {
	case kindTimeCLF, kindTimeISO, kindTimeSecFrac, kindTimeMilli, kindTimeMicro:
		return int(kindTimeCLF)
	case kindSeconds, kindMillis, kindMicros:
		return int(kindSeconds)
	}
	return int(k)
}

// nginxVars are the nginx variables with an AccessLog field.
var nginxVars = map[string]fieldKind{
	"remote_addr":           kindClient,
	"remote_user":           kindUser,
	"time_local":            kindTimeCLF,
	"time_iso8601":          kindTimeISO,
	"msec":                  kindTimeSecFrac,
	"request":               kindRequest,
	"request_method":        kindMethod,
	"request_uri":           kindPath,
	"server_protocol":       kindProtocol,
	"status":                kindStatus,
	"body_bytes_sent":       kindBytes,
	"http_referer":          kindReferrer,
	"http_user_agent":       kindUserAgent,
	"request_time":          kindSeconds,
	"upstream_cache_status": kindCache,
}

// Named formats: nginx's predefined combined, and the LogFormat nicknames
// of Apache's default configuration.
const (
	NginxCombined  = `$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"`
	ApacheCommon   = `%h %l %u %t "%r" %>s %b`
	ApacheCombined = `%h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-agent}i"`
)

// FormatError is a declaration that does not compile; Offset is the byte
// of the declaration (or the index of the TSV field) where it went wrong.
type FormatError struct {
	Syntax string
	Offset int
	Reason string
}

func (e *FormatError) Error() string {
	if e.Syntax == "tsv" {
		return fmt.Sprintf("tsv field %d: %s", e.Offset, e.Reason)
	}
	return fmt.Sprintf("%s format at byte %d: %s", e.Syntax, e.Offset, e.Reason)
}

// CompileNginx compiles an nginx log_format string ($var or ${var}; the
// concatenated value, without nginx.conf's quotes), or the name of nginx's
// predefined "combined".
func CompileNginx(decl string) (*AccessFormat, error) {
	if decl == "combined" {
		decl = NginxCombined
	}
	b := formatBuilder{f: &AccessFormat{syntax: "nginx"}}
	for i := 0; i < len(decl); {
		c := decl[i]
		if c != '$' {
			b.lit.WriteByte(c)
			i++
			continue
		}
		start := i
		i++
		braced := i < len(decl) && decl[i] == '{'
		if braced {
			i++
		}
		j := i
		for j < len(decl) && isVarChar(decl[j]) {
			j++
		}
		name := decl[i:j]
		if name == "" {
			return nil, &FormatError{"nginx", start, "$ without a variable name"}
		}
		if braced {
			if j >= len(decl) || decl[j] != '}' {
				return nil, &FormatError{"nginx", start, "${ without its closing }"}
			}
			j++
		}
		kind, ok := nginxVars[name]
		if !ok {
			kind = kindExtra
		}
		if err := b.field(start, formatField{kind: kind, name: name, list: strings.HasPrefix(name, "upstream_")}); err != nil {
			return nil, err
		}
		i = j
	}
	return b.done()
}

func isVarChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}

// apacheDirectives are the Apache LogFormat directives without {argument},
// by letter: the field they fill and their nginx name.
var apacheDirectives = map[byte]struct {
	kind fieldKind
	name string
}{
	'a': {kindClient, "remote_addr"},
	'h': {kindClient, "remote_addr"},
	'A': {kindExtra, "server_addr"},
	'b': {kindBytes, "body_bytes_sent"},
	'B': {kindBytes, "body_bytes_sent"},
	'D': {kindMicros, "request_time_us"},
	'f': {kindExtra, "request_filename"},
	'H': {kindProtocol, "server_protocol"},
	'k': {kindExtra, "keepalive_requests"},
	'l': {kindIdent, "remote_ident"},
	'L': {kindExtra, "log_id"},
	'm': {kindMethod, "request_method"},
	'p': {kindExtra, "server_port"},
	'P': {kindExtra, "pid"},
	'q': {kindExtra, "query_string"},
	'r': {kindRequest, "request"},
	'R': {kindExtra, "handler"},
	's': {kindStatus, "status"},
	't': {kindTimeCLF, "time_local"},
	'T': {kindSeconds, "request_time"},
	'u': {kindUser, "remote_user"},
	'U': {kindPath, "uri"},
	'v': {kindExtra, "server_name"},
	'V': {kindExtra, "host"},
	'X': {kindExtra, "connection_status"},
	'I': {kindExtra, "request_length"},
	'O': {kindExtra, "bytes_sent"},
	'S': {kindExtra, "bytes_transferred"},
}

// CompileApache compiles an Apache LogFormat string (%h, %>s, %{Name}i,
// ...; \" \\ \t \n as in httpd.conf), or one of the nicknames "common" and
// "combined".
func CompileApache(decl string) (*AccessFormat, error) {
	switch decl {
	case "common":
		decl = ApacheCommon
	case "combined":
		decl = ApacheCombined
	}
	b := formatBuilder{f: &AccessFormat{syntax: "apache"}}
	for i := 0; i < len(decl); {
		c := decl[i]
		if c == '\\' && i+1 < len(decl) {
			switch decl[i+1] {
			case '"', '\\':
				b.lit.WriteByte(decl[i+1])
			case 't':
				b.lit.WriteByte('\t')
			case 'n':
				b.lit.WriteByte('\n')
			default:
				b.lit.WriteByte('\\')
				b.lit.WriteByte(decl[i+1])
			}
			i += 2
			continue
		}
		if c != '%' {
			b.lit.WriteByte(c)
			i++
			continue
		}
		start := i
		i++
		if i < len(decl) && decl[i] == '%' {
			b.lit.WriteByte('%')
			i++
			continue
		}
		// Modifiers: < or > (original or final request) and a status
		// condition (400,501 or !200); the value is "-" when it fails.
		for i < len(decl) && (decl[i] == '<' || decl[i] == '>' || decl[i] == '!' || decl[i] == ',' || decl[i] >= '0' && decl[i] <= '9') {
			i++
		}
		var arg string
		if i < len(decl) && decl[i] == '{' {
			end := strings.IndexByte(decl[i:], '}')
			if end < 0 {
				return nil, &FormatError{"apache", start, "%{ without its closing }"}
			}
			arg, i = decl[i+1:i+end], i+end+1
		}
		if i >= len(decl) {
			return nil, &FormatError{"apache", start, "% without a directive letter"}
		}
		f, err := apacheField(decl[i], arg)
		if err != nil {
			return nil, &FormatError{"apache", start, err.Error()}
		}
		i++
		if err := b.field(start, f); err != nil {
			return nil, err
		}
	}
	return b.done()
}

func apacheField(letter byte, arg string) (formatField, error) {
	header := func(prefix string) string {
		return prefix + strings.ToLower(strings.ReplaceAll(arg, "-", "_"))
	}
	if arg == "" {
		d, ok := apacheDirectives[letter]
		switch {
		case !ok:
			return formatField{}, fmt.Errorf("unknown directive %%%c", letter)
		case letter == 't':
			return formatField{kind: kindTimeCLF, name: d.name, bracketed: true}, nil
		}
		return formatField{kind: d.kind, name: d.name}, nil
	}
	switch letter {
	case 'i':
		switch strings.ToLower(arg) {
		case "referer":
			return formatField{kind: kindReferrer, name: "http_referer"}, nil
		case "user-agent":
			return formatField{kind: kindUserAgent, name: "http_user_agent"}, nil
		}
		return formatField{name: header("http_")}, nil
	case 'o':
		return formatField{name: header("sent_http_")}, nil
	case 'C':
		return formatField{name: "cookie_" + arg}, nil
	case 'e':
		return formatField{name: "env_" + arg}, nil
	case 'n':
		return formatField{name: "note_" + arg}, nil
	case 'a', 'h':
		return formatField{name: "peer_addr"}, nil
	case 'p':
		return formatField{name: header("port_")}, nil
	case 'T':
		switch arg {
		case "s":
			return formatField{kind: kindSeconds, name: "request_time"}, nil
		case "ms":
			return formatField{kind: kindMillis, name: "request_time_ms"}, nil
		case "us":
			return formatField{kind: kindMicros, name: "request_time_us"}, nil
		}
		return formatField{}, fmt.Errorf("%%{%s}T: want s, ms or us", arg)
	case 't':
		unit := strings.TrimPrefix(strings.TrimPrefix(arg, "begin:"), "end:")
		switch unit {
		case "sec":
			return formatField{kind: kindTimeSecFrac, name: "time_sec"}, nil
		case "msec":
			return formatField{kind: kindTimeMilli, name: "time_msec"}, nil
		case "usec":
			return formatField{kind: kindTimeMicro, name: "time_usec"}, nil
		}
		// A strftime layout: kept as a string; the format then needs
		// another time field.
		return formatField{name: "time_" + arg}, nil
	}
	return formatField{}, fmt.Errorf("unknown directive %%{%s}%c", arg, letter)
}

// CompileTSV compiles a line of tab-separated fields named like nginx
// variables (remote_addr, time_iso8601, status, host, request_length, ...).
func CompileTSV(names []string) (*AccessFormat, error) {
	b := formatBuilder{f: &AccessFormat{syntax: "tsv"}}
	for i, name := range names {
		if name == "" {
			return nil, &FormatError{"tsv", i, "empty field name"}
		}
		for j := 0; j < len(name); j++ {
			if !isVarChar(name[j]) {
				return nil, &FormatError{"tsv", i, fmt.Sprintf("field name %q: want letters, digits and _", name)}
			}
		}
		if i > 0 {
			b.lit.WriteByte('\t')
		}
		kind, ok := nginxVars[name]
		if !ok {
			kind = kindExtra
		}
		if err := b.field(i, formatField{kind: kind, name: name}); err != nil {
			return nil, err
		}
	}
	return b.done()
}

// formatBuilder collects fields and the literals between them.
type formatBuilder struct {
	f     *AccessFormat
	lit   strings.Builder
	slots [32]bool
	names map[string]bool
	// after says the last thing added was a field (no literal since).
	after bool
}

func (b *formatBuilder) field(off int, f formatField) error {
	if b.after && b.lit.Len() == 0 {
		prev := b.f.fields[len(b.f.fields)-1].name
		return &FormatError{b.f.syntax, off, fmt.Sprintf("%s follows %s without a separator: where one ends is unknowable", f.name, prev)}
	}
	b.flush()
	if f.kind != kindExtra {
		if b.slots[f.kind.slot()] {
			f.kind = kindExtra // an earlier variable fills the field
		}
		b.slots[f.kind.slot()] = true
	}
	if f.kind == kindTimeCLF && !f.bracketed {
		f.width = clfTimeLen
	}
	if f.kind == kindExtra {
		if b.names == nil {
			b.names = map[string]bool{}
		}
		if b.names[f.name] {
			return &FormatError{b.f.syntax, off, fmt.Sprintf("%s appears twice", f.name)}
		}
		b.names[f.name] = true
		b.f.extras++
	}
	b.f.fields = append(b.f.fields, f)
	b.after = true
	return nil
}

// flush ends the literal before the next field (or the line).
func (b *formatBuilder) flush() {
	lit := b.lit.String()
	b.lit.Reset()
	b.after = false
	if len(b.f.fields) == 0 {
		b.f.lead = lit
		return
	}
	b.f.fields[len(b.f.fields)-1].sep = lit
}

func (b *formatBuilder) done() (*AccessFormat, error) {
	if len(b.f.fields) == 0 {
		return nil, &FormatError{b.f.syntax, 0, "no fields"}
	}
	b.flush()
	f := b.f
	for i := range f.fields {
		fd := &f.fields[i]
		before := f.lead
		if i > 0 {
			before = f.fields[i-1].sep
		}
		fd.quoted = strings.HasSuffix(before, `"`) && strings.HasPrefix(fd.sep, `"`)
	}
	for _, need := range []struct {
		kind fieldKind
		what string
	}{
		{kindClient, "a client address ($remote_addr, %h or %a)"},
		{kindTimeCLF, "a time ($time_local, $time_iso8601, $msec, %t or %{sec}t)"},
		{kindStatus, "a status ($status or %>s)"},
	} {
		if !b.slots[need.kind.slot()] {
			return nil, &FormatError{f.syntax, 0, "no field for " + need.what}
		}
	}
	return f, nil
}

// String is the format's syntax and fields, for logs.
func (f *AccessFormat) String() string {
	names := make([]string, len(f.fields))
	for i, fd := range f.fields {
		names[i] = fd.name
	}
	return f.syntax + "(" + strings.Join(names, ",") + ")"
}

// Parse reads one line (a trailing newline is ignored) in this format and
// validates it like ParseAccessLog.
func (f *AccessFormat) Parse(b []byte) (AccessLog, error) {
	for n := len(b); n > 0 && (b[n-1] == '\n' || b[n-1] == '\r'); n-- {
		b = b[:n-1]
	}
	if err := checkPayload(b); err != nil {
		return AccessLog{}, err
	}
	s := string(b)
	if !strings.HasPrefix(s, f.lead) {
		return AccessLog{}, syntaxErr(f.fields[0].name, fmt.Sprintf("want %q before it", f.lead), 0)
	}
	a := AccessLog{Bytes: NoBytes, RequestTimeMs: NoRequestTime}
	if f.extras > 0 {
		a.Extra = make(map[string]string, f.extras)
	}
	i := len(f.lead)
	for k := range f.fields {
		fd := &f.fields[k]
		start := i
		var v string
		switch {
		case fd.quoted:
			end, escaped := quotedEnd(s, i)
			if end < 0 {
				return AccessLog{}, &ParseError{Field: fd.name, Offset: i - 1, Err: errUnterminated}
			}
			v, i = s[i:end], end
			if escaped {
				v = unescapeCLF(v)
			}
		case fd.bracketed:
			end := strings.IndexByte(s[i:], ']')
			if i >= len(s) || s[i] != '[' || end < 0 {
				return AccessLog{}, syntaxErr(fd.name, "want [time]", i)
			}
			v, i = s[i+1:i+end], i+end+1
		case fd.width > 0:
			if len(s)-i < fd.width {
				return AccessLog{}, syntaxErr(fd.name, "truncated line", i)
			}
			v, i = s[i:i+fd.width], i+fd.width
		case fd.sep == "":
			v, i = s[i:], len(s)
			if f.syntax == "tsv" && strings.IndexByte(v, '\t') >= 0 {
				return AccessLog{}, syntaxErr(fd.name, fmt.Sprintf("more than the %d tab-separated fields declared", len(f.fields)), start+strings.IndexByte(v, '\t'))
			}
		default:
			end := fieldEnd(s, i, fd)
			if end < 0 {
				return AccessLog{}, syntaxErr(fd.name, fmt.Sprintf("want %q after it", fd.sep), i)
			}
			v, i = s[i:end], end
		}
		if !strings.HasPrefix(s[i:], fd.sep) {
			return AccessLog{}, syntaxErr(fd.name, fmt.Sprintf("want %q after it", fd.sep), i)
		}
		i += len(fd.sep)
		if err := a.set(fd, v, start); err != nil {
			return AccessLog{}, err
		}
	}
	if i != len(s) {
		return AccessLog{}, syntaxErr("", "unexpected data after the last field", i)
	}
	if err := a.Validate(); err != nil {
		return AccessLog{}, err
	}
	return a, nil
}

// quotedEnd is the offset of the first quote at or after i that no
// backslash escapes (a backslash escapes the byte after it, as Apache and
// nginx write them), and whether the value had escapes; -1 if none.
func quotedEnd(s string, i int) (int, bool) {
	escaped := false
	for i <= len(s) {
		q := strings.IndexByte(s[i:], '"')
		if q < 0 {
			return -1, false
		}
		bs := strings.IndexByte(s[i:i+q], '\\')
		if bs < 0 {
			return i + q, escaped
		}
		escaped = true
		i += bs + 2
	}
	return -1, false
}

// fieldEnd is where an unquoted field ends: the next occurrence of its
// separator; for an nginx list value, one that does not continue the list.
func fieldEnd(s string, i int, fd *formatField) int {
	for from := i; ; {
		var j int
		if len(fd.sep) == 1 {
			j = strings.IndexByte(s[from:], fd.sep[0])
		} else {
			j = strings.Index(s[from:], fd.sep)
		}
		if j < 0 {
			return -1
		}
		end := from + j
		if !fd.list || fd.sep[0] != ' ' || !continuesList(s, i, end) {
			return end
		}
		from = end + 1
	}
}

// continuesList: nginx separates the values of several upstreams by ", "
// and of several upstream groups by " : ".
func continuesList(s string, start, end int) bool {
	return end > start && s[end-1] == ',' || strings.HasPrefix(s[end:], " : ") || end > start+1 && s[end-1] == ':' && s[end-2] == ' '
}

// set stores the value of one field; start is its offset, for errors.
func (a *AccessLog) set(fd *formatField, v string, start int) error {
	switch fd.kind {
	case kindExtra:
		a.Extra[fd.name] = v
	case kindClient:
		a.ClientIP = v
	case kindIdent:
		a.Ident = dash(v)
	case kindUser:
		a.User = dash(v)
	case kindReferrer:
		a.Referrer = dash(v)
	case kindUserAgent:
		a.UserAgent = dash(v)
	case kindCache:
		a.CacheStatus = dash(v)
	case kindMethod:
		a.Method = dash(v)
	case kindPath:
		a.Path = dash(v)
	case kindProtocol:
		a.Protocol = dash(v)
	case kindRequest:
		if err := a.setRequest(v); err != nil {
			return syntaxErr(fd.name, "want METHOD path [PROTOCOL]", start)
		}
	case kindStatus:
		status, ok := digits(v, 3)
		if !ok || len(v) != 3 {
			return syntaxErr(fd.name, "want 3 digits", start)
		}
		a.Status = status
	case kindBytes:
		if v == "-" {
			return nil
		}
		n, err := strconv.ParseUint(v, 10, 63)
		if err != nil {
			return syntaxErr(fd.name, "want digits or -", start)
		}
		a.Bytes = int64(n)
	case kindSeconds, kindMillis, kindMicros:
		if v == "-" {
			return nil
		}
		var ms float64
		ok := true
		if fd.kind == kindSeconds {
			ms, ok = parseSecondsAsMs(v)
		} else if n, err := strconv.ParseUint(v, 10, 63); err != nil {
			ok = false
		} else if fd.kind == kindMillis {
			ms = float64(n)
		} else {
			ms = float64(n) / 1000
		}
		if !ok {
			return syntaxErr(fd.name, "want a duration like 0.042", start)
		}
		a.RequestTimeMs = ms
	case kindTimeCLF:
		t, ok := parseCLFTime(v)
		if !ok {
			return syntaxErr(fd.name, "want dd/Mon/yyyy:HH:MM:SS ±hhmm in 1970-2199", start)
		}
		a.Time = t
	case kindTimeISO:
		t, ok := parseRFC3339(v)
		if !ok {
			return syntaxErr(fd.name, "want an ISO 8601 time in 1970-2199", start)
		}
		a.Time = t
	case kindTimeSecFrac, kindTimeMilli, kindTimeMicro:
		t, ok := parseEpoch(v, fd.kind)
		if !ok {
			return syntaxErr(fd.name, "want a Unix time in 1970-2199", start)
		}
		a.Time = t
	}
	return nil
}

// parseEpoch reads a Unix time: seconds with an optional fraction
// (1710425366.535), or whole milli- or microseconds.
func parseEpoch(v string, kind fieldKind) (time.Time, bool) {
	whole, i := int64(0), 0
	for ; i < len(v) && v[i] >= '0' && v[i] <= '9'; i++ {
		if whole > 1<<50 {
			return time.Time{}, false
		}
		whole = whole*10 + int64(v[i]-'0')
	}
	if i == 0 {
		return time.Time{}, false
	}
	var t time.Time
	switch kind {
	case kindTimeMilli:
		t = time.UnixMilli(whole)
	case kindTimeMicro:
		t = time.UnixMicro(whole)
	default:
		ns := 0
		if i < len(v) && v[i] == '.' {
			i++
			start := i
			for ; i < len(v) && v[i] >= '0' && v[i] <= '9'; i++ {
				if i-start < 9 {
					ns = ns*10 + int(v[i]-'0')
				}
			}
			n := i - start
			if n == 0 {
				return time.Time{}, false
			}
			for ; n < 9; n++ {
				ns *= 10
			}
		}
		t = time.Unix(whole, int64(ns))
	}
	if i != len(v) {
		return time.Time{}, false
	}
	t = t.UTC()
	if y := t.Year(); y < minYear || y > maxYear {
		return time.Time{}, false
	}
	return t, true
}

// AccessFormats are the declared formats by topic; a topic without one
// reads the default format (ParseAccessLog). The zero value declares none.
type AccessFormats map[string]*AccessFormat

// For returns the parser of a topic's lines: its declared format, else the
// format declared for the topic it is a prefixed copy of ("staging.web.access"
// of "web.access"), else ParseAccessLog.
func (fs AccessFormats) For(topic string) func([]byte) (AccessLog, error) {
	if f := fs.Lookup(topic); f != nil {
		return f.Parse
	}
	return ParseAccessLog
}

// Lookup returns the format declared for topic (or the topic it is a
// prefixed copy of, the longest such), or nil.
func (fs AccessFormats) Lookup(topic string) *AccessFormat {
	if len(fs) == 0 {
		return nil
	}
	if f, ok := fs[topic]; ok {
		return f
	}
	var best string
	for k := range fs {
		if len(k) > len(best) && len(topic) > len(k) && strings.HasSuffix(topic, k) && topic[len(topic)-len(k)-1] == '.' {
			best = k
		}
	}
	if best == "" {
		return nil
	}
	return fs[best]
}

// Topics lists the topics with a declared format, sorted.
func (fs AccessFormats) Topics() []string {
	out := make([]string, 0, len(fs))
	for k := range fs {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
