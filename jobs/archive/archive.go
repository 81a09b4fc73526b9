// Package archive moves silver partitions older than the hot window into
// the archive tier (DESIGN §7): archive.<table> on the archive bucket,
// compressed harder, and removes them from the hot silver table.
//
// Iceberg commits one table at a time, so a move is two commits: copy into
// archive, then delete from hot. The invariant readers rely on is:
//
//	a row is visible  ⇔  it is in hot, or it is in archive and its key
//	                      (lakehouse.SilverKey) is not in hot.
//
// The union views (HotArchiveViewSQL) implement exactly that, so at every
// moment each row is seen once: before the copy only hot holds it; between
// the commits both do and the archive copy is hidden; after the delete
// only archive holds it. A killed move is finished by the next run: the
// copy skips keys archive already holds (so a copy that committed before a
// kill is not repeated) and the delete removes exactly the hot data files
// whose rows were verified to be in archive. Rows that land in an old hot
// partition later (late events) are moved by a later run.
package archive

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/catalog"
	"github.com/apache/iceberg-go/table"

	"weir/jobs/silver"
	"weir/lakehouse"
)

// Summary keys of archive moves.
const (
	// SummaryMoveID ties the archive copy and the hot delete of one move.
	SummaryMoveID = "weir.archive.move-id"
	// SummaryBefore is the cutoff (RFC 3339) the move archived below.
	SummaryBefore = "weir.archive.before"
)

// Crash points for the kill-halfway test (Config.Crash).
const (
	CrashAfterCopy = "after-copy"
)

// Config tunes an archive run. The zero value is usable.
type Config struct {
	Namespaces silver.Namespaces
	// HotDays is how many days (today included, by event date) stay hot
	// (default 30).
	HotDays int
	// Tables limits the run (canonical silver names); empty means
	// lakehouse.ArchivedTables.
	Tables []string
	// Crash, when set, is called at the named points (tests kill the
	// process there).
	Crash func(point string)
	Now   func() time.Time
	Log   *slog.Logger
}

// DefaultConfig returns the defaults New gives zero fields (the command's
// flags start from them).
func DefaultConfig() Config { return Config{HotDays: 30} }

func (c Config) withDefaults() Config {
	if c.Namespaces == (silver.Namespaces{}) {
		c.Namespaces = silver.DefaultNamespaces()
	}
	if c.HotDays <= 0 {
		c.HotDays = DefaultConfig().HotDays
	}
	if len(c.Tables) == 0 {
		c.Tables = lakehouse.ArchivedTables
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Log == nil {
		c.Log = slog.Default()
	}
	return c
}

// Cutoff is the first instant that stays hot: the start of the oldest hot
// day.
func Cutoff(now time.Time, hotDays int) time.Time {
	day := now.UTC().Truncate(24 * time.Hour)
	return day.AddDate(0, 0, -(hotDays - 1))
}

// Report is what a run moved from one table.
type Report struct {
	Table        string `json:"table"`
	Cutoff       string `json:"cutoff"`
	Files        int    `json:"files"`
	Rows         int64  `json:"rows"`
	Copied       int64  `json:"copied"`
	AlreadyThere int64  `json:"already_archived"`
	// KeysHeld is the most archive keys held in memory at once: those of
	// one day partition, not of the whole archive.
	KeysHeld int64  `json:"archive_keys_held"`
	MoveID   string `json:"move_id,omitempty"`
}

// Job moves partitions.
type Job struct {
	lake *lakehouse.Lakehouse
	cfg  Config
}

// New returns a job on lake.
func New(lake *lakehouse.Lakehouse, cfg Config) *Job {
	return &Job{lake: lake, cfg: cfg.withDefaults()}
}

// errChanged: the hot files to delete changed under the move (compaction
// or another archive run); the table's move starts over.
var errChanged = errors.New("hot files changed during the move")

// Run moves every configured table.
func (j *Job) Run(ctx context.Context) ([]Report, error) {
	ctx, err := j.lake.WithS3Client(ctx)
	if err != nil {
		return nil, err
	}
	var out []Report
	for _, canon := range j.cfg.Tables {
		var (
			rep Report
			err error
		)
		for attempt := 1; attempt <= 5; attempt++ {
			rep, err = j.Table(ctx, canon)
			if !errors.Is(err, errChanged) {
				break
			}
			j.cfg.Log.Info("hot files changed during the move, starting over", "table", canon, "attempt", attempt)
		}
		out = append(out, rep)
		if err != nil {
			return out, fmt.Errorf("archive %s: %w", canon, err)
		}
	}
	return out, nil
}

// Table moves one table's old partitions.
func (j *Job) Table(ctx context.Context, canon string) (Report, error) {
	cutoff := Cutoff(j.cfg.Now(), j.cfg.HotDays)
	hotName := j.cfg.Namespaces.Table(canon)
	archName := j.cfg.Namespaces.Table(lakehouse.ArchiveTable(canon))
	rep := Report{Table: hotName, Cutoff: cutoff.Format(time.RFC3339)}
	col := lakehouse.PartitionTimeColumn(canon)
	if col == "" {
		return rep, fmt.Errorf("%s is not partitioned by time", canon)
	}

	hot, err := j.lake.Catalog.LoadTable(ctx, lakehouse.Ident(hotName))
	if errors.Is(err, catalog.ErrNoSuchTable) {
		return rep, nil
	}
	if err != nil {
		return rep, fmt.Errorf("load %s: %w", hotName, err)
	}
	if hot.CurrentSnapshot() == nil {
		return rep, nil
	}
	old := iceberg.LessThan(iceberg.Reference(col), iceberg.Timestamp(cutoff.UnixMicro()))
	scan := hot.Scan(table.WithRowFilter(old))
	tasks, err := scan.PlanFiles(ctx)
	if err != nil {
		return rep, fmt.Errorf("plan %s: %w", hotName, err)
	}
	if len(tasks) == 0 {
		return rep, nil
	}
	var files []iceberg.DataFile
	for _, t := range tasks {
		files = append(files, t.File)
		rep.Rows += t.File.Count()
	}
	rep.Files = len(files)
	// Day partitions never straddle the cutoff (it is a day boundary), so
	// every planned file holds only rows to move.

	spec, err := lakehouse.ArchiveTableSpec(canon)
	if err != nil {
		return rep, err
	}
	spec.Location = j.archiveLocation(archName)
	arch, err := lakehouse.LoadOrCreate(ctx, j.lake.Catalog, lakehouse.Ident(archName), spec)
	if err != nil {
		return rep, err
	}
	// A column the hot table gained (a field promoted out of extra) reaches
	// the archive twin before the copy, so a move never drops one.
	if arch, err = lakehouse.EvolveSchema(ctx, j.lake.Catalog, lakehouse.Ident(archName), arch, hot.Schema()); err != nil {
		return rep, err
	}
	keyCols := lakehouse.SilverKey(canon)
	rep.MoveID = moveID(hot, files)
	summary := map[string]string{SummaryMoveID: rep.MoveID, SummaryBefore: rep.Cutoff}

	// Copy what archive lacks, one day partition at a time: only the keys
	// archive holds for that day are in memory (a move killed after its
	// copy left them there), never the whole archive's.
	sc, err := table.SchemaToArrowSchema(arch.Schema(), nil, true, false)
	if err != nil {
		return rep, err
	}
	var (
		newFiles []iceberg.DataFile
		readErr  error
	)
	fail := func(yield func(arrow.RecordBatch, error) bool, err error) {
		readErr = err
		yield(nil, err)
	}
	filtered := func(yield func(arrow.RecordBatch, error) bool) {
		for _, day := range byDay(hot, col, tasks) {
			var filter iceberg.BooleanExpression = old
			if !day.start.IsZero() {
				filter = iceberg.NewAnd(old,
					iceberg.GreaterThanEqual(iceberg.Reference(col), iceberg.Timestamp(day.start.UnixMicro())),
					iceberg.LessThan(iceberg.Reference(col), iceberg.Timestamp(day.start.AddDate(0, 0, 1).UnixMicro())))
			}
			have, err := keysIn(ctx, arch, keyCols, filter)
			if err != nil {
				fail(yield, fmt.Errorf("keys of %s: %w", archName, err))
				return
			}
			rep.KeysHeld = max(rep.KeysHeld, int64(len(have)))
			_, recs, err := hot.Scan().ReadTasks(ctx, day.tasks)
			if err != nil {
				fail(yield, err)
				return
			}
			for rec, err := range recs {
				if err != nil {
					fail(yield, err)
					return
				}
				out, kept, err := withoutKeys(ctx, rec, keyCols, have)
				rec.Release()
				if err != nil {
					fail(yield, err)
					return
				}
				rep.Copied += kept
				if out == nil {
					continue
				}
				in, err := inSchema(out, sc)
				out.Release()
				if err != nil {
					fail(yield, err)
					return
				}
				if !yield(in, nil) {
					return
				}
			}
		}
	}
	for df, err := range table.WriteRecords(ctx, arch, sc, iter.Seq2[arrow.RecordBatch, error](filtered)) {
		if err != nil {
			return rep, fmt.Errorf("write %s: %w", archName, err)
		}
		newFiles = append(newFiles, df)
	}
	if readErr != nil {
		return rep, fmt.Errorf("read %s: %w", hotName, readErr)
	}
	rep.AlreadyThere = rep.Rows - rep.Copied
	if len(newFiles) > 0 {
		_, err := j.lake.Commit(ctx, lakehouse.Ident(archName), func(ctx context.Context, a *lakehouse.Attempt) error {
			props := maps.Clone(a.Summary)
			maps.Copy(props, summary)
			return a.Tx.AddDataFiles(ctx, newFiles, props, table.WithoutDuplicateCheck())
		}, lakehouse.CommitOptions{})
		if err != nil {
			return rep, fmt.Errorf("commit %s: %w", archName, err)
		}
	}
	if j.cfg.Crash != nil {
		j.cfg.Crash(CrashAfterCopy)
	}

	// Delete exactly the files whose rows are now in archive.
	_, err = j.lake.Commit(ctx, lakehouse.Ident(hotName), func(ctx context.Context, a *lakehouse.Attempt) error {
		live := map[string]bool{}
		cur, err := a.Table.Scan(table.WithRowFilter(old)).PlanFiles(ctx)
		if err != nil {
			return err
		}
		for _, t := range cur {
			live[t.File.FilePath()] = true
		}
		for _, df := range files {
			if !live[df.FilePath()] {
				return errChanged
			}
		}
		props := maps.Clone(a.Summary)
		maps.Copy(props, summary)
		return a.Tx.ReplaceDataFilesWithDataFiles(ctx, files, nil, props)
	}, lakehouse.CommitOptions{})
	if err != nil {
		if errors.Is(err, errChanged) {
			return rep, errChanged
		}
		return rep, fmt.Errorf("delete moved partitions from %s: %w", hotName, err)
	}
	j.cfg.Log.Info("partitions archived", "table", hotName, "archive", archName, "cutoff", rep.Cutoff, "files", rep.Files,
		"rows", rep.Rows, "copied", rep.Copied, "already_archived", rep.AlreadyThere, "move_id", rep.MoveID)
	return rep, nil
}

// dayTasks are the planned files of one day partition; start is zero when
// the table has no day partition on the time column (then there is one
// group, read with the whole cutoff filter).
type dayTasks struct {
	start time.Time
	tasks []table.FileScanTask
}

// byDay groups tasks by their day partition of col, oldest first.
func byDay(tbl *table.Table, col string, tasks []table.FileScanTask) []dayTasks {
	f, ok := tbl.Schema().FindFieldByName(col)
	if !ok {
		return []dayTasks{{tasks: tasks}}
	}
	spec := tbl.Spec()
	pfID := -1
	for _, pf := range spec.FieldsBySourceID(f.ID) {
		if _, ok := pf.Transform.(iceberg.DayTransform); ok {
			pfID = pf.FieldID
		}
	}
	groups := map[int32]*dayTasks{}
	for _, t := range tasks {
		var day int32
		switch v := t.File.Partition()[pfID].(type) {
		case iceberg.Date:
			day = int32(v)
		case int32:
			day = v
		default: // not day-partitioned (or an older spec): one group
			return []dayTasks{{tasks: tasks}}
		}
		g := groups[day]
		if g == nil {
			g = &dayTasks{start: time.Unix(int64(day)*86400, 0).UTC()}
			groups[day] = g
		}
		g.tasks = append(g.tasks, t)
	}
	out := make([]dayTasks, 0, len(groups))
	for _, day := range slices.Sorted(maps.Keys(groups)) {
		out = append(out, *groups[day])
	}
	return out
}

// archiveLocation puts archive tables on the archive bucket; test
// namespaces get a directory of their own there.
func (j *Job) archiveLocation(archName string) string {
	ns, name, _ := strings.Cut(archName, ".")
	if ns == lakehouse.Archive {
		return j.lake.TableLocation(lakehouse.Archive, name)
	}
	return j.lake.TableLocation(lakehouse.Archive, ns+"/"+name)
}

// moveID names a move by the hot snapshot and files it moves.
func moveID(hot *table.Table, files []iceberg.DataFile) string {
	h := uint64(14695981039346656037)
	for _, f := range files {
		for _, c := range []byte(f.FilePath()) {
			h = (h ^ uint64(c)) * 1099511628211
		}
	}
	return strconv.FormatInt(hot.CurrentSnapshot().SnapshotID, 36) + "-" + strconv.FormatUint(h, 36)
}

// rowKey renders the key columns of row i.
func rowKey(cols []arrow.Array, i int) string {
	var b strings.Builder
	for n, c := range cols {
		if n > 0 {
			b.WriteByte(0)
		}
		switch a := c.(type) {
		case interface{ Value(int) string }:
			b.WriteString(a.Value(i))
		case *array.Int32:
			b.WriteString(strconv.FormatInt(int64(a.Value(i)), 10))
		case *array.Int64:
			b.WriteString(strconv.FormatInt(a.Value(i), 10))
		default:
			b.WriteString(c.ValueStr(i))
		}
	}
	return b.String()
}

func columns(rec arrow.RecordBatch, names []string) ([]arrow.Array, error) {
	var out []arrow.Array
	for _, n := range names {
		idx := rec.Schema().FieldIndices(n)
		if len(idx) == 0 {
			return nil, fmt.Errorf("batch lacks key column %s", n)
		}
		out = append(out, rec.Column(idx[0]))
	}
	return out, nil
}

// keysIn reads the keys of tbl's rows matching filter.
func keysIn(ctx context.Context, tbl *table.Table, keyCols []string, filter iceberg.BooleanExpression) (map[string]struct{}, error) {
	out := map[string]struct{}{}
	if tbl.CurrentSnapshot() == nil {
		return out, nil
	}
	_, recs, err := tbl.Scan(table.WithSelectedFields(keyCols...), table.WithRowFilter(filter)).ToArrowRecords(ctx)
	if err != nil {
		return nil, err
	}
	for rec, err := range recs {
		if err != nil {
			return nil, err
		}
		cols, err := columns(rec, keyCols)
		if err != nil {
			rec.Release()
			return nil, err
		}
		for i := 0; i < int(rec.NumRows()); i++ {
			out[rowKey(cols, i)] = struct{}{}
		}
		rec.Release()
	}
	return out, nil
}

// withoutKeys returns rec without the rows whose key is in have (nil when
// none is left) and how many rows it kept.
func withoutKeys(ctx context.Context, rec arrow.RecordBatch, keyCols []string, have map[string]struct{}) (arrow.RecordBatch, int64, error) {
	if len(have) == 0 {
		rec.Retain()
		return rec, rec.NumRows(), nil
	}
	cols, err := columns(rec, keyCols)
	if err != nil {
		return nil, 0, err
	}
	mask := array.NewBooleanBuilder(memory.DefaultAllocator)
	defer mask.Release()
	var kept int64
	for i := 0; i < int(rec.NumRows()); i++ {
		_, dup := have[rowKey(cols, i)]
		mask.Append(!dup)
		if !dup {
			kept++
		}
	}
	if kept == 0 {
		return nil, 0, nil
	}
	if kept == rec.NumRows() {
		rec.Retain()
		return rec, kept, nil
	}
	m := mask.NewArray()
	defer m.Release()
	out, err := compute.FilterRecordBatch(ctx, rec, m, compute.DefaultFilterOptions())
	if err != nil {
		return nil, 0, fmt.Errorf("filter archived rows: %w", err)
	}
	return out, kept, nil
}

// inSchema returns rec's columns in the order and with the fields of sc, by
// name; a column sc has and rec lacks is all null. The hot table and its
// archive twin hold the same columns, but not always in the same order: a
// column added to the model is appended to a table that existed (schema
// evolution) and sits in place in one created afterwards.
func inSchema(rec arrow.RecordBatch, sc *arrow.Schema) (arrow.RecordBatch, error) {
	cols := make([]arrow.Array, sc.NumFields())
	defer func() {
		for _, c := range cols {
			if c != nil {
				c.Release()
			}
		}
	}()
	for i, f := range sc.Fields() {
		idx := rec.Schema().FieldIndices(f.Name)
		switch {
		case len(idx) > 0 && arrow.TypeEqual(rec.Column(idx[0]).DataType(), f.Type):
			cols[i] = rec.Column(idx[0])
			cols[i].Retain()
		case len(idx) > 0:
			return nil, fmt.Errorf("column %s is %s in the hot table, %s in archive", f.Name, rec.Column(idx[0]).DataType(), f.Type)
		case f.Nullable:
			cols[i] = array.MakeArrayOfNull(memory.DefaultAllocator, f.Type, int(rec.NumRows()))
		default:
			return nil, fmt.Errorf("archive column %s is required and the hot table has none", f.Name)
		}
	}
	return array.NewRecordBatch(sc, cols, rec.NumRows()), nil
}

// Keys reads the keys (lakehouse.SilverKey columns, rendered as one
// string) of tbl's rows matching filter.
func Keys(ctx context.Context, tbl *table.Table, keyCols []string, filter iceberg.BooleanExpression) (map[string]struct{}, error) {
	return keysIn(ctx, tbl, keyCols, filter)
}

// TimestampAt reads row i of a timestamp column as UTC time.
func TimestampAt(col arrow.Array, i int) (time.Time, bool) {
	ts, ok := col.(*array.Timestamp)
	if !ok || !ts.IsValid(i) {
		return time.Time{}, false
	}
	return time.UnixMicro(int64(ts.Value(i))).UTC(), true
}
