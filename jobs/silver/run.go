package silver

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"maps"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/catalog"
	"github.com/apache/iceberg-go/table"

	"weir/lakehouse"
)

// errMoved: a target table's position is no longer the one the rows were
// computed from (a concurrent run committed first); the run starts over.
var errMoved = errors.New("silver table position moved")

// Job builds silver tables.
type Job struct {
	lake *lakehouse.Lakehouse
	cfg  Config
}

// New returns a job writing through lake.
func New(lake *lakehouse.Lakehouse, cfg Config) *Job {
	return &Job{lake: lake, cfg: cfg.withDefaults()}
}

// Result reports one source's run.
type Result struct {
	Source string `json:"source"`
	// BronzeSnapshot is the bronze snapshot every target is now built up
	// to (0 when bronze has no snapshot yet).
	BronzeSnapshot int64 `json:"bronze_snapshot"`
	Chunks         int   `json:"chunks"`
	BronzeRows     int64 `json:"bronze_rows"`
	// Rows were added to the typed table (or are the dimension rows after
	// the run, for dims).
	Rows       int64 `json:"rows"`
	Rejects    int64 `json:"rejects"`
	Duplicates int64 `json:"duplicates"`
	// Future counts the rejects of class future (part of Rejects).
	Future   int64 `json:"future"`
	Restarts int   `json:"restarts"`
	// Elapsed is the run's wall time.
	Elapsed time.Duration `json:"elapsed_ns"`
}

// Run builds one source, or all of them for SourceAll. Sources are
// independent except that app events are enriched from the dimensions, so
// dims runs first, alone (it is small, and latency-bound: sharing the CPU
// with the large sources made it, and app_events after it, the slowest
// path); the event sources then run concurrently (at most Config.Parallel
// at a time). app_events is skipped when dims fails; other failures do not
// stop the other sources. Results come in Sources order.
func (j *Job) Run(ctx context.Context, source string) ([]Result, error) {
	if err := ValidateSource(source); err != nil {
		return nil, err
	}
	ctx, err := j.lake.WithS3Client(ctx)
	if err != nil {
		return nil, err
	}
	var (
		first  []string // run before the others
		others []string
	)
	switch source {
	case SourceAll:
		first, others = []string{SourceDims}, []string{SourceWebAccess, SourceAppEvents, SourceAppLogs, SourceMetrics}
	case SourceAppEvents:
		// Enrichment reads the dimensions as of the run: bring them up to
		// date first (a no-op when bronze.dims did not move).
		first, others = []string{SourceDims}, []string{SourceAppEvents}
	default:
		others = []string{source}
	}

	var (
		mu      sync.Mutex
		results = map[string]Result{}
		errs    []error
	)
	run := func(src string) error {
		res, err := j.runSource(ctx, src)
		mu.Lock()
		defer mu.Unlock()
		results[src] = res
		if err != nil {
			errs = append(errs, err)
		}
		return err
	}
	for _, src := range first {
		if run(src) != nil {
			others = slices.DeleteFunc(others, func(s string) bool { return s == SourceAppEvents })
		}
	}
	if err := forEach(ctx, len(others), j.cfg.Parallel, func(i int) error {
		_ = run(others[i]) // recorded in errs; the other sources go on
		return nil
	}); err != nil {
		errs = append(errs, err) // cancelled before every source started
	}
	var out []Result
	for _, s := range Sources {
		if res, ok := results[s]; ok {
			out = append(out, res)
		}
	}
	return out, errors.Join(errs...)
}

func (j *Job) runSource(ctx context.Context, source string) (Result, error) {
	start := j.cfg.Now()
	res := Result{Source: source}
	for attempt := 1; ; attempt++ {
		err := j.once(ctx, source, &res)
		if err == nil {
			res.Elapsed = j.cfg.Now().Sub(start)
			j.cfg.Log.Info("silver run done", "source", source, "snapshot_id", res.BronzeSnapshot, "chunks", res.Chunks,
				"bronze_rows", res.BronzeRows, "rows", res.Rows, "rejects", res.Rejects, "duplicates", res.Duplicates,
				"future", res.Future, "restarts", res.Restarts, "elapsed", res.Elapsed)
			return res, nil
		}
		if !errors.Is(err, errMoved) || attempt >= j.cfg.MaxRuns {
			return res, fmt.Errorf("build silver from %s: %w", source, err)
		}
		res.Restarts++
		j.cfg.Log.Info("silver position moved by a concurrent run, starting over", "source", source, "attempt", attempt, "err", err)
	}
}

// target is one table a source's run writes.
type target struct {
	name  string // namespaced
	canon string // canonical (lakehouse.Silver*)
	spec  *lakehouse.TableSpec
	tbl   *table.Table
	pos   *int64 // bronze snapshot the table is built up to
	// main: the source's typed table, whose columns beyond the model's
	// (promoted fields) silver fills from extra.
	main bool
}

func (j *Job) targets(source string) ([]*target, error) {
	canon := []string{lakehouse.SilverRejects}
	if source == SourceDims {
		canon = append(canon, lakehouse.SilverDimItems, lakehouse.SilverDimProviders)
	} else {
		canon = append(canon, mainTable(source))
	}
	var out []*target
	for _, c := range canon {
		var promoted []arrow.Field
		if c == mainTable(source) {
			for _, p := range j.cfg.Promote[source] {
				f, err := lakehouse.PromotedColumn(p.Field, p.Type)
				if err != nil {
					return nil, err
				}
				promoted = append(promoted, f)
			}
		}
		spec, err := lakehouse.SilverTableSpecWith(c, promoted)
		if err != nil {
			return nil, err
		}
		name := j.cfg.Namespaces.Table(c)
		ns, short, _ := strings.Cut(name, ".")
		spec.Location = j.lake.TableLocation(ns, short)
		out = append(out, &target{name: name, canon: c, spec: spec, main: c == mainTable(source)})
	}
	return out, nil
}

// once makes one pass: every target is brought up to the current bronze
// snapshot, chunk by chunk, or errMoved stops the pass.
func (j *Job) once(ctx context.Context, source string, res *Result) error {
	cat := j.lake.Catalog
	bronzeName := j.cfg.Namespaces.Table(bronzeTable(source))
	bronze, err := cat.LoadTable(ctx, lakehouse.Ident(bronzeName))
	if errors.Is(err, catalog.ErrNoSuchTable) {
		j.cfg.Log.Info("no bronze table yet", "table", bronzeName)
		return nil
	}
	if err != nil {
		return fmt.Errorf("load %s: %w", bronzeName, err)
	}
	cur := bronze.CurrentSnapshot()
	if cur == nil {
		return nil
	}
	res.BronzeSnapshot = cur.SnapshotID

	targets, err := j.targets(source)
	if err != nil {
		return err
	}
	order := ancestorIndex(bronze) // snapshot id → age rank (0 = current)
	var from *int64
	fromRank := -1
	boundaries := map[int64]bool{}
	for _, t := range targets {
		if t.tbl, err = lakehouse.LoadOrCreate(ctx, cat, lakehouse.Ident(t.name), t.spec); err != nil {
			return err
		}
		if id, ok := lakehouse.SourceSnapshots(t.tbl)[bronzeName]; ok {
			t.pos = &id
		}
		rank := len(order) + 1 // never built: before everything
		if t.pos != nil {
			r, ok := order[*t.pos]
			if !ok {
				return fmt.Errorf("%s is built up to %s snapshot %d, which is not in its history", t.name, bronzeName, *t.pos)
			}
			rank = r
			boundaries[*t.pos] = true
		}
		if rank > fromRank {
			fromRank, from = rank, t.pos
		}
	}
	if fromRank == 0 {
		return nil // every target is current
	}
	if from == nil && historyTruncated(bronze) {
		// An incremental scan would silently miss the files of expired
		// snapshots. Expiry keeps everything after existing positions, so
		// this only happens to a silver table created after bronze expired.
		return fmt.Errorf("a target of %s has no position and %s snapshots have been expired: build it from a full scan (not supported yet)", source, bronzeName)
	}

	chunks, err := planChunks(bronze, from, boundaries, j.cfg.ChunkRows)
	if err != nil {
		return fmt.Errorf("plan %s: %w", bronzeName, err)
	}
	for _, c := range chunks {
		if err := j.chunk(ctx, source, bronze, bronzeName, targets, c, order, res); err != nil {
			return err
		}
		res.Chunks++
	}
	return nil
}

// ancestorIndex ranks the current snapshot and its ancestors by age (0 =
// current); the parent of the oldest kept ancestor (expired, but still a
// valid exclusive start) gets the next rank.
func ancestorIndex(tbl *table.Table) map[int64]int {
	out := map[int64]int{}
	var last *table.Snapshot
	for s := range lakehouse.Ancestors(tbl) {
		out[s.SnapshotID] = len(out)
		last = s
	}
	if last != nil && last.ParentSnapshotID != nil {
		if _, ok := out[*last.ParentSnapshotID]; !ok {
			out[*last.ParentSnapshotID] = len(out)
		}
	}
	return out
}

// historyTruncated reports whether the oldest kept ancestor has a parent
// that expired.
func historyTruncated(tbl *table.Table) bool {
	var last *table.Snapshot
	for s := range lakehouse.Ancestors(tbl) {
		last = s
	}
	return last != nil && last.ParentSnapshotID != nil
}

func samePos(a, b *int64) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return *a == *b
}

// chunk reads one chunk of bronze and commits it to every target whose
// position is the chunk's start: rejects first, then the typed or
// dimension tables.
func (j *Job) chunk(ctx context.Context, source string, bronze *table.Table, bronzeName string, targets []*target, c chunk, order map[int64]int, res *Result) error {
	var active []*target
	for _, t := range targets {
		if samePos(t.pos, c.from) {
			active = append(active, t)
		} else if t.pos == nil || order[*t.pos] > order[c.to] {
			return fmt.Errorf("%s position %v is inside chunk (%v, %d]", t.name, t.pos, c.from, c.to)
		}
	}
	if len(active) == 0 {
		return nil
	}

	t0 := time.Now()
	// Each reading worker parses into rows of its own; they are merged
	// once reading is done (every later step orders rows itself).
	workers := max(1, runtime.GOMAXPROCS(0))
	type parsed struct {
		conv    converter
		rejects *rejectRows
		changes []dimChange
	}
	at := j.cfg.Now().UnixMicro()
	per := make([]parsed, workers)
	for w := range per {
		per[w].rejects = &rejectRows{at: at}
		if source != SourceDims {
			per[w].conv = newConverterFor(source, j.cfg.AccessFormats)
			per[w].conv.grow(int(min(c.rows, 2*j.cfg.ChunkRows)) / workers)
		}
	}
	n, err := readChunk(ctx, bronze, c, workers, func(w int, r *bronzeRow) {
		p := &per[w]
		var perr error
		if p.conv != nil {
			perr = p.conv.add(r, j.cfg.MaxFuture)
		} else {
			perr = addDim(&p.changes, r)
		}
		if perr != nil {
			p.rejects.add(r, perr)
		}
	})
	if err != nil {
		return err
	}
	conv, rejects, changes := per[0].conv, per[0].rejects, per[0].changes
	for _, p := range per[1:] {
		if conv != nil {
			conv.merge(p.conv)
		}
		rejects.rows = append(rejects.rows, p.rejects.rows...)
		changes = append(changes, p.changes...)
	}
	res.BronzeRows += n
	tRead := time.Since(t0)

	var dims *dimLookup
	if conv != nil {
		if keys, days := conv.dedupKeys(); keys != nil {
			existing, err := j.existingKeys(ctx, mainTable(source), keys, days)
			if err != nil {
				return err
			}
			res.Duplicates += int64(conv.dedup(existing))
		}
		if source == SourceAppEvents {
			st, err := readDims(ctx, j.lake.Catalog, j.cfg.Namespaces)
			if err != nil {
				return err
			}
			dims = st.lookup()
		}
	}

	tDedup := time.Since(t0) - tRead
	summary := map[string]string{lakehouse.SourceSnapshotKey(bronzeName): strconv.FormatInt(c.to, 10)}
	if j.cfg.RunID != "" {
		summary[SummaryRunID] = j.cfg.RunID
	}
	// Every target keeps its own position and checks it in its own commit,
	// so the commits are independent of each other: they run at once.
	type outcome struct {
		rows, rejects, future int64
		err                   error
	}
	outs := make([]outcome, len(active))
	_ = forEach(ctx, len(active), len(active), func(i int) error {
		t, o := active[i], &outs[i]
		switch t.canon {
		case lakehouse.SilverRejects:
			o.err = j.commitAppend(ctx, t, bronzeName, c, summary, func(sc *arrow.Schema, _, _ int) iter.Seq2[arrow.RecordBatch, error] {
				return rejects.batches(sc)
			}, len(rejects.rows), 1)
			o.rejects, o.future = int64(len(rejects.rows)), rejects.future()
		case lakehouse.SilverDimItems, lakehouse.SilverDimProviders:
			var size int
			size, o.err = j.commitDims(ctx, t, bronzeName, c, summary, slices.Clone(changes))
			o.rows = int64(size)
		default:
			o.err = j.commitAppend(ctx, t, bronzeName, c, summary, func(sc *arrow.Schema, part, parts int) iter.Seq2[arrow.RecordBatch, error] {
				return conv.batches(sc, dims, part, parts)
			}, conv.len(), maxWriteParts)
			o.rows = int64(conv.len())
		}
		return nil
	})
	var moved error
	for i, t := range active {
		o := outs[i]
		if o.err != nil {
			if !errors.Is(o.err, errMoved) {
				return o.err
			}
			moved = o.err
			continue
		}
		res.Rows += o.rows
		res.Rejects += o.rejects
		res.Future += o.future
		to := c.to
		t.pos = &to
	}
	if moved != nil {
		return moved
	}
	j.cfg.Log.Info("silver chunk committed", "source", source, "snapshot_id", c.to, "bronze_rows", n,
		"read", tRead, "dedup", tDedup, "write_commit", time.Since(t0)-tRead-tDedup)
	return nil
}

// rowStreams yields part of parts of the rows to write, as record batches
// of the table's Arrow schema sc.
type rowStreams func(sc *arrow.Schema, part, parts int) iter.Seq2[arrow.RecordBatch, error]

// maxWriteParts bounds the parts one typed write is split into.
const maxWriteParts = 4

// minPartRows is the fewest rows worth a write part (and files) of their own.
const minPartRows = 100_000

// SummaryRunID records the scheduler run (WEIR_RUN_ID) that made a commit.
const SummaryRunID = "weir.run-id"

// checkPos fails with errMoved unless tbl is still built up to want.
func checkPos(tbl *table.Table, bronzeName string, want *int64) error {
	var have *int64
	if id, ok := lakehouse.SourceSnapshots(tbl)[bronzeName]; ok {
		have = &id
	}
	if !samePos(have, want) {
		return fmt.Errorf("%w: %s is at %s snapshot %v, the rows were read after %v", errMoved,
			strings.Join(tbl.Identifier(), "."), bronzeName, ptrStr(have), ptrStr(want))
	}
	return nil
}

func ptrStr(p *int64) string {
	if p == nil {
		return "none"
	}
	return strconv.FormatInt(*p, 10)
}

// writeSchema is the table's Arrow schema (its field IDs) in the column
// order the row builders fill: package events' fields, the table's own,
// lineage, then, for a source's main table, every column it has beyond the
// model's (promoted fields, filled from extra) in table order. A table created before a
// column was added to the model has that column last (schema evolution
// appends), so the model's order is taken from the model, not the table.
func writeSchema(t *target) (*arrow.Schema, error) {
	sc, err := table.SchemaToArrowSchema(t.tbl.Schema(), nil, true, false)
	if err != nil {
		return nil, fmt.Errorf("convert schema of %s: %w", t.name, err)
	}
	want, err := lakehouse.SilverArrowSchema(t.canon)
	if err != nil {
		return nil, err
	}
	fields := make([]arrow.Field, 0, sc.NumFields())
	for _, f := range want.Fields() {
		idx := sc.FieldIndices(f.Name)
		if len(idx) == 0 {
			return nil, fmt.Errorf("table %s has no column %s: its schema was not evolved", t.name, f.Name)
		}
		fields = append(fields, sc.Field(idx[0]))
	}
	for _, f := range sc.Fields() {
		if t.main && !want.HasField(f.Name) {
			if !f.Nullable {
				return nil, fmt.Errorf("table %s: column %s is not silver's and is required: silver cannot fill it", t.name, f.Name)
			}
			fields = append(fields, f)
		}
	}
	return arrow.NewSchema(fields, nil), nil
}

// commitAppend writes the rows once and appends them, with the new
// position, if the table's position is still the chunk's start.
func (j *Job) commitAppend(ctx context.Context, t *target, bronzeName string, c chunk, summary map[string]string,
	rows rowStreams, count, maxParts int) error {
	if err := checkPos(t.tbl, bronzeName, c.from); err != nil {
		return err
	}
	var files []iceberg.DataFile
	t0 := time.Now()
	if count > 0 {
		sc, err := writeSchema(t)
		if err != nil {
			return err
		}
		// A partition's rows are encoded by one goroutine, and most rows of
		// a run fall in today's partition: large writes are split into
		// parts (consecutive ranges of the write order) written at once,
		// each into files of its own.
		parts := max(1, min(maxParts, runtime.GOMAXPROCS(0), count/minPartRows))
		var mu sync.Mutex
		err = forEach(ctx, parts, parts, func(part int) error {
			// One fanout worker: batches come sorted and one partition
			// each, so it only routes them, and a partition's batches reach
			// its file in order (several workers would interleave them,
			// leaving a file sorted only in runs). Encoding still runs per
			// partition, at once.
			// A partition writer queues up to 64 batches by default, which
			// could hold a chunk a second time (as Arrow batches) whenever
			// building outpaces encoding; two bound that and keep the
			// pipeline busy. (In the benchmark encoding kept up: the peak
			// heap was the same either way.)
			for df, err := range table.WriteRecords(ctx, t.tbl, sc, rows(sc, part, parts),
				table.WithMaxWriteWorkers(1), table.WithRecordBatchBufferSize(2)) {
				if err != nil {
					return err
				}
				mu.Lock()
				files = append(files, df)
				mu.Unlock()
			}
			return nil
		})
		if err != nil {
			lakehouse.RemoveUncommitted(ctx, t.tbl, files, j.cfg.Log)
			return fmt.Errorf("write data files of %s: %w", t.name, err)
		}
	}
	tWrite := time.Since(t0)
	res, err := j.lake.Commit(ctx, lakehouse.Ident(t.name), func(ctx context.Context, a *lakehouse.Attempt) error {
		if err := checkPos(a.Table, bronzeName, c.from); err != nil {
			return err
		}
		props := maps.Clone(a.Summary)
		maps.Copy(props, summary)
		if len(files) == 0 {
			return a.Tx.AddFiles(ctx, nil, props, false)
		}
		return a.Tx.AddDataFiles(ctx, files, props, table.WithoutDuplicateCheck())
	}, j.commitOptions(t.name))
	if err != nil {
		if errors.Is(err, errMoved) {
			// No attempt committed (the commit id was not found after any
			// failed one), so the files are unreferenced.
			lakehouse.RemoveUncommitted(ctx, t.tbl, files, j.cfg.Log)
		}
		return err
	}
	t.tbl = res.Table
	j.cfg.Log.Info("silver table committed", "table", t.name, "rows", count, "files", len(files),
		"write", tWrite, "commit", time.Since(t0)-tWrite)
	return nil
}

// commitDims rewrites a dimension table with the chunk's changes applied;
// it returns the table's size after the commit.
func (j *Job) commitDims(ctx context.Context, t *target, bronzeName string, c chunk, summary map[string]string, changes []dimChange) (int, error) {
	items := t.canon == lakehouse.SilverDimItems
	topic := "dims.providers"
	if items {
		topic = "dims.items"
	}
	size := 0
	res, err := j.lake.Commit(ctx, lakehouse.Ident(t.name), func(ctx context.Context, a *lakehouse.Attempt) error {
		if err := checkPos(a.Table, bronzeName, c.from); err != nil {
			return err
		}
		st := dimState{items: map[string]dimRow{}, providers: map[string]dimRow{}}
		if err := readDimTable(ctx, a.Table, t.canon, st); err != nil {
			return err
		}
		rows := st.providers
		if items {
			rows = st.items
		}
		apply(rows, changes, topic)
		size = len(rows)
		props := maps.Clone(a.Summary)
		maps.Copy(props, summary)
		sc, err := table.SchemaToArrowSchema(a.Table.Schema(), nil, true, false)
		if err != nil {
			return fmt.Errorf("convert schema of %s: %w", t.name, err)
		}
		if a.Table.CurrentSnapshot() == nil && len(rows) == 0 {
			return a.Tx.AddFiles(ctx, nil, props, false)
		}
		var recs []arrow.RecordBatch
		for rec := range dimBatches(sc, rows, items) {
			recs = append(recs, rec)
		}
		rdr, err := arrowReader(sc, recs)
		if err != nil {
			return err
		}
		defer rdr.Release()
		return a.Tx.Overwrite(ctx, rdr, props)
	}, j.commitOptions(t.name))
	if err != nil {
		return 0, err
	}
	t.tbl = res.Table
	return size, nil
}

// commitOptions: a silver commit that loses a race is cheap to retry (its
// data files are written; only manifests and metadata are rebuilt), and the
// sources of a run race for silver.rejects all the time, so retries start
// sooner than lakehouse.Commit's default.
func (j *Job) commitOptions(name string) lakehouse.CommitOptions {
	return lakehouse.CommitOptions{OnRetry: j.onRetry(name), Backoff: 20 * time.Millisecond, MaxBackoff: time.Second}
}

func (j *Job) onRetry(name string) func(int, bool, error) {
	return func(attempt int, conflict bool, err error) {
		j.cfg.Log.Warn("silver commit attempt failed", "table", name, "attempt", attempt, "conflict", conflict, "err", err)
	}
}
