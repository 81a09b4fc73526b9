package maintain

import (
	"context"
	"fmt"
	"maps"
	"time"

	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"

	"weir/lakehouse"
)

// retain deletes the bronze data files that are past the retention window
// and that silver has consumed (the package contract): a file goes when its
// day partition (ingested_at) ends before now - BronzeRetention and its
// data sequence number is at most that of the oldest position any silver
// table records for the table, so every row of it was appended at or
// before that position. A table no silver table reads (the dead letters,
// a topic silver has not built yet) keeps everything. The delete is an
// overwrite snapshot, which silver's incremental read skips; the files
// themselves go with orphan removal once expiry has dropped the snapshots
// that reference them.
func (j *Job) retain(ctx context.Context, name string, rep *TableReport) error {
	if j.cfg.BronzeRetention <= 0 {
		return nil
	}
	consumers, err := j.consumerPositions(ctx, name)
	if err != nil || len(consumers) == 0 {
		return err
	}
	cutoff := j.cfg.Now().Add(-j.cfg.BronzeRetention)
	cutoffDay := cutoff.Unix() / 86400 // partitions of days before this one end before the cutoff
	var doomed []iceberg.DataFile
	var rows int64
	_, err = j.lake.Commit(ctx, lakehouse.Ident(name), func(ctx context.Context, a *lakehouse.Attempt) error {
		consumed, ok := consumedSequence(a.Table, consumers)
		if !ok {
			j.cfg.Log.Warn("bronze retention: a silver position is not in the table's history; nothing deleted", "table", name)
			return lakehouse.ErrNothingToCommit
		}
		doomed, rows = doomed[:0], 0
		err := liveEntries(ctx, a.Table, func(e iceberg.ManifestEntry) {
			f := e.DataFile()
			if day, ok := partitionDay(f, lakehouse.BronzeDayPartitionField); ok && day < cutoffDay && e.SequenceNum() <= consumed {
				doomed = append(doomed, f)
				rows += f.Count()
			}
		})
		if err != nil {
			return err
		}
		if len(doomed) == 0 {
			return lakehouse.ErrNothingToCommit
		}
		props := maps.Clone(a.Summary)
		props[SummaryMaintain] = OpRetain
		return a.Tx.ReplaceDataFilesWithDataFiles(ctx, doomed, nil, props)
	}, lakehouse.CommitOptions{MaxAttempts: 20})
	if err != nil {
		return fmt.Errorf("bronze retention: %w", err)
	}
	rep.RetentionDeletedFiles, rep.RetentionDeletedRows = len(doomed), rows
	if len(doomed) > 0 {
		j.cfg.Log.Info("bronze retention", "table", name, "before", cutoff.UTC().Format(time.DateOnly), "files", len(doomed), "rows", rows)
	}
	return nil
}

// consumedSequence is the sequence number of the oldest of the consumer
// positions (snapshot ids); ok is false when one is not in the metadata.
func consumedSequence(tbl *table.Table, positions []int64) (seq int64, ok bool) {
	for i, id := range positions {
		snap := tbl.Metadata().SnapshotByID(id)
		if snap == nil {
			return 0, false
		}
		if i == 0 || snap.SequenceNumber < seq {
			seq = snap.SequenceNumber
		}
	}
	return seq, len(positions) > 0
}

// liveEntries calls fn with every live data-file entry of the current
// snapshot.
func liveEntries(ctx context.Context, tbl *table.Table, fn func(iceberg.ManifestEntry)) error {
	snap := tbl.CurrentSnapshot()
	if snap == nil {
		return nil
	}
	fs, err := tbl.FS(ctx)
	if err != nil {
		return err
	}
	manifests, err := snap.Manifests(fs)
	if err != nil {
		return fmt.Errorf("read manifest list: %w", err)
	}
	for _, m := range manifests {
		if m.ManifestContent() != iceberg.ManifestContentData {
			continue
		}
		for e, err := range m.Entries(fs, true) {
			if err != nil {
				return fmt.Errorf("read manifest %s: %w", m.FilePath(), err)
			}
			fn(e)
		}
	}
	return nil
}

// partitionDay is a file's day-transform partition value (days since the
// epoch).
func partitionDay(f iceberg.DataFile, fieldID int) (int64, bool) {
	switch v := f.Partition()[fieldID].(type) {
	case int32:
		return int64(v), true
	case int64:
		return v, true
	case iceberg.Date:
		return int64(v), true
	}
	return 0, false
}
