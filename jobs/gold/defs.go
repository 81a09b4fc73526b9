package gold

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"weir/jobs/orders"
)

// Kind tells a view from a rollup table.
type Kind string

const (
	// KindView is a Trino view, created or replaced by Apply.
	KindView Kind = "view"
	// KindRollup is a gold Iceberg table that Refresh keeps up to date.
	KindRollup Kind = "rollup"
	// KindSnapshot is a gold Iceberg table holding its query's answer as
	// of its last run: Apply creates it, and Refresh runs the query again
	// once the answer is older than Every (@every). For metadata reads too
	// costly to run on every dashboard load, whose answer may be that old.
	KindSnapshot Kind = "snapshot"
	// KindTable is a gold Iceberg table that Apply creates and another job
	// writes (gold.rollup_state, gold.orders).
	KindTable Kind = "table"
)

// Definition is one file of sql/gold: a view (NAME.sql) or a rollup table
// (rollups/NAME.sql) or a snapshot table (snapshots/NAME.sql, with its
// "-- @every: 1m"). Leading "--" lines are the description; in a rollup
// they may hold directives "-- @key: a, b", "-- @partitioning: day(bucket)",
// "-- @time: event_ts" (the event-time column of the sources, by which
// a refresh restricts them to the days that changed) and "-- @window:
// window_start, 1m" (rows are windows keyed by their start column that read
// the sources up to that long past their start, so a window may span
// midnight: see Refresh) and "-- @slice: 15m" (no group spans a 15-minute
// slice of the day: Refresh recomputes changed slices, not whole days).
type Definition struct {
	Name        string // table or view name in the gold schema
	Kind        Kind
	File        string
	Description string
	SQL         string // the query, header comments included
	// Rollups only.
	Key          []string
	Partitioning []string
	TimeColumn   string
	// WindowColumn and WindowSize (@window): each row is a window starting
	// at WindowColumn that reads source rows up to WindowSize after it.
	WindowColumn string
	WindowSize   time.Duration
	// Slice (@slice: 15m) is the span of event time no group of the
	// rollup spans (aligned to UTC midnight): a refresh recomputes only the
	// slices whose count changed. 0: a day.
	Slice time.Duration
	// Every (@every, snapshots only) is how old a snapshot's answer may
	// get before Refresh runs its query again.
	Every time.Duration
	// Sources are the non-gold tables read: "silver.events", or a table of
	// another Trino catalog by its three-part name ("scheduler.public.dag_runs",
	// which Target does not map); Deps the gold objects read. Both in order
	// of first appearance.
	Sources []string
	Deps    []string
}

// fingerprint identifies what a gold object is made from, as its comment
// records it: the definition's SQL in t's schemas, and a rollup's key and
// partitioning.
func (t Target) fingerprint(d *Definition) string {
	body := t.physical(d.SQL)
	if d.Kind != KindRollup {
		return Fingerprint(body)
	}
	return Fingerprint(body + "|" + strings.Join(d.Key, ",") + "|" + strings.Join(d.Partitioning, ","))
}

// timePartition is the rollup's first partition column ("day(hour)":
// hour) when it is a key column of type date (isDate) or timestamp, as
// cols (the table's columns) say; "" otherwise: unpartitioned, a bucket or
// truncate transform, or a column a MERGE's day ranges cannot bound.
func (d *Definition) timePartition(cols []column) (name string, isDate bool) {
	if len(d.Partitioning) == 0 {
		return "", false
	}
	p := d.Partitioning[0]
	if open := strings.IndexByte(p, '('); open >= 0 && strings.HasSuffix(p, ")") {
		p = p[open+1 : len(p)-1]
	}
	p = strings.TrimSpace(p)
	if !slices.Contains(d.Key, p) {
		return "", false
	}
	for _, c := range cols {
		if c.name == p && (c.typ == "date" || strings.HasPrefix(c.typ, "timestamp")) {
			return p, c.typ == "date"
		}
	}
	return "", false
}

var nameRE = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// Load reads every *.sql (views), rollups/*.sql (rollup tables) and
// snapshots/*.sql (snapshot tables) of fsys
// and returns them in dependency order: anything a definition reads from
// gold comes before it. Names must be unique, lower-case identifiers.
func Load(fsys fs.FS) ([]*Definition, error) {
	var defs []*Definition
	for _, dir := range []struct {
		glob string
		kind Kind
	}{{"*.sql", KindView}, {"rollups/*.sql", KindRollup}, {"snapshots/*.sql", KindSnapshot}} {
		files, err := fs.Glob(fsys, dir.glob)
		if err != nil {
			return nil, fmt.Errorf("list gold sql: %w", err)
		}
		for _, f := range files {
			raw, err := fs.ReadFile(fsys, f)
			if err != nil {
				return nil, fmt.Errorf("read %s: %w", f, err)
			}
			d, err := parseDefinition(f, dir.kind, string(raw))
			if err != nil {
				return nil, err
			}
			defs = append(defs, d)
		}
	}
	if len(defs) == 0 {
		return nil, errors.New("load gold sql: no definitions found")
	}
	return order(defs)
}

func parseDefinition(file string, kind Kind, text string) (*Definition, error) {
	d := &Definition{Name: strings.TrimSuffix(path.Base(file), ".sql"), Kind: kind, File: file}
	if !nameRE.MatchString(d.Name) {
		return nil, fmt.Errorf("%s: name %q: want a lower-case identifier", file, d.Name)
	}
	var desc []string
	lines := strings.Split(text, "\n")
	for _, line := range lines {
		l := strings.TrimSpace(line)
		if !strings.HasPrefix(l, "--") {
			if l == "" {
				continue
			}
			break
		}
		l = strings.TrimSpace(strings.TrimPrefix(l, "--"))
		if strings.HasPrefix(l, "@") {
			k, v, ok := strings.Cut(l[1:], ":")
			if !ok {
				return nil, fmt.Errorf("%s: directive %q: want @name: value", file, l)
			}
			k = strings.TrimSpace(k)
			if kind != KindRollup && (kind != KindSnapshot || k != "every") {
				return nil, fmt.Errorf("%s: directive @%s: only rollups take directives, and snapshots @every", file, k)
			}
			vals := splitList(v)
			switch k {
			case "key":
				d.Key = vals
			case "partitioning":
				d.Partitioning = vals
			case "time":
				if len(vals) != 1 {
					return nil, fmt.Errorf("%s: @time: want one column", file)
				}
				d.TimeColumn = vals[0]
			case "window":
				if len(vals) != 2 {
					return nil, fmt.Errorf("%s: @window: want column, duration", file)
				}
				size, err := time.ParseDuration(vals[1])
				if err != nil || size <= 0 || size > 24*time.Hour {
					return nil, fmt.Errorf("%s: @window: duration %q: want a positive duration up to 24h", file, vals[1])
				}
				d.WindowColumn, d.WindowSize = vals[0], size
			case "slice":
				if len(vals) != 1 {
					return nil, fmt.Errorf("%s: @slice: want one duration", file)
				}
				size, err := parseSlice(vals[0])
				if err != nil {
					return nil, fmt.Errorf("%s: @slice: %w", file, err)
				}
				d.Slice = size
			case "every":
				if kind != KindSnapshot {
					return nil, fmt.Errorf("%s: @every: only snapshots take it", file)
				}
				every, err := time.ParseDuration(strings.TrimSpace(v))
				if err != nil || every < time.Second || every > 24*time.Hour {
					return nil, fmt.Errorf("%s: @every: %q: want a duration from 1s to 24h", file, strings.TrimSpace(v))
				}
				d.Every = every
			default:
				return nil, fmt.Errorf("%s: unknown directive @%s", file, k)
			}
			continue
		}
		desc = append(desc, l)
	}
	d.Description = strings.TrimSpace(strings.Join(desc, " "))
	d.SQL = strings.TrimSpace(text)
	if strings.Contains(Normalize(d.SQL), ";") {
		return nil, fmt.Errorf("%s: one statement per file (found ';')", file)
	}
	if Normalize(d.SQL) == "" {
		return nil, fmt.Errorf("%s: empty query", file)
	}
	d.Sources = references(d.SQL, "silver", "archive", "bronze")
	foreign := catalogTables(d.SQL)
	d.Sources = append(d.Sources, foreign...)
	for _, ref := range references(d.SQL, "gold") {
		// A metadata table (gold."x$partitions") depends on its table.
		name, _, _ := strings.Cut(strings.TrimPrefix(ref, "gold."), "$")
		if !slices.Contains(d.Deps, name) {
			d.Deps = append(d.Deps, name)
		}
	}
	if kind == KindSnapshot && d.Every == 0 {
		return nil, fmt.Errorf("%s: snapshot needs @every", file)
	}
	if kind == KindRollup {
		switch {
		case len(d.Key) == 0:
			return nil, fmt.Errorf("%s: rollup needs @key", file)
		case d.TimeColumn == "":
			return nil, fmt.Errorf("%s: rollup needs @time", file)
		case len(foreign) > 0:
			// Refresh counts source rows per day through the lakehouse
			// catalog; another catalog's tables have no such counts.
			return nil, fmt.Errorf("%s: a rollup reads the lakehouse only (reads %v)", file, foreign)
		case len(d.Sources) == 0:
			return nil, fmt.Errorf("%s: rollup reads no silver table", file)
		case len(d.Deps) > 0:
			return nil, fmt.Errorf("%s: a rollup reads silver, not gold (reads %v)", file, d.Deps)
		case d.WindowSize > d.slice():
			// Refresh recomputes one slice before a changed one.
			return nil, fmt.Errorf("%s: @window %s is longer than @slice %s", file, d.WindowSize, d.slice())
		}
	}
	return d, nil
}

func splitList(s string) []string {
	var out []string
	depth, start := 0, 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || (s[i] == ',' && depth == 0) {
			if v := strings.TrimSpace(s[start:i]); v != "" {
				out = append(out, v)
			}
			start = i + 1
			continue
		}
		switch s[i] {
		case '(':
			depth++
		case ')':
			depth--
		}
	}
	return out
}

// appliedTables are the gold tables Apply creates itself, before any
// definition, and other jobs write: a definition may read them though no
// file defines them, and Maintain keeps them with the rollups.
var appliedTables = []string{StateTable, orders.TableOrders}

// order sorts defs topologically on Deps (ties by kind, rollups first, then
// name) and rejects duplicates, unknown gold references and cycles.
func order(defs []*Definition) ([]*Definition, error) {
	byName := map[string]*Definition{}
	for _, d := range defs {
		if o, dup := byName[d.Name]; dup {
			return nil, fmt.Errorf("gold name %q defined twice (%s, %s)", d.Name, o.File, d.File)
		}
		byName[d.Name] = d
	}
	sort.Slice(defs, func(i, j int) bool {
		if defs[i].Kind != defs[j].Kind {
			return defs[i].Kind == KindRollup
		}
		return defs[i].Name < defs[j].Name
	})
	for _, d := range defs {
		for _, dep := range d.Deps {
			if byName[dep] == nil && !slices.Contains(appliedTables, dep) {
				return nil, fmt.Errorf("%s: reads gold.%s, which no file defines", d.File, dep)
			}
		}
	}
	var out []*Definition
	state := map[string]int{} // 1 visiting, 2 done
	var visit func(d *Definition, path []string) error
	visit = func(d *Definition, path []string) error {
		switch state[d.Name] {
		case 1:
			return fmt.Errorf("gold definitions form a cycle: %s", strings.Join(append(path, d.Name), " → "))
		case 2:
			return nil
		}
		state[d.Name] = 1
		for _, dep := range d.Deps {
			if byName[dep] == nil {
				continue // the state table the Runner keeps
			}
			if err := visit(byName[dep], append(slices.Clone(path), d.Name)); err != nil {
				return err
			}
		}
		state[d.Name] = 2
		out = append(out, d)
		return nil
	}
	for _, d := range defs {
		if err := visit(d, nil); err != nil {
			return nil, err
		}
	}
	return out, nil
}
