//go:build integration

package dashboard

import (
	"context"
	"database/sql"
	"strings"
	"testing"
	"time"

	"weir/config"
	"weir/jobs/gold/goldtest"
	"weir/trino"
)

// The test binary doubles as the scheduler's test jobs (goldtest.DAGRuns).
func TestMain(m *testing.M) { goldtest.Main(m) }

// openGold connects to the stack's Trino; when the gold views hold no data
// yet (a new stack), weir demo fills them first.
func openGold(t *testing.T) *sql.DB {
	t.Helper()
	cfg, err := config.Load("")
	if err != nil {
		t.Fatal(err)
	}
	db, err := trino.Open(cfg.Trino)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	var days int64
	if err := db.QueryRow("SELECT days FROM gold.web_days_of_data").Scan(&days); err != nil {
		t.Fatalf("gold.web_days_of_data (weir init creates it): %v", err)
	}
	goldtest.DemoData(t, days == 0)
	return db
}

// TestPanelsReturnRows renders every panel query of every provisioned
// dashboard as the Trino plugin would (variables resolved from their
// queries, "All" selected; macros expanded for the last week) and runs it
// on Trino against the demo data and two DAG runs (one failed) of a real
// scheduler engine: each must succeed and return rows.
func TestPanelsReturnRows(t *testing.T) {
	db := openGold(t)
	ctx := context.Background()
	ds, err := Load(provisioned)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load("")
	if err != nil {
		t.Fatal(err)
	}
	goldtest.DAGRuns(t, cfg)
	// The macros print whole seconds: round up so the runs that just
	// ended are inside the range.
	to := time.Now().UTC().Truncate(time.Second).Add(time.Second)
	from := to.Add(-7 * 24 * time.Hour)
	for _, d := range ds {
		if err := d.ResolveOptions(ctx, db, from, to); err != nil {
			t.Fatalf("%s: %v", d.UID, err)
		}
		for _, v := range d.Templating.List {
			if v.Type == "query" && len(v.Options) == 0 {
				t.Errorf("%s: variable %s has no values", d.UID, v.Name)
			}
		}
		for _, q := range d.Queries() {
			t.Run(q.Name(), func(t *testing.T) {
				query, err := d.Render(q, d.Defaults(), from, to, 10*time.Minute)
				if err != nil {
					t.Fatal(err)
				}
				rows, err := db.QueryContext(ctx, query)
				if err != nil {
					t.Fatalf("%v\n%s", err, query)
				}
				defer rows.Close()
				n := 0
				for rows.Next() {
					n++
				}
				if err := rows.Err(); err != nil {
					t.Fatalf("%v\n%s", err, query)
				}
				if n == 0 {
					t.Errorf("no rows\n%s", query)
				}
			})
		}
	}
}

// TestVariableInjectionFailsSafely feeds hostile values through the
// dashboards' variables: the rendered SQL stays one statement in which the
// value is a string literal, so the query runs, matches nothing, and every
// gold view is still there afterwards.
func TestVariableInjectionFailsSafely(t *testing.T) {
	db := openGold(t)
	ctx := context.Background()
	ds, err := Load(provisioned)
	if err != nil {
		t.Fatal(err)
	}
	var business *Dashboard
	for _, d := range ds {
		if d.UID == "weir-business" {
			business = d
		}
	}
	if business == nil {
		t.Fatal("weir-business dashboard missing")
	}
	var panel Query
	for _, q := range business.Queries() {
		if strings.Contains(q.SQL, "${provider:sqlstring}") {
			panel = q
		}
	}
	var before int
	if err := db.QueryRow("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'gold' AND table_type = 'VIEW'").Scan(&before); err != nil {
		t.Fatal(err)
	}
	to := time.Now().UTC()
	from := to.Add(-7 * 24 * time.Hour)
	for _, evil := range []string{
		"x') OR 1=1 --",
		"'; DROP VIEW gold.web_top_client_ips; --",
		`northpay') UNION ALL SELECT table_name, 0, 0 FROM information_schema.tables --`,
		"\\'; SELECT 1; --",
	} {
		t.Run(evil, func(t *testing.T) {
			vals := business.Defaults()
			vals["provider"] = []string{evil}
			query, err := business.Render(panel, vals, from, to, time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			rows, err := db.QueryContext(ctx, query)
			if err != nil {
				t.Fatalf("hostile value broke the query: %v\n%s", err, query)
			}
			n := 0
			for rows.Next() {
				n++
			}
			if err := rows.Err(); err != nil {
				t.Fatalf("%v\n%s", err, query)
			}
			rows.Close()
			if n != 0 {
				t.Errorf("hostile value matched %d rows: it escaped its literal\n%s", n, query)
			}
		})
	}
	var after int
	if err := db.QueryRow("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'gold' AND table_type = 'VIEW'").Scan(&after); err != nil {
		t.Fatal(err)
	}
	if after != before {
		t.Errorf("gold views: %d before, %d after the hostile queries", before, after)
	}
}
