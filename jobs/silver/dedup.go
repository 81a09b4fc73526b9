package silver

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/catalog"
	"github.com/apache/iceberg-go/table"

	"weir/lakehouse"
)

// existingKeys returns which of keys are already in the hot table or its
// archive twin, reading only the key column of the given days. Hot is read
// before archive: the archive job copies before it deletes from hot, so a
// row being moved is seen in at least one of the two.
func (j *Job) existingKeys(ctx context.Context, canon string, keys map[string]struct{}, days []int64) (map[string]struct{}, error) {
	keyCol := lakehouse.SilverKey(canon)[0]
	found := map[string]struct{}{}
	for _, name := range []string{j.cfg.Namespaces.Table(canon), j.cfg.Namespaces.Table(lakehouse.ArchiveTable(canon))} {
		tbl, err := j.lake.Catalog.LoadTable(ctx, lakehouse.Ident(name))
		if errors.Is(err, catalog.ErrNoSuchTable) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("load %s: %w", name, err)
		}
		if err := scanKeys(ctx, tbl, keyCol, dayFilter(lakehouse.ColEventTS, days), keys, found); err != nil {
			return nil, fmt.Errorf("read keys of %s: %w", name, err)
		}
	}
	return found, nil
}

// scanKeys adds to found the values of the string column col, in rows
// matching filter, that are in keys.
func scanKeys(ctx context.Context, tbl *table.Table, col string, filter iceberg.BooleanExpression, keys, found map[string]struct{}) error {
	if tbl.CurrentSnapshot() == nil {
		return nil
	}
	// The filter selects files (silver tables are partitioned by day, so a
	// file lies in one day); rows need no filtering, since a key is looked
	// up in keys anyway. iceberg-go would otherwise filter every batch row
	// by row, which costs more than the lookups.
	tasks, err := tbl.Scan(table.WithRowFilter(filter)).PlanFiles(ctx)
	if err != nil {
		return err
	}
	if len(tasks) == 0 {
		return nil
	}
	for i := range tasks {
		tasks[i].Residual = nil
	}
	_, recs, err := tbl.Scan(table.WithSelectedFields(col), table.WithMaxConcurrency(readConcurrency)).ReadTasks(ctx, tasks)
	if err != nil {
		return err
	}
	for rec, err := range recs {
		if err != nil {
			return err
		}
		arr, ok := rec.Column(0).(stringArray)
		if !ok {
			rec.Release()
			return fmt.Errorf("key column %s is %s, want string", col, rec.Column(0).DataType())
		}
		for i := 0; i < int(rec.NumRows()); i++ {
			if !arr.IsValid(i) {
				continue
			}
			if _, ok := keys[arr.Value(i)]; ok {
				found[arr.Value(i)] = struct{}{}
			}
		}
		rec.Release()
	}
	return nil
}

// dayFilter selects rows whose col falls in one of the given unix days.
func dayFilter(col string, days []int64) iceberg.BooleanExpression {
	var expr iceberg.BooleanExpression = iceberg.AlwaysFalse{}
	for _, d := range days {
		lo := time.Unix(d*86400, 0).UTC().UnixMicro()
		hi := time.Unix((d+1)*86400, 0).UTC().UnixMicro()
		r := iceberg.NewAnd(
			iceberg.GreaterThanEqual(iceberg.Reference(col), iceberg.Timestamp(lo)),
			iceberg.LessThan(iceberg.Reference(col), iceberg.Timestamp(hi)))
		expr = iceberg.NewOr(expr, r)
	}
	return expr
}
