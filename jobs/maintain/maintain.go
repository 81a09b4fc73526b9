// Package maintain keeps weir's Iceberg tables healthy (DESIGN §7): it
// compacts small data files, rewrites fragmented manifests, expires old
// snapshots and removes orphan files, on bronze, silver and archive tables,
// while the stream and silver jobs keep committing.
//
// Contract:
//   - Compaction merges a partition's files under 75% of the target size.
//     By default it is size-tiered (a file larger than all the others it
//     would be merged with waits), so each byte is rewritten O(log n)
//     times while small files keep arriving; Config.Full merges every
//     small file, for a daily or final run.
//   - Never a row lost or duplicated. Compaction writes the merged files
//     once, then commits a replace snapshot through lakehouse.Commit; every
//     attempt (after a conflict with a concurrent append) re-checks against
//     the reloaded table that each file it replaces is still live, and
//     drops the groups whose inputs another writer already removed (their
//     new files are deleted). Appends that landed meanwhile are untouched.
//     Replace snapshots carry no offsets or source positions, and silver
//     reads only append snapshots, so compaction never makes a consumer
//     re-read rows.
//   - Expiry keeps the snapshots newer than the window, at least RetainLast,
//     and always the newest snapshot carrying each stream offset key
//     (weir.offset.*) and silver position key (weir.source.*) with every
//     snapshot after it, so the stream job can resume from the table and the
//     ancestry walks stay intact. On a bronze table it also keeps every
//     snapshot after the oldest position any silver table records for it,
//     so silver can still read the data files those snapshots appended.
//     Expiry deletes no files itself (post-commit cleanup off): orphan
//     removal does, later.
//   - Bronze retention (BronzeRetention, default 30 days) deletes bronze
//     data files whose day partition ended before the window and whose rows
//     every silver table reading them has consumed (the file's data
//     sequence number is at most that of the oldest silver position); a
//     table no silver table reads keeps everything (see retain).
//   - Orphan removal deletes only files older than OrphanAge (default 24h)
//     that no kept snapshot or metadata references: files of a commit in
//     flight are younger than that.
package maintain

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/catalog"
	"github.com/apache/iceberg-go/table"
	"github.com/apache/iceberg-go/table/compaction"

	"weir/jobs/silver"
	"weir/lakehouse"
)

// Operations a run performs.
const (
	OpRetain    = "retain"
	OpCompact   = "compact"
	OpManifests = "manifests"
	OpExpire    = "expire"
	OpOrphans   = "orphans"
)

// AllOps is the default: every operation, in this order.
var AllOps = []string{OpRetain, OpCompact, OpManifests, OpExpire, OpOrphans}

// SummaryMaintain marks the snapshots maintenance commits ("compact", ...).
const SummaryMaintain = "weir.maintain"

// Config tunes a maintenance run. The zero value is usable.
type Config struct {
	Namespaces silver.Namespaces
	// Tables limits the run to these canonical names (e.g. bronze.app_events,
	// silver.events); empty means every table of the three namespaces.
	Tables []string
	// Ops limits the operations; empty means AllOps.
	Ops []string
	// TargetFileBytes is the size compaction aims at (default 128 MiB);
	// files under 75% of it are candidates.
	TargetFileBytes int64
	// MinInputFiles is the fewest small files of one partition worth
	// compacting (default 5).
	MinInputFiles uint
	// Full compacts every small file of a partition into as few files as
	// the target allows (a daily or final run). Without it compaction is
	// size-tiered (see tiered): a file larger than all the other small
	// files it would be merged with is left alone, so a byte is rewritten a
	// few times on its way to the target size, not in every run.
	Full bool
	// MaxManifests: manifests are rewritten when a snapshot has more
	// (default 16).
	MaxManifests int
	// SnapshotWindow: snapshots younger than this are kept (default 24h).
	SnapshotWindow time.Duration
	// RetainLast snapshots are kept whatever their age (default 20).
	RetainLast int
	// OrphanAge: only unreferenced files older than this are deleted
	// (default 24h).
	OrphanAge time.Duration
	// BronzeRetention: bronze rows ingested longer ago than this (whole
	// days) are deleted once silver has consumed them (default 30 days);
	// negative keeps bronze forever.
	BronzeRetention time.Duration
	Now             func() time.Time
	Log             *slog.Logger
}

// DefaultConfig returns the tuning defaults New gives zero fields (the
// command's flags start from them).
func DefaultConfig() Config {
	return Config{
		TargetFileBytes: 128 << 20,
		MinInputFiles:   5,
		MaxManifests:    16,
		SnapshotWindow:  24 * time.Hour,
		RetainLast:      20,
		OrphanAge:       24 * time.Hour,
		BronzeRetention: 30 * 24 * time.Hour,
	}
}

func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.Namespaces == (silver.Namespaces{}) {
		c.Namespaces = silver.DefaultNamespaces()
	}
	if len(c.Ops) == 0 {
		c.Ops = AllOps
	}
	if c.TargetFileBytes <= 0 {
		c.TargetFileBytes = d.TargetFileBytes
	}
	if c.MinInputFiles == 0 {
		c.MinInputFiles = d.MinInputFiles
	}
	if c.MaxManifests <= 0 {
		c.MaxManifests = d.MaxManifests
	}
	if c.SnapshotWindow <= 0 {
		c.SnapshotWindow = d.SnapshotWindow
	}
	if c.RetainLast <= 0 {
		c.RetainLast = d.RetainLast
	}
	if c.OrphanAge <= 0 {
		c.OrphanAge = d.OrphanAge
	}
	if c.BronzeRetention == 0 {
		c.BronzeRetention = d.BronzeRetention
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Log == nil {
		c.Log = slog.Default()
	}
	return c
}

// Validate names a bad field.
func (c Config) Validate() error {
	for _, op := range c.Ops {
		known := false
		for _, k := range AllOps {
			known = known || op == k
		}
		if !known {
			return fmt.Errorf("maintain config: ops: unknown operation %q (want %s)", op, strings.Join(AllOps, ", "))
		}
	}
	return nil
}

// TableReport is what a run did to one table.
type TableReport struct {
	Table            string `json:"table"`
	FilesBefore      int    `json:"files_before"`
	FilesAfter       int    `json:"files_after"`
	RewrittenFiles   int    `json:"rewritten_files"`
	AddedFiles       int    `json:"added_files"`
	RewrittenBytes   int64  `json:"rewritten_bytes"`
	ManifestsBefore  int    `json:"manifests_before"`
	ManifestsAfter   int    `json:"manifests_after"`
	CompactPolicy    string `json:"compact_policy,omitempty"`
	ExpiredSnapshots int    `json:"expired_snapshots"`
	OrphansRemoved   int    `json:"orphans_removed"`
	// Bronze retention: data files (and their rows) deleted.
	RetentionDeletedFiles int    `json:"retention_deleted_files"`
	RetentionDeletedRows  int64  `json:"retention_deleted_rows"`
	Skipped               string `json:"skipped,omitempty"`
}

// Job runs maintenance.
type Job struct {
	lake *lakehouse.Lakehouse
	cfg  Config
}

// New returns a job on lake.
func New(lake *lakehouse.Lakehouse, cfg Config) *Job {
	return &Job{lake: lake, cfg: cfg.withDefaults()}
}

// Run maintains every selected table; a failure on one table is reported
// and the others still run.
func (j *Job) Run(ctx context.Context) ([]TableReport, error) {
	if err := j.cfg.Validate(); err != nil {
		return nil, err
	}
	ctx, err := j.lake.WithS3Client(ctx)
	if err != nil {
		return nil, err
	}
	names, err := j.tables(ctx)
	if err != nil {
		return nil, err
	}
	var (
		out  []TableReport
		errs []error
	)
	for _, name := range names {
		rep, err := j.Table(ctx, name)
		out = append(out, rep)
		if err != nil {
			errs = append(errs, fmt.Errorf("maintain %s: %w", name, err))
			j.cfg.Log.Error("table maintenance failed", "table", name, "err", err)
		}
	}
	return out, errors.Join(errs...)
}

func (j *Job) tables(ctx context.Context) ([]string, error) {
	if len(j.cfg.Tables) > 0 {
		var out []string
		for _, t := range j.cfg.Tables {
			out = append(out, j.cfg.Namespaces.Table(t))
		}
		return out, nil
	}
	var out []string
	for _, ns := range []string{j.cfg.Namespaces.Bronze, j.cfg.Namespaces.Silver, j.cfg.Namespaces.Archive} {
		for id, err := range j.lake.Catalog.ListTables(ctx, table.Identifier{ns}) {
			if err != nil {
				if errors.Is(err, catalog.ErrNoSuchNamespace) {
					break
				}
				return nil, fmt.Errorf("list tables of %s: %w", ns, err)
			}
			out = append(out, strings.Join(id, "."))
		}
	}
	return out, nil
}

func (j *Job) has(op string) bool {
	for _, o := range j.cfg.Ops {
		if o == op {
			return true
		}
	}
	return false
}

// Table runs the configured operations on one table (namespaced name).
func (j *Job) Table(ctx context.Context, name string) (TableReport, error) {
	rep := TableReport{Table: name}
	ident := lakehouse.Ident(name)
	tbl, err := j.lake.Catalog.LoadTable(ctx, ident)
	if err != nil {
		return rep, fmt.Errorf("load table: %w", err)
	}
	if tbl.CurrentSnapshot() == nil {
		rep.Skipped = "no snapshot"
		return rep, nil
	}
	if rep.FilesBefore, err = liveFiles(ctx, tbl); err != nil {
		return rep, err
	}
	rep.FilesAfter = rep.FilesBefore
	if j.has(OpRetain) {
		if err := j.retain(ctx, name, &rep); err != nil {
			return rep, err
		}
	}
	if j.has(OpCompact) {
		if err := j.compact(ctx, name, tbl, &rep); err != nil {
			return rep, err
		}
	}
	if j.has(OpManifests) {
		if err := j.rewriteManifests(ctx, name, &rep); err != nil {
			return rep, err
		}
	}
	if j.has(OpExpire) {
		if err := j.expire(ctx, name, &rep); err != nil {
			return rep, err
		}
	}
	if j.has(OpOrphans) {
		if err := j.orphans(ctx, name, &rep); err != nil {
			return rep, err
		}
	}
	if tbl, err = j.lake.Catalog.LoadTable(ctx, ident); err == nil {
		rep.FilesAfter, _ = liveFiles(ctx, tbl)
	}
	j.cfg.Log.Info("table maintained", "table", name, "files_before", rep.FilesBefore, "files_after", rep.FilesAfter,
		"rewritten_files", rep.RewrittenFiles, "manifests_before", rep.ManifestsBefore, "manifests_after", rep.ManifestsAfter,
		"expired_snapshots", rep.ExpiredSnapshots, "orphans_removed", rep.OrphansRemoved,
		"retention_deleted_files", rep.RetentionDeletedFiles)
	return rep, nil
}

func liveFiles(ctx context.Context, tbl *table.Table) (int, error) {
	if tbl.CurrentSnapshot() == nil {
		return 0, nil
	}
	tasks, err := tbl.Scan().PlanFiles(ctx)
	if err != nil {
		return 0, fmt.Errorf("plan files: %w", err)
	}
	return len(tasks), nil
}

// Compaction policies, as reported in TableReport.CompactPolicy.
const (
	PolicyTiered = "tiered"
	PolicyFull   = "full"
)

// compact merges small files per partition (see planCompaction). The new
// files are written once; each commit attempt keeps only the groups whose
// inputs are all still live in the table it builds on.
func (j *Job) compact(ctx context.Context, name string, tbl *table.Table, rep *TableReport) error {
	tasks, err := tbl.Scan().PlanFiles(ctx)
	if err != nil {
		return fmt.Errorf("plan files: %w", err)
	}
	rep.CompactPolicy = PolicyTiered
	if j.cfg.Full {
		rep.CompactPolicy = PolicyFull
	}
	groups, err := planCompaction(tasks, j.cfg.TargetFileBytes, j.cfg.MinInputFiles, j.cfg.Full)
	if err != nil {
		return err
	}
	if len(groups) == 0 {
		return nil
	}
	var results []table.CompactionGroupResult
	for _, g := range groups {
		gr, err := table.ExecuteCompactionGroup(ctx, tbl, table.CompactionTaskGroup{PartitionKey: g.PartitionKey, Tasks: g.Tasks, TotalSizeBytes: g.TotalSizeBytes},
			table.WithCompactionTargetFileSize(j.cfg.TargetFileBytes), table.WithCompactionScanConcurrency(2))
		if err != nil {
			lakehouse.RemoveUncommitted(ctx, tbl, resultFiles(results), j.cfg.Log)
			return fmt.Errorf("compact partition %s: %w", g.PartitionKey, err)
		}
		results = append(results, gr)
	}

	var kept []table.CompactionGroupResult
	res, err := j.lake.Commit(ctx, lakehouse.Ident(name), func(ctx context.Context, a *lakehouse.Attempt) error {
		live, err := livePaths(ctx, a.Table)
		if err != nil {
			return err
		}
		kept = kept[:0]
		for _, gr := range results {
			all := true
			for _, df := range gr.OldDataFiles {
				all = all && live[df.FilePath()]
			}
			if all {
				kept = append(kept, gr)
			}
		}
		if len(kept) == 0 {
			return lakehouse.ErrNothingToCommit
		}
		props := maps.Clone(a.Summary)
		props[SummaryMaintain] = OpCompact
		rw := a.Tx.NewRewrite(props)
		for _, gr := range kept {
			rw.ApplyResult(gr)
		}
		return rw.Commit(ctx)
	}, lakehouse.CommitOptions{MaxAttempts: 20, OnRetry: func(attempt int, conflict bool, err error) {
		j.cfg.Log.Info("compaction commit retry", "table", name, "attempt", attempt, "conflict", conflict, "err", err)
	}})
	if err != nil {
		// The outcome of the last attempt may be unknown: leave the new
		// files to orphan removal rather than risk deleting committed ones.
		return fmt.Errorf("commit compaction: %w", err)
	}
	if res.Snapshot == nil {
		kept = nil // nothing committed: every input was already rewritten
	}
	var dropped []table.CompactionGroupResult
	for _, gr := range results {
		if !containsGroup(kept, gr) {
			dropped = append(dropped, gr)
		}
	}
	lakehouse.RemoveUncommitted(ctx, tbl, resultFiles(dropped), j.cfg.Log)
	for _, gr := range kept {
		rep.RewrittenFiles += len(gr.OldDataFiles)
		rep.AddedFiles += len(gr.NewDataFiles)
		rep.RewrittenBytes += gr.BytesBefore
	}
	return nil
}

// planCompaction chooses the files to merge: iceberg-go's planner bin-packs
// each partition's small files (under 75% of target) into groups of about
// target bytes and drops groups of fewer than minInputs files; unless full,
// tiered then trims every group.
func planCompaction(tasks []table.FileScanTask, target int64, minInputs uint, full bool) ([]compaction.Group, error) {
	cfg := compaction.DefaultConfig()
	cfg.TargetFileSizeBytes = target
	cfg.MinFileSizeBytes = target * 3 / 4
	cfg.MaxFileSizeBytes = target * 9 / 5
	cfg.MinInputFiles = minInputs
	plan, err := cfg.PlanCompaction(tasks)
	if err != nil {
		return nil, fmt.Errorf("plan compaction: %w", err)
	}
	if full {
		return plan.Groups, nil
	}
	var out []compaction.Group
	for _, g := range plan.Groups {
		if g, ok := tiered(g, minInputs); ok {
			out = append(out, g)
		}
	}
	return out, nil
}

// tiered trims a group to the files worth merging now. Sorted by size, the
// largest file is left out while it is larger than all the others together;
// the rest are merged if at least minInputs remain (ok), else nothing is.
//
// Why: a file that is merged is then at most half of the file it becomes,
// so a byte is rewritten only when the file holding it at least doubles:
// at most log2(target / commit size) times on its way to the target, not in
// every run as when a partition's small files are always merged whole. A
// compacted file that holds most of a partition waits until the files
// committed after it together catch up with it; equal files merge (two
// equal files are the doubling step). Full compaction skips this.
func tiered(g compaction.Group, minInputs uint) (compaction.Group, bool) {
	tasks := slices.Clone(g.Tasks)
	slices.SortStableFunc(tasks, func(a, b table.FileScanTask) int {
		return cmp.Compare(a.File.FileSizeBytes(), b.File.FileSizeBytes())
	})
	var total int64
	for _, t := range tasks {
		total += t.File.FileSizeBytes()
	}
	for len(tasks) > 1 {
		largest := tasks[len(tasks)-1].File.FileSizeBytes()
		if largest <= total-largest {
			break
		}
		total -= largest
		tasks = tasks[:len(tasks)-1]
	}
	if len(tasks) < max(int(minInputs), 2) {
		return compaction.Group{}, false
	}
	out := compaction.Group{PartitionKey: g.PartitionKey, Tasks: tasks, TotalSizeBytes: total}
	for _, t := range tasks {
		out.DeleteFileCount += len(t.DeleteFiles) + len(t.EqualityDeleteFiles) + len(t.DeletionVectorFiles)
	}
	return out, true
}

func containsGroup(list []table.CompactionGroupResult, gr table.CompactionGroupResult) bool {
	for _, k := range list {
		if len(k.NewDataFiles) > 0 && len(gr.NewDataFiles) > 0 && k.NewDataFiles[0].FilePath() == gr.NewDataFiles[0].FilePath() {
			return true
		}
	}
	return false
}

func resultFiles(rs []table.CompactionGroupResult) []iceberg.DataFile {
	var out []iceberg.DataFile
	for _, r := range rs {
		out = append(out, r.NewDataFiles...)
	}
	return out
}

func livePaths(ctx context.Context, tbl *table.Table) (map[string]bool, error) {
	out := map[string]bool{}
	if tbl.CurrentSnapshot() == nil {
		return out, nil
	}
	tasks, err := tbl.Scan().PlanFiles(ctx)
	if err != nil {
		return nil, fmt.Errorf("plan files: %w", err)
	}
	for _, t := range tasks {
		out[t.File.FilePath()] = true
	}
	return out, nil
}

// rewriteManifests merges manifests when the current snapshot has more
// than MaxManifests.
func (j *Job) rewriteManifests(ctx context.Context, name string, rep *TableReport) error {
	_, err := j.lake.Commit(ctx, lakehouse.Ident(name), func(ctx context.Context, a *lakehouse.Attempt) error {
		n, err := manifestCount(ctx, a.Table)
		if err != nil {
			return err
		}
		rep.ManifestsBefore, rep.ManifestsAfter = n, n
		if n <= j.cfg.MaxManifests {
			return lakehouse.ErrNothingToCommit
		}
		res, err := a.Tx.RewriteManifests(ctx)
		if err != nil {
			return fmt.Errorf("rewrite manifests: %w", err)
		}
		if res.IsNoOp() {
			return lakehouse.ErrNothingToCommit
		}
		return nil
	}, lakehouse.CommitOptions{MaxAttempts: 20})
	if err != nil {
		return fmt.Errorf("commit manifest rewrite: %w", err)
	}
	tbl, err := j.lake.Catalog.LoadTable(ctx, lakehouse.Ident(name))
	if err == nil {
		rep.ManifestsAfter, _ = manifestCount(ctx, tbl)
	}
	return nil
}

func manifestCount(ctx context.Context, tbl *table.Table) (int, error) {
	snap := tbl.CurrentSnapshot()
	if snap == nil {
		return 0, nil
	}
	fs, err := tbl.FS(ctx)
	if err != nil {
		return 0, err
	}
	mfs, err := snap.Manifests(fs)
	if err != nil {
		return 0, fmt.Errorf("read manifest list: %w", err)
	}
	return len(mfs), nil
}
