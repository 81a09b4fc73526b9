package silver

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/iceberg-go"
	iceio "github.com/apache/iceberg-go/io"
	"github.com/apache/iceberg-go/table"

	"weir/lakehouse"
)

var bronzeColumns = []string{lakehouse.ColTopic, lakehouse.ColPartition, lakehouse.ColOffset, lakehouse.ColKafkaTS,
	lakehouse.ColKey, lakehouse.ColValue, lakehouse.ColIngestedAt, lakehouse.ColEventTS}

// chunk is a run of consecutive bronze append snapshots: (from, to].
type chunk struct {
	from *int64 // exclusive; nil = from the first snapshot
	to   int64
	rows int64 // added-records of its snapshots (an estimate for sizing)
}

// planChunks splits the bronze snapshots after from up to the current one
// into chunks of about maxRows added records. Every id in boundaries (the
// positions of the target tables) that lies in the range ends a chunk, so a
// chunk is entirely before or entirely after each target's position.
func planChunks(bronze *table.Table, from *int64, boundaries map[int64]bool, maxRows int64) ([]chunk, error) {
	cur := bronze.CurrentSnapshot()
	if cur == nil {
		return nil, nil
	}
	var snaps []*table.Snapshot // newest first
	found := from == nil
	for s := range lakehouse.Ancestors(bronze) {
		if from != nil && s.SnapshotID == *from {
			found = true
			break
		}
		snaps = append(snaps, s)
		if from != nil && s.ParentSnapshotID != nil && *s.ParentSnapshotID == *from {
			found = true // the starting snapshot itself may have expired
			break
		}
	}
	if !found {
		return nil, fmt.Errorf("bronze snapshot %d is not an ancestor of the current snapshot %d (expired too early?)", *from, cur.SnapshotID)
	}
	var out []chunk
	c := chunk{from: from}
	for i := len(snaps) - 1; i >= 0; i-- {
		s := snaps[i]
		if s.Summary != nil && s.Summary.Operation == table.OpAppend {
			c.rows += s.Summary.Properties.GetInt64("added-records", 0)
		}
		c.to = s.SnapshotID
		if c.rows >= maxRows || boundaries[s.SnapshotID] || i == 0 {
			out = append(out, c)
			id := s.SnapshotID
			c = chunk{from: &id}
		}
	}
	return out, nil
}

// Reading bronze is bound by S3 round trips more than by CPU, so it reads
// more files at once than iceberg-go's default (GOMAXPROCS), in batches
// small enough that the decoder's buffers grow little.
const (
	readConcurrency = 8
	readBatchRows   = 16 << 10
)

// readChunk calls fn for every row of the data files that the append
// snapshots of c added to bronze. Rows are handed out by workers
// goroutines at once, a record batch at a time: fn's first argument names
// the worker, and one worker's calls never overlap.
func readChunk(ctx context.Context, bronze *table.Table, c chunk, workers int, fn func(int, *bronzeRow)) (int64, error) {
	tasks, err := planAppends(ctx, bronze, c)
	if err != nil {
		return 0, fmt.Errorf("plan bronze files up to snapshot %d: %w", c.to, err)
	}
	if len(tasks) == 0 {
		return 0, nil
	}
	_, recs, err := wholeFileReader(bronze, tasks).Scan(table.WithSelectedFields(bronzeColumns...), table.WithSnapshotID(c.to),
		table.WithMaxConcurrency(readConcurrency), table.WithArrowBatchSize(readBatchRows)).ReadTasks(ctx, tasks)
	if err != nil {
		return 0, fmt.Errorf("read bronze files: %w", err)
	}
	batches := make(chan arrow.RecordBatch, workers)
	counts := make([]int64, workers)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var r bronzeRow
			for rec := range batches {
				if errs[w] == nil {
					errs[w] = rowsOf(rec, &r, func(r *bronzeRow) { fn(w, r) })
					counts[w] += rec.NumRows()
				}
				rec.Release()
			}
		}()
	}
	var readErr error
	for rec, err := range recs {
		if err != nil {
			readErr = fmt.Errorf("read bronze files: %w", err)
			break
		}
		batches <- rec
	}
	close(batches)
	wg.Wait()
	var n int64
	for _, c := range counts {
		n += c
	}
	return n, errors.Join(append(errs, readErr)...)
}

// rowsOf calls fn for every row of rec, in r.
func rowsOf(rec arrow.RecordBatch, r *bronzeRow, fn func(*bronzeRow)) error {
	cols, err := bronzeCols(rec)
	if err != nil {
		return err
	}
	for i := 0; i < int(rec.NumRows()); i++ {
		cols.row(i, r)
		fn(r)
	}
	return nil
}

// planAppends lists the data files that the append snapshots of c added,
// as iceberg-go's incremental append scan does (the same snapshots, the
// same manifests, the same entries), but reading the snapshots' manifest
// lists and manifests concurrently: the scan reads one manifest list after
// the other, and a run covers a snapshot for every stream commit since the
// last one (hundreds), so the sequential round trips were most of a small
// run's time. Replace (compaction), overwrite and delete snapshots are
// skipped; any other operation is an error, as in iceberg-go.
func planAppends(ctx context.Context, bronze *table.Table, c chunk) ([]table.FileScanTask, error) {
	var snaps []*table.Snapshot
	for s := bronze.SnapshotByID(c.to); ; {
		if s == nil {
			return nil, fmt.Errorf("snapshot between %s and %d is not in the table's history", ptrStr(c.from), c.to)
		}
		if c.from != nil && s.SnapshotID == *c.from {
			break
		}
		if s.Summary == nil || s.Summary.Operation == "" {
			return nil, fmt.Errorf("snapshot %d has no operation", s.SnapshotID)
		}
		switch s.Summary.Operation {
		case table.OpAppend:
			snaps = append(snaps, s)
		case table.OpReplace, table.OpOverwrite, table.OpDelete:
		default:
			return nil, fmt.Errorf("snapshot %d has operation %q", s.SnapshotID, s.Summary.Operation)
		}
		if s.ParentSnapshotID == nil {
			if c.from != nil {
				return nil, fmt.Errorf("snapshot %d is not an ancestor of %d", *c.from, c.to)
			}
			break
		}
		if c.from != nil && *s.ParentSnapshotID == *c.from {
			break // the start may have expired; its child is still here
		}
		s = bronze.SnapshotByID(*s.ParentSnapshotID)
	}
	if len(snaps) == 0 {
		return nil, nil
	}
	fio, err := bronze.FS(ctx)
	if err != nil {
		return nil, err
	}
	appended := make(map[int64]bool, len(snaps))
	for _, s := range snaps {
		appended[s.SnapshotID] = true
	}
	var (
		mu    sync.Mutex
		seen  = map[string]bool{}
		tasks []table.FileScanTask
	)
	err = forEach(ctx, len(snaps), readConcurrency, func(i int) error {
		s := snaps[i]
		manifests, err := s.Manifests(fio)
		if err != nil {
			return fmt.Errorf("read manifest list of snapshot %d: %w", s.SnapshotID, err)
		}
		for _, m := range manifests {
			// The manifests a snapshot added hold its added entries; the
			// other manifests of its list belong to earlier snapshots.
			if m.ManifestContent() != iceberg.ManifestContentData || m.SnapshotID() != s.SnapshotID {
				continue
			}
			for e, err := range m.Entries(fio, true) {
				if err != nil {
					return fmt.Errorf("read manifest %s: %w", m.FilePath(), err)
				}
				if e.Status() != iceberg.EntryStatusADDED || !appended[e.SnapshotID()] {
					continue
				}
				f := e.DataFile()
				task := table.FileScanTask{File: f, Start: 0, Length: f.FileSizeBytes()}
				if seq := e.SequenceNum(); seq >= 0 {
					task.DataSequenceNumber = &seq
				}
				mu.Lock()
				if !seen[f.FilePath()] {
					seen[f.FilePath()] = true
					tasks = append(tasks, task)
				}
				mu.Unlock()
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(tasks, func(a, b table.FileScanTask) int { return cmp.Compare(a.File.FilePath(), b.File.FilePath()) })
	return tasks, nil
}

// forEach calls fn(0..n-1), at most limit at a time, and returns the first
// error; after an error no further calls start.
func forEach(ctx context.Context, n, limit int, fn func(int) error) error {
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
		slots = make(chan struct{}, limit)
	)
	failed := func() bool { mu.Lock(); defer mu.Unlock(); return first != nil }
	for i := range n {
		if ctx.Err() != nil || failed() {
			break
		}
		slots <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-slots; wg.Done() }()
			if err := fn(i); err != nil {
				mu.Lock()
				if first == nil {
					first = err
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if first != nil {
		return first
	}
	return ctx.Err()
}

// maxWholeFile is the largest bronze data file read with one request.
const maxWholeFile = 32 << 20

// wholeFileReader returns bronze reading its small data files whole.
// iceberg-go's S3 FileIO opens a file with a GET of the whole object that
// it leaves unread (so the connection cannot be reused), then reads the
// footer and every column chunk with range requests of their own: about
// ten requests per file. The stream job writes many small files, so a run
// spends most of its reading time on request round trips; one GET per file
// removes them.
func wholeFileReader(bronze *table.Table, tasks []table.FileScanTask) *table.Table {
	sizes := make(map[string]int64, len(tasks))
	for _, t := range tasks {
		sizes[t.File.FilePath()] = t.File.FileSizeBytes()
	}
	fsF := func(ctx context.Context) (iceio.IO, error) {
		fs, err := bronze.FS(ctx)
		if err != nil {
			return nil, err
		}
		rf, ok := fs.(iceio.ReadFileIO)
		if !ok {
			return fs, nil
		}
		return wholeFileIO{ReadFileIO: rf, sizes: sizes}, nil
	}
	return table.New(bronze.Identifier(), bronze.Metadata(), bronze.MetadataLocation(), fsF, nil)
}

type wholeFileIO struct {
	iceio.ReadFileIO
	sizes map[string]int64
}

func (w wholeFileIO) Open(name string) (iceio.File, error) {
	if size, ok := w.sizes[name]; !ok || size > maxWholeFile {
		return w.ReadFileIO.Open(name)
	}
	data, err := w.ReadFile(name)
	if err != nil {
		return nil, err
	}
	return &memFile{Reader: bytes.NewReader(data), name: path.Base(name)}, nil
}

// memFile is a data file read into memory.
type memFile struct {
	*bytes.Reader
	name string
}

func (f *memFile) Close() error               { return nil }
func (f *memFile) Stat() (fs.FileInfo, error) { return f, nil }
func (f *memFile) Name() string               { return f.name }
func (f *memFile) Mode() fs.FileMode          { return 0o444 }
func (f *memFile) ModTime() time.Time         { return time.Time{} }
func (f *memFile) IsDir() bool                { return false }
func (f *memFile) Sys() any                   { return nil }

type binaryArray interface {
	IsValid(int) bool
	Value(int) []byte
}

type stringArray interface {
	IsValid(int) bool
	Value(int) string
}

type bronzeArrays struct {
	topic      stringArray
	partition  *array.Int32
	offset     *array.Int64
	kafkaTS    *array.Timestamp
	key, value binaryArray
	ingestedAt *array.Timestamp
	eventTS    *array.Timestamp
}

func bronzeCols(rec arrow.RecordBatch) (*bronzeArrays, error) {
	get := func(name string) (arrow.Array, error) {
		idx := rec.Schema().FieldIndices(name)
		if len(idx) == 0 {
			return nil, fmt.Errorf("bronze batch lacks column %s", name)
		}
		return rec.Column(idx[0]), nil
	}
	var (
		b   bronzeArrays
		err error
		a   arrow.Array
		ok  = true
		chk = func(v bool) { ok = ok && v }
	)
	for _, name := range bronzeColumns {
		if a, err = get(name); err != nil {
			return nil, err
		}
		switch name {
		case lakehouse.ColTopic:
			b.topic, _ = a.(stringArray)
			chk(b.topic != nil)
		case lakehouse.ColPartition:
			b.partition, _ = a.(*array.Int32)
			chk(b.partition != nil)
		case lakehouse.ColOffset:
			b.offset, _ = a.(*array.Int64)
			chk(b.offset != nil)
		case lakehouse.ColKafkaTS:
			b.kafkaTS, _ = a.(*array.Timestamp)
			chk(b.kafkaTS != nil)
		case lakehouse.ColKey:
			b.key, _ = a.(binaryArray)
			chk(b.key != nil)
		case lakehouse.ColValue:
			b.value, _ = a.(binaryArray)
			chk(b.value != nil)
		case lakehouse.ColIngestedAt:
			b.ingestedAt, _ = a.(*array.Timestamp)
			chk(b.ingestedAt != nil)
		case lakehouse.ColEventTS:
			b.eventTS, _ = a.(*array.Timestamp)
			chk(b.eventTS != nil)
		}
		if !ok {
			return nil, fmt.Errorf("bronze column %s has unexpected type %s", name, a.DataType())
		}
	}
	return &b, nil
}

func (b *bronzeArrays) row(i int, r *bronzeRow) {
	// The topic is kept by every row: one copy per run of equal topics,
	// owned (not aliasing the batch) and cheap to compare.
	if t := b.topic.Value(i); t != r.topic {
		r.topic = strings.Clone(t)
	}
	r.partition = b.partition.Value(i)
	r.offset = b.offset.Value(i)
	r.kafkaTS = tsOrNull(b.kafkaTS, i)
	r.ingestedAt = tsOrNull(b.ingestedAt, i)
	r.eventTS = tsOrNull(b.eventTS, i)
	r.key = nil
	if b.key.IsValid(i) {
		r.key = b.key.Value(i)
		if r.key == nil {
			r.key = []byte{}
		}
	}
	r.nullValue = !b.value.IsValid(i)
	r.value = nil
	if !r.nullValue {
		r.value = b.value.Value(i)
	}
}

func tsOrNull(a *array.Timestamp, i int) int64 {
	if !a.IsValid(i) {
		return noTime
	}
	return int64(a.Value(i))
}
