package stream

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"strings"
	"sync"
	"time"

	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"

	"weir/lakehouse"
)

// Crash points a test can ask the job to SIGKILL itself at (Config.Crash).
const (
	// CrashBeforeCommit: data files are written, the catalog commit has
	// not been sent.
	CrashBeforeCommit = "before-commit"
	// CrashAfterCommit: the catalog commit succeeded, nothing else (group
	// offsets, metrics) has happened.
	CrashAfterCommit = "after-commit"
	// CrashDeadCommitted: a batch's dead letters are committed, its topic
	// tables not yet.
	CrashDeadCommitted = "dead-committed"
)

// CrashPoints are every point a fault test can kill the job at: the
// stream's own and those inside each catalog commit (lakehouse.Point*).
var CrashPoints = []string{CrashBeforeCommit, lakehouse.PointCommitBuilt, lakehouse.PointMetadataWritten,
	lakehouse.PointCommitted, CrashAfterCommit, CrashDeadCommitted}

// committer commits flushed batches to the bronze tables.
type committer struct {
	lake    *lakehouse.Lakehouse
	metrics *metrics
	log     *slog.Logger
	now     func() time.Time
	hook    func(point string)
	dead    string // the dead-letter table
}

// flushResult is what a flush did, for the consumer loop.
type flushResult struct {
	// next is, per partition of the batch, the offset its topic table now
	// records (what a restart would resume from).
	next map[lakehouse.TopicPartition]int64
	// resync lists partitions whose batch would have left a hole in their
	// table: the consumer must re-read them from the given offset.
	resync map[lakehouse.TopicPartition]int64
	rows   int // rows added to topic tables
	dead   int // rows added to the dead-letter table
	bytes  int64
}

// flush commits b: the dead letters first (they carry their own offsets, so
// a crash between the two commits neither loses nor repeats one), then every
// topic table concurrently.
func (c *committer) flush(ctx context.Context, b *batch) (flushResult, error) {
	res := flushResult{
		next:   map[lakehouse.TopicPartition]int64{},
		resync: map[lakehouse.TopicPartition]int64{},
		bytes:  b.bytes,
	}
	if b.hasDead() {
		out, err := c.commitTable(ctx, c.dead, b.parts, true)
		if err != nil {
			return res, err
		}
		res.dead = out.rows
		if c.hook != nil {
			c.hook(CrashDeadCommitted)
		}
	}

	var (
		mu   sync.Mutex
		wg   sync.WaitGroup
		errs []error
	)
	for name, parts := range b.tables() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, err := c.commitTable(ctx, name, parts, false)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				return
			}
			res.rows += out.rows
			maps.Copy(res.next, out.next)
			maps.Copy(res.resync, out.resync)
		}()
	}
	wg.Wait()
	return res, errors.Join(errs...)
}

type tableOutcome struct {
	rows   int
	next   map[lakehouse.TopicPartition]int64
	resync map[lakehouse.TopicPartition]int64
}

// written remembers the data files of an earlier attempt and which rows
// they hold, so a retry rewrites only when its selection differs.
type written struct {
	files    []iceberg.DataFile
	skipped  map[lakehouse.TopicPartition]int
	specID   int
	schemaID int
	fs       interface{ Remove(string) error }
}

// commitTable appends the rows (dead=false) or dead letters (dead=true) of
// parts to one table. Every attempt re-reads the offsets the table records
// and keeps, per partition, only rows at or above them; that is the fence
// against a stale instance and against re-reads after a crash or rebalance.
func (c *committer) commitTable(ctx context.Context, name string, parts map[lakehouse.TopicPartition]*partBuf, dead bool) (tableOutcome, error) {
	start := c.now()
	var (
		out   tableOutcome
		files *written
	)
	ident := lakehouse.Ident(name)
	build := func(ctx context.Context, a *lakehouse.Attempt) error {
		recorded := lakehouse.RecordedOffsets(a.Table)
		next := maps.Clone(recorded)
		sel := &selection{rows: map[lakehouse.TopicPartition][]row{}}
		skipped := map[lakehouse.TopicPartition]int{}
		resync := map[lakehouse.TopicPartition]int64{}
		for _, tp := range lakehouse.SortedPartitions(parts) {
			p := parts[tp]
			rows := p.rows
			if dead {
				rows = p.dead
			}
			rec, has := recorded[tp]
			if !dead && has && p.start != fromBeginning && rec < p.start {
				// The table is behind where this batch starts: committing
				// would skip [rec, start). Only a rollback of the table (or
				// a bug) gets here; re-read instead.
				resync[tp] = rec
				skipped[tp] = len(rows)
				continue
			}
			n := 0
			for n < len(rows) && rows[n].offset < rec {
				n++
			}
			skipped[tp] = n
			if len(rows) > n {
				sel.parts = append(sel.parts, tp)
				sel.rows[tp] = rows[n:]
			}
			if p.next > rec || !has {
				next[tp] = max(p.next, rec)
			}
		}
		out = tableOutcome{rows: sel.count(), next: next, resync: resync}
		if fenced := sum(skipped); fenced > 0 {
			c.log.Info("fence: dropping rows the table already holds", "table", name, "attempt", a.Number, "rows", fenced)
			c.metrics.fenced.WithLabelValues(name).Add(float64(fenced))
		}
		if sel.count() == 0 && maps.Equal(next, recorded) {
			return lakehouse.ErrNothingToCommit
		}

		if files == nil || !maps.Equal(files.skipped, skipped) ||
			files.specID != specID(a.Table) || files.schemaID != a.Table.Schema().ID {
			if files != nil {
				// The earlier files stay for orphan cleanup: deleting them is
				// only safe if that attempt surely did not commit.
				c.log.Warn("rewriting data files after fence", "table", name, "attempt", a.Number)
			}
			w, err := writeFiles(ctx, a.Table, sel)
			if err != nil {
				return err
			}
			w.skipped = skipped
			files = w
		}

		summary := maps.Clone(a.Summary)
		maps.Copy(summary, lakehouse.OffsetSummary(next))
		if c.hook != nil {
			c.hook(CrashBeforeCommit)
		}
		if len(files.files) == 0 {
			// Only offsets moved (every record went to dead letters, or
			// was already in): an empty append records them.
			return a.Tx.AddFiles(ctx, nil, summary, false)
		}
		return a.Tx.AddDataFiles(ctx, files.files, summary, table.WithoutDuplicateCheck())
	}

	spec := lakehouse.BronzeTableSpec(dead)
	res, err := c.lake.Commit(ctx, ident, build, lakehouse.CommitOptions{
		Create: spec,
		OnRetry: func(attempt int, conflict bool, err error) {
			kind := "unknown_outcome"
			if conflict {
				kind = "conflict"
			}
			c.metrics.commitRetries.WithLabelValues(name, kind).Inc()
			c.log.Warn("bronze commit attempt failed", "table", name, "attempt", attempt, "conflict", conflict, "err", err)
		},
	})
	if err != nil {
		return out, fmt.Errorf("commit bronze table %s: %w", name, err)
	}
	if res.Snapshot == nil {
		// Nothing to add: everything was already committed.
		return out, nil
	}
	if c.hook != nil {
		c.hook(CrashAfterCommit)
	}
	elapsed := c.now().Sub(start)
	c.metrics.commitSeconds.WithLabelValues(name).Observe(elapsed.Seconds())
	c.metrics.rowsCommitted.WithLabelValues(name).Add(float64(out.rows))
	c.observeFreshness(parts, dead)
	if dead {
		c.log.Warn("dead letters committed", "table", name, "rows", out.rows)
	}
	c.log.Info("bronze commit", "table", name, "snapshot_id", res.Snapshot.SnapshotID,
		"commit_id", res.CommitID, "rows", out.rows, "attempts", res.Attempts,
		"recovered", res.Recovered, "files", len(files.files), "duration", elapsed.Round(time.Millisecond))
	return out, nil
}

// observeFreshness records, per partition, how old its newest and oldest
// committed records are (Kafka timestamp to now): produce-to-committed.
func (c *committer) observeFreshness(parts map[lakehouse.TopicPartition]*partBuf, dead bool) {
	now := c.now().UnixMicro()
	for _, p := range parts {
		rows := p.rows
		if dead {
			rows = p.dead
		}
		if len(rows) == 0 {
			continue
		}
		for _, r := range []*row{&rows[0], &rows[len(rows)-1]} {
			if r.kafkaTS != noTime {
				c.metrics.freshness.Observe(float64(now-r.kafkaTS) / 1e6)
			}
		}
	}
}

// writeFiles writes the selection as Parquet data files of tbl.
func writeFiles(ctx context.Context, tbl *table.Table, sel *selection) (*written, error) {
	w := &written{specID: specID(tbl), schemaID: tbl.Schema().ID}
	if fs, err := tbl.FS(ctx); err == nil {
		if rm, ok := fs.(interface{ Remove(string) error }); ok {
			w.fs = rm
		}
	}
	if sel.count() == 0 {
		return w, nil
	}
	sc, err := table.SchemaToArrowSchema(tbl.Schema(), nil, true, false)
	if err != nil {
		return nil, fmt.Errorf("convert schema of %s: %w", strings.Join(tbl.Identifier(), "."), err)
	}
	for df, err := range table.WriteRecords(ctx, tbl, sc, sel.recordBatches(sc)) {
		if err != nil {
			w.remove(slog.Default())
			return nil, fmt.Errorf("write data files of %s: %w", strings.Join(tbl.Identifier(), "."), err)
		}
		w.files = append(w.files, df)
	}
	return w, nil
}

// remove deletes files of an attempt that will not be committed; what it
// cannot delete is left to orphan-file cleanup.
func (w *written) remove(log *slog.Logger) {
	if w.fs == nil {
		return
	}
	for _, df := range w.files {
		if err := w.fs.Remove(df.FilePath()); err != nil {
			log.Warn("remove unused data file", "path", df.FilePath(), "err", err)
		}
	}
}

func sum(m map[lakehouse.TopicPartition]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

func specID(tbl *table.Table) int {
	spec := tbl.Spec()
	return spec.ID()
}
