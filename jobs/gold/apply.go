package gold

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"weir/jobs/orders"
	"weir/trino"
)

// Change is what Apply or Refresh did to one gold object.
type Change string

const (
	Created   Change = "created"
	Replaced  Change = "replaced"
	Unchanged Change = "unchanged"
	Refreshed Change = "refreshed"
	Failed    Change = "failed"
)

// Result reports one object.
type Result struct {
	Name     string        `json:"name"`
	Kind     Kind          `json:"kind"`
	Change   Change        `json:"change"`
	Reason   string        `json:"reason,omitempty"`
	Days     int           `json:"days,omitempty"`   // rollup days recomputed, in whole or in slices
	Slices   int           `json:"slices,omitempty"` // slices recomputed (a rollup with @slice)
	Duration time.Duration `json:"duration_ns"`
}

// Target says where the gold objects go. Schemas maps the logical schema
// names used in sql/gold (silver, gold, archive, bronze) to the physical
// ones; a name not in the map is used as is. Tests map silver and gold to
// schemas of their own so they share the stack with everyone else.
type Target struct {
	Catalog string
	Schemas map[string]string
}

func (t Target) schema(logical string) string {
	if s, ok := t.Schemas[logical]; ok {
		return s
	}
	return logical
}

// physical returns sql with its schema qualifiers mapped.
func (t Target) physical(sql string) string { return renameSchemas(sql, t.Schemas) }

// Runner applies and refreshes gold objects through Trino. db must be a
// trino-go-client pool whose session catalog is Target.Catalog.
type Runner struct {
	DB     *sql.DB
	Target Target
	Log    *slog.Logger
	Now    func() time.Time
	// Parallel is how many rollups Refresh recomputes at once (0:
	// DefaultParallel).
	Parallel int

	stateReady atomic.Bool // the state table exists with every column

	mu    sync.Mutex
	taken map[string]time.Time // snapshot → when this Runner last took it
}

func (r *Runner) log() *slog.Logger {
	if r.Log == nil {
		return slog.Default()
	}
	return r.Log
}

func (r *Runner) now() time.Time {
	if r.Now == nil {
		return time.Now()
	}
	return r.Now()
}

// fingerprintTag marks the comment of every object Apply creates; Trino
// stores a view's SQL reformatted, so Apply compares the fingerprint of the
// normalized SQL it recorded instead of the stored text.
const fingerprintTag = "weir:fingerprint="

func comment(d *Definition, fp string) string {
	desc := d.Description
	if len(desc) > 400 {
		desc = desc[:400]
	}
	return strings.TrimSpace(desc + " [" + fingerprintTag + fp + "]")
}

func fingerprintOf(comment string) string {
	_, after, ok := strings.Cut(comment, fingerprintTag)
	if !ok {
		return ""
	}
	return strings.TrimSuffix(after, "]")
}

// existing describes what the gold schema holds now.
type existing struct {
	views    map[string]string // name → comment
	tables   map[string]string
	comments map[string]string
}

func (r *Runner) inspect(ctx context.Context) (*existing, error) {
	gold := r.Target.schema("gold")
	ex := &existing{views: map[string]string{}, tables: map[string]string{}, comments: map[string]string{}}
	kinds := map[string]string{}
	err := trino.Each(ctx, r.DB, fmt.Sprintf(
		`SELECT table_name, table_type FROM %s.information_schema.tables WHERE table_schema = %s`,
		trino.Ident(r.Target.Catalog), trino.String(gold)), func(row trino.Scanner) error {
		var name, typ string
		if err := row.Scan(&name, &typ); err != nil {
			return err
		}
		kinds[name] = typ
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list gold objects: %w", err)
	}
	if err := r.readComments(ctx, gold, ex.comments); err != nil {
		// system.metadata.table_comments walks every schema of the catalog
		// and fails while another client drops one; ask per object instead.
		for name, typ := range kinds {
			c, err := r.showComment(ctx, name, typ == "VIEW")
			if err != nil {
				return nil, fmt.Errorf("read comment of gold.%s: %w", name, err)
			}
			ex.comments[name] = c
		}
	}
	for name, typ := range kinds {
		if typ == "VIEW" {
			ex.views[name] = ex.comments[name]
		} else {
			ex.tables[name] = ex.comments[name]
		}
	}
	return ex, nil
}

func (r *Runner) readComments(ctx context.Context, schema string, into map[string]string) error {
	return trino.Each(ctx, r.DB, fmt.Sprintf(
		`SELECT table_name, comment FROM system.metadata.table_comments WHERE catalog_name = %s AND schema_name = %s`,
		trino.String(r.Target.Catalog), trino.String(schema)), func(row trino.Scanner) error {
		var name string
		var c sql.NullString
		if err := row.Scan(&name, &c); err != nil {
			return err
		}
		into[name] = c.String
		return nil
	})
}

// showComment reads an object's comment from SHOW CREATE VIEW|TABLE.
func (r *Runner) showComment(ctx context.Context, name string, view bool) (string, error) {
	kind := "TABLE"
	if view {
		kind = "VIEW"
	}
	var text string
	if err := r.DB.QueryRowContext(ctx, fmt.Sprintf("SHOW CREATE %s %s", kind, r.qualified("gold", name))).Scan(&text); err != nil {
		return "", err
	}
	return createComment(text), nil
}

// createComment extracts the COMMENT '...' of a CREATE statement.
func createComment(stmt string) string {
	words := trino.Code(trino.Lex(stmt))
	for i := 0; i+1 < len(words); i++ {
		if words[i].Kind == trino.Word && strings.EqualFold(words[i].Text, "COMMENT") && words[i+1].Kind == trino.Literal {
			s := words[i+1].Text
			return strings.ReplaceAll(s[1:len(s)-1], "''", "'")
		}
		if words[i].Kind == trino.Word && strings.EqualFold(words[i].Text, "AS") {
			break // the query: a comment there is not the object's
		}
	}
	return ""
}

// Apply creates the gold schema if needed and the order marts' table and
// views (jobs/orders: gold.pipeline_storage counts gold.orders, so it must
// exist before the views), then every rollup table (built in full when new
// or when its definition changed) and every view (created or replaced when
// missing, changed or no longer valid), in dependency order. It is
// idempotent: a second run reports every object unchanged. It goes on after
// a failed object and returns the results with a joined error.
func (r *Runner) Apply(ctx context.Context, defs []*Definition) ([]Result, error) {
	if err := r.exec(ctx, fmt.Sprintf("CREATE SCHEMA IF NOT EXISTS %s", r.qualified("gold", ""))); err != nil {
		return nil, fmt.Errorf("create gold schema: %w", err)
	}
	marts := orders.DefaultMartsConfig(r.Target.Catalog)
	marts.Silver, marts.Gold = r.Target.schema("silver"), r.Target.schema("gold")
	if err := orders.EnsureMarts(ctx, r.DB, marts); err != nil {
		return nil, err
	}
	if err := r.ensureState(ctx); err != nil {
		return nil, err
	}
	ex, err := r.inspect(ctx)
	if err != nil {
		return nil, err
	}
	var results []Result
	var errs []error
	failed := map[string]bool{}
	for _, d := range defs {
		start := time.Now()
		var res Result
		if dep := firstFailed(d.Deps, failed); dep != "" {
			res = Result{Name: d.Name, Kind: d.Kind, Change: Failed, Reason: "depends on failed gold." + dep}
		} else if d.Kind == KindRollup {
			res, err = r.applyRollup(ctx, d, ex)
		} else if d.Kind == KindSnapshot {
			res, err = r.applySnapshot(ctx, d, ex)
		} else {
			res, err = r.applyView(ctx, d, ex)
		}
		res.Duration = time.Since(start)
		if err != nil {
			res = Result{Name: d.Name, Kind: d.Kind, Change: Failed, Reason: err.Error(), Duration: res.Duration}
			errs = append(errs, fmt.Errorf("apply gold.%s: %w", d.Name, err))
		}
		if res.Change == Failed {
			failed[d.Name] = true
		}
		r.log().Info("gold apply", "name", d.Name, "kind", d.Kind, "change", res.Change, "reason", res.Reason, "took", res.Duration.Round(time.Millisecond))
		results = append(results, res)
	}
	return results, errors.Join(errs...)
}

func firstFailed(deps []string, failed map[string]bool) string {
	for _, d := range deps {
		if failed[d] {
			return d
		}
	}
	return ""
}

func (r *Runner) applyView(ctx context.Context, d *Definition, ex *existing) (Result, error) {
	res := Result{Name: d.Name, Kind: KindView}
	body := r.Target.physical(d.SQL)
	fp := r.Target.fingerprint(d)
	name := r.qualified("gold", d.Name)
	c, isView := ex.views[d.Name]
	switch {
	case !isView && ex.tables[d.Name] != "":
		return res, fmt.Errorf("%s is a table, not a view", name)
	case !isView:
		res.Change = Created
	case fingerprintOf(c) != fp:
		res.Change, res.Reason = Replaced, "definition changed"
	default:
		// Same SQL: still replace it if it no longer analyzes (a silver
		// column it reads changed type), since Trino stores column types.
		if err := r.exec(ctx, fmt.Sprintf("SELECT * FROM %s LIMIT 0", name)); err != nil {
			res.Change, res.Reason = Replaced, "stale: "+firstLine(err.Error())
		} else {
			res.Change = Unchanged
			return res, nil
		}
	}
	stmt := fmt.Sprintf("CREATE OR REPLACE VIEW %s COMMENT %s SECURITY DEFINER AS\n%s", name, trino.String(comment(d, fp)), body)
	if err := r.exec(ctx, stmt); err != nil {
		return res, err
	}
	return res, nil
}

func (r *Runner) applyRollup(ctx context.Context, d *Definition, ex *existing) (Result, error) {
	res := Result{Name: d.Name, Kind: KindRollup}
	fp := r.Target.fingerprint(d)
	var err error
	if res.Change, res.Reason, err = r.tableChange(d, ex, fp); err != nil || res.Change == Unchanged {
		return res, err
	}
	if res.Change == Replaced {
		// Dropped, not replaced in place: Trino's CREATE OR REPLACE keeps
		// the old partition specs in the table's metadata, and one over a
		// column the new definition lacks fails every later refresh.
		// Readers see no table until the rebuild below ends.
		if err := r.exec(ctx, "DROP TABLE IF EXISTS "+r.qualified("gold", d.Name)); err != nil {
			return res, fmt.Errorf("drop the old rollup: %w", err)
		}
	}
	days, err := r.build(ctx, d, fp)
	res.Days = days
	return res, err
}

// applySnapshot creates a snapshot table that is missing or whose
// definition changed (CREATE OR REPLACE: readers see the old answer until
// the new one is committed).
func (r *Runner) applySnapshot(ctx context.Context, d *Definition, ex *existing) (Result, error) {
	res := Result{Name: d.Name, Kind: KindSnapshot}
	var err error
	if res.Change, res.Reason, err = r.tableChange(d, ex, r.Target.fingerprint(d)); err != nil || res.Change == Unchanged {
		return res, err
	}
	return res, r.snapshot(ctx, d)
}

// tableChange is what Apply does to the table of a rollup or snapshot
// whose definition has fingerprint fp: create it (missing), replace it
// (made from another definition) or nothing. A view of its name is an
// error.
func (r *Runner) tableChange(d *Definition, ex *existing, fp string) (Change, string, error) {
	if _, isView := ex.views[d.Name]; isView {
		return Failed, "", fmt.Errorf("%s is a view, not a %s table", r.qualified("gold", d.Name), d.Kind)
	}
	c, isTable := ex.tables[d.Name]
	switch {
	case !isTable:
		return Created, "", nil
	case fingerprintOf(c) != fp:
		return Replaced, "definition changed", nil
	}
	return Unchanged, "", nil
}

// qualified returns catalog.schema.name (catalog.schema when name is empty)
// for a logical schema.
func (r *Runner) qualified(logical, name string) string {
	q := trino.Ident(r.Target.Catalog) + "." + trino.Ident(r.Target.schema(logical))
	if name != "" {
		q += "." + trino.Ident(name)
	}
	return q
}

// exec runs one statement and drains its result.
func (r *Runner) exec(ctx context.Context, stmt string) error {
	return trino.Exec(ctx, r.DB, stmt)
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	if len(s) > 300 {
		s = s[:300]
	}
	return s
}

// Summary counts results by change.
func Summary(results []Result) map[Change]int {
	out := map[Change]int{}
	for _, r := range results {
		out[r.Change]++
	}
	return out
}

// SummaryLine is e.g. "3 created, 1 replaced, 12 unchanged".
func SummaryLine(results []Result) string {
	s := Summary(results)
	var parts []string
	for _, c := range []Change{Created, Replaced, Refreshed, Unchanged, Failed} {
		if s[c] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", s[c], c))
		}
	}
	if len(parts) == 0 {
		return "nothing to do"
	}
	return strings.Join(parts, ", ")
}
