package maintain

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/apache/iceberg-go/catalog"
	"github.com/apache/iceberg-go/table"

	"weir/lakehouse"
)

// expire drops snapshots outside the window, keeping the ones consumers
// need (see the package contract). The depth to keep is recomputed on every
// attempt against the reloaded table.
func (j *Job) expire(ctx context.Context, name string, rep *TableReport) error {
	consumers, err := j.consumerPositions(ctx, name)
	if err != nil {
		return err
	}
	var before int
	res, err := j.lake.Commit(ctx, lakehouse.Ident(name), func(ctx context.Context, a *lakehouse.Attempt) error {
		before = len(a.Table.Metadata().Snapshots())
		keep := max(j.cfg.RetainLast, ProtectedDepth(a.Table, consumers))
		if keep >= before {
			return lakehouse.ErrNothingToCommit
		}
		return a.Tx.ExpireSnapshots(table.WithRetainLast(keep), table.WithOlderThan(j.cfg.SnapshotWindow), table.WithPostCommit(false))
	}, lakehouse.CommitOptions{MaxAttempts: 20})
	if err != nil {
		return fmt.Errorf("expire snapshots: %w", err)
	}
	if res.Table != nil && before > 0 {
		rep.ExpiredSnapshots = max(0, before-len(res.Table.Metadata().Snapshots()))
	}
	return nil
}

// ProtectedDepth is how many snapshots, counted from the current one along
// its ancestry, expiry must keep so that: the newest snapshot carrying each
// stream offset key and each silver position key survives (with every
// snapshot after it, so ancestor walks reach it), and every snapshot after
// each consumer position (a bronze snapshot id some silver table is built
// up to) survives.
func ProtectedDepth(tbl *table.Table, consumers []int64) int {
	seen := map[string]bool{}
	want := map[int64]bool{}
	for _, id := range consumers {
		want[id] = true
	}
	depth, i := 0, 0
	for snap := range lakehouse.Ancestors(tbl) {
		i++
		if want[snap.SnapshotID] {
			depth = i
		}
		if snap.Summary == nil {
			continue
		}
		for k := range snap.Summary.Properties {
			if !strings.HasPrefix(k, lakehouse.SummaryOffsetPrefix) && !strings.HasPrefix(k, lakehouse.SummarySourcePrefix) {
				continue
			}
			if !seen[k] {
				seen[k] = true
				depth = i
			}
		}
	}
	return max(depth, 1)
}

// consumerPositions returns the bronze snapshot ids that silver tables
// record as their position in bronze table name (none for other tables).
func (j *Job) consumerPositions(ctx context.Context, name string) ([]int64, error) {
	ns, _, _ := strings.Cut(name, ".")
	if ns != j.cfg.Namespaces.Bronze {
		return nil, nil
	}
	var out []int64
	for id, err := range j.lake.Catalog.ListTables(ctx, table.Identifier{j.cfg.Namespaces.Silver}) {
		if err != nil {
			if errors.Is(err, catalog.ErrNoSuchNamespace) {
				break
			}
			return nil, fmt.Errorf("list silver tables: %w", err)
		}
		tbl, err := j.lake.Catalog.LoadTable(ctx, id)
		if err != nil {
			return nil, fmt.Errorf("load %s: %w", strings.Join(id, "."), err)
		}
		if pos, ok := lakehouse.SourceSnapshots(tbl)[name]; ok {
			out = append(out, pos)
		}
	}
	return out, nil
}

// orphans deletes unreferenced files older than OrphanAge.
func (j *Job) orphans(ctx context.Context, name string, rep *TableReport) error {
	tbl, err := j.lake.Catalog.LoadTable(ctx, lakehouse.Ident(name))
	if err != nil {
		return fmt.Errorf("load table: %w", err)
	}
	res, err := tbl.DeleteOrphanFiles(ctx, table.WithFilesOlderThan(j.cfg.OrphanAge))
	if err != nil {
		return fmt.Errorf("remove orphan files: %w", err)
	}
	rep.OrphansRemoved = len(res.DeletedFiles)
	return nil
}
