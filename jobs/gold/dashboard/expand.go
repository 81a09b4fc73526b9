package dashboard

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"weir/trino"
)

// Values are the selected values of a dashboard's variables (one element
// for a single value).
type Values map[string][]string

// Defaults returns each variable's current value as saved in the dashboard
// ("$__all" stands for all options); a variable saved without a choice
// takes its first option, as Grafana selects one when the dashboard loads.
func (d *Dashboard) Defaults() Values {
	out := Values{}
	for _, v := range d.Templating.List {
		switch val := v.Current.Value.(type) {
		case string:
			out[v.Name] = []string{val}
		case []any:
			for _, x := range val {
				out[v.Name] = append(out[v.Name], fmt.Sprint(x))
			}
		}
		if len(out[v.Name]) == 0 && len(v.Options) > 0 {
			out[v.Name] = []string{v.Options[0].Value}
		}
	}
	return out
}

var varRE = regexp.MustCompile(`\$(\w+)|\$\{(\w+)(?::(\w+))?\}|\[\[(\w+)(?::(\w+))?\]\]`)

// referencedVariables lists the variable names a text references.
func referencedVariables(s string) []string {
	var out []string
	for _, m := range varRE.FindAllStringSubmatch(s, -1) {
		for _, i := range []int{1, 2, 4} {
			if m[i] != "" {
				out = append(out, m[i])
			}
		}
	}
	return out
}

// Interpolate replaces template variables in sql as Grafana's template
// service does before the query reaches the data source: ${name:format}
// with the format's escaping (sqlstring: each value quoted with ' doubled,
// comma-joined; singlequote the same; csv, raw, pipe unescaped), and
// $name / ${name} through the Trino plugin's own interpolation (' doubled
// without quotes for a single value; quoted and comma-joined for multi or
// include-all variables). $__interval, $__interval_ms, $__from and $__to are
// the built-ins. "$__all" selects every option of the variable. Unknown
// names are left as they are, as Grafana does.
func (d *Dashboard) Interpolate(sql string, vals Values, from, to time.Time, interval time.Duration) string {
	return varRE.ReplaceAllStringFunc(sql, func(m string) string {
		sub := varRE.FindStringSubmatch(m)
		name, format := sub[1], ""
		if sub[2] != "" {
			name, format = sub[2], sub[3]
		} else if sub[4] != "" {
			name, format = sub[4], sub[5]
		}
		switch name {
		case "__interval":
			return formatInterval(interval)
		case "__interval_ms":
			return strconv.FormatInt(interval.Milliseconds(), 10)
		case "__from":
			return strconv.FormatInt(from.UnixMilli(), 10)
		case "__to":
			return strconv.FormatInt(to.UnixMilli(), 10)
		}
		v := d.Variable(name)
		if v == nil {
			return m
		}
		values := vals[name]
		if len(values) == 1 && values[0] == "$__all" {
			values = nil
			for _, o := range v.Options {
				if o.Value != "$__all" {
					values = append(values, o.Value)
				}
			}
		}
		multi := v.Multi || v.IncludeAll
		switch format {
		case "sqlstring", "singlequote":
			return trino.List(values)
		case "csv":
			return strings.Join(values, ",")
		case "pipe":
			return strings.Join(values, "|")
		case "raw", "text":
			return strings.Join(values, ",")
		case "":
			if !multi && len(values) == 1 {
				return trino.Escape(values[0])
			}
			return trino.List(values)
		default:
			return strings.Join(values, ",")
		}
	})
}

// formatInterval renders an interval as Grafana does (1m, 15m, 1h, 1d, 30s).
func formatInterval(d time.Duration) string {
	switch {
	case d >= 24*time.Hour && d%(24*time.Hour) == 0:
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	case d >= time.Hour && d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	case d >= time.Minute && d%time.Minute == 0:
		return fmt.Sprintf("%dm", d/time.Minute)
	case d >= time.Second && d%time.Second == 0:
		return fmt.Sprintf("%ds", d/time.Second)
	}
	return fmt.Sprintf("%dms", d.Milliseconds())
}

const trinoTimestamp = "2006-01-02 15:04:05"

// macros are the Trino plugin's macros (pkg/trino/macros.go of
// trinodb/grafana-trino), with the same output text.
var macros = map[string]func(args []string, from, to time.Time) (string, error){
	"timeFilter": func(args []string, from, to time.Time) (string, error) {
		if len(args) < 1 || args[0] == "" {
			return "", fmt.Errorf("$__timeFilter: expected at least one argument")
		}
		col := args[0]
		if len(args) > 1 {
			col = parseTime(args[0], args[1])
		}
		return fmt.Sprintf("%s BETWEEN TIMESTAMP '%s' AND TIMESTAMP '%s'", col, from.UTC().Format(trinoTimestamp), to.UTC().Format(trinoTimestamp)), nil
	},
	"timeFrom": func(_ []string, from, _ time.Time) (string, error) {
		return fmt.Sprintf("TIMESTAMP '%s'", from.UTC().Format(trinoTimestamp)), nil
	},
	"timeTo": func(_ []string, _, to time.Time) (string, error) {
		return fmt.Sprintf("TIMESTAMP '%s'", to.UTC().Format(trinoTimestamp)), nil
	},
	"dateFilter": func(args []string, from, to time.Time) (string, error) {
		if len(args) != 1 {
			return "", fmt.Errorf("$__dateFilter: expected 1 argument, received %d", len(args))
		}
		return fmt.Sprintf("%s BETWEEN date '%s' AND date '%s'", args[0], from.UTC().Format(time.DateOnly), to.UTC().Format(time.DateOnly)), nil
	},
	"unixEpochFilter": func(args []string, from, to time.Time) (string, error) {
		if len(args) != 1 {
			return "", fmt.Errorf("$__unixEpochFilter: expected one argument")
		}
		return fmt.Sprintf("%s BETWEEN %d AND %d", args[0], from.UTC().Unix(), to.UTC().Unix()), nil
	},
	"timeGroup": func(args []string, _, _ time.Time) (string, error) {
		secs, col, err := timeGroupArgs(args)
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("FROM_UNIXTIME(FLOOR(TO_UNIXTIME(%s)/%v)*%v)", col, secs, secs), nil
	},
	"unixEpochGroup": func(args []string, _, _ time.Time) (string, error) {
		secs, col, err := timeGroupArgs(args)
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("FROM_UNIXTIME(FLOOR(%s/%v)*%v)", col, secs, secs), nil
	},
	"parseTime": func(args []string, _, _ time.Time) (string, error) {
		if len(args) < 1 {
			return "", fmt.Errorf("$__parseTime: expected at least one argument")
		}
		format := "'yyyy-MM-dd HH:mm:ss'"
		if len(args) == 2 {
			format = args[1]
		}
		return parseTime(args[0], format), nil
	},
}

func parseTime(target, format string) string {
	switch format {
	case "":
		return target
	case "'yyyy-MM-dd HH:mm:ss'":
		return "TIMESTAMP " + target
	}
	return fmt.Sprintf("parse_datetime(%s,%s)", target, format)
}

func timeGroupArgs(args []string) (float64, string, error) {
	if len(args) < 2 {
		return 0, "", fmt.Errorf("macro $__timeGroup needs time column and interval")
	}
	d, err := parseGrafanaInterval(strings.Trim(args[1], "'"))
	if err != nil {
		return 0, "", fmt.Errorf("error parsing interval %v", args[1])
	}
	col := args[0]
	if len(args) == 3 {
		col = parseTime(args[0], args[2])
	}
	return d.Seconds(), col, nil
}

// parseGrafanaInterval reads 30s, 5m, 1h, 1d, 1w (gtime.ParseInterval).
func parseGrafanaInterval(s string) (time.Duration, error) {
	if s == "" {
		return 0, fmt.Errorf("empty interval")
	}
	unit := s[len(s)-1]
	n, err := strconv.Atoi(s[:len(s)-1])
	if err == nil {
		switch unit {
		case 'd':
			return time.Duration(n) * 24 * time.Hour, nil
		case 'w':
			return time.Duration(n) * 7 * 24 * time.Hour, nil
		}
	}
	return time.ParseDuration(s)
}

var macroNames = []string{"timeFilter", "timeFrom", "timeTo", "dateFilter", "unixEpochFilter", "timeGroup", "unixEpochGroup", "parseTime"}

// ExpandMacros expands the plugin's macros as its backend (grafana/sqlds)
// does: each $__name(args) — arguments up to the first ")", split on ","
// and trimmed — is replaced by the macro's text for the time range.
func ExpandMacros(sql string, from, to time.Time) (string, error) {
	for _, name := range macroNames {
		re := regexp.MustCompile(`\$__` + name + `(?:\((.*?)\))?`)
		for _, m := range re.FindAllStringSubmatch(sql, -1) {
			var args []string
			if len(m) > 1 && m[1] != "" {
				for _, a := range strings.Split(m[1], ",") {
					args = append(args, strings.TrimSpace(a))
				}
			}
			out, err := macros[name](args, from, to)
			if err != nil {
				return "", err
			}
			sql = strings.Replace(sql, m[0], out, -1)
		}
	}
	return sql, nil
}

// Render is the SQL the plugin sends for q: variables, then macros.
func (d *Dashboard) Render(q Query, vals Values, from, to time.Time, interval time.Duration) (string, error) {
	return ExpandMacros(d.Interpolate(q.SQL, vals, from, to, interval), from, to)
}
