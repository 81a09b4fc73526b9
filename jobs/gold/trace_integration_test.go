//go:build integration

package gold

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"testing"
	"time"

	"weir/jobs/generate"
	"weir/jobs/silver"
	"weir/jobs/silver/silvertest"
)

// TestTraceLookupSkipsRowGroups: a request trace looks up one random
// action_id, which no min/max statistic prunes; the action_id bloom
// filters silver writes let Trino skip every row group of events and logs
// that lacks the id. An id inside the row groups' action_id ranges but
// absent reads no row; the real id still finds its rows.
func TestTraceLookupSkipsRowGroups(t *testing.T) {
	ctx := context.Background()
	g := newGoldEnv(t)
	start := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	recs, _ := silvertest.Generate(t, start, start.Add(30*time.Minute), 8, generate.DefaultFaults, func(c *generate.Config) { c.Seed = 21 })
	g.Env.LoadBronze(t, recs, time.Now().UTC())
	if _, err := g.job.Run(ctx, silver.SourceAll); err != nil {
		t.Fatalf("silver: %v", err)
	}
	for _, tbl := range []string{"events", "logs"} {
		src := g.Env.NS.Silver + "." + tbl
		var id string
		// The middle id in sort order: inside every row group's range.
		if err := g.db.QueryRow(fmt.Sprintf(`SELECT action_id FROM (SELECT action_id, row_number() OVER (ORDER BY action_id) AS n, count(*) OVER () AS total
			FROM %s WHERE action_id IS NOT NULL) WHERE n = total / 2`, src)).Scan(&id); err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		absent := id[:len(id)-1] + map[bool]string{true: "1", false: "0"}[id[len(id)-1] == '0']
		if n := scannedRows(t, g, src, id); n == 0 {
			t.Errorf("%s: the lookup of %s read no row, want the row groups that hold it", src, id)
		}
		if n := scannedRows(t, g, src, absent); n != 0 {
			t.Errorf("%s: the lookup of the absent id %s read %d rows, want 0 (row groups skipped by their bloom filters)", src, absent, n)
		}
	}
}

var scanInput = regexp.MustCompile(`(?s)ScanFilter(?:Project)?\[.*?\n\s*Input: (\d+) rows \(`)

// scannedRows runs the trace lookup of id under EXPLAIN ANALYZE and
// returns the rows its table scan read.
func scannedRows(t *testing.T, g *goldEnv, src, id string) int64 {
	t.Helper()
	var plan string
	if err := g.db.QueryRow(fmt.Sprintf("EXPLAIN ANALYZE SELECT count(*) FROM %s WHERE action_id = '%s'", src, id)).Scan(&plan); err != nil {
		t.Fatalf("explain %s: %v", src, err)
	}
	m := scanInput.FindStringSubmatch(plan)
	if m == nil {
		t.Fatalf("no scan input in the plan of %s:\n%s", src, plan)
	}
	n, _ := strconv.ParseInt(m[1], 10, 64)
	return n
}
