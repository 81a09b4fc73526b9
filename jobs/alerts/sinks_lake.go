package alerts

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/iceberg-go/table"

	"weir/kafkaio"
	"weir/lakehouse"
)

// kafkaSink produces every notification as JSON to the alerts topic, keyed
// by fingerprint. A crash between the produce and the cursor update can
// repeat a notification in the topic; it carries the same id, which is what
// consumers dedupe on.
type kafkaSink struct {
	topic string
	p     *kafkaio.Producer
}

func (s *kafkaSink) name() string                   { return "kafka" }
func (s *kafkaSink) tick(ctx context.Context) error { return nil }

// outMessage is a notification as published (topic and table): it adds the
// outbox sequence number.
type outMessage struct {
	Seq int64 `json:"seq"`
	Notification
}

func (s *kafkaSink) deliver(ctx context.Context, rows []Stored) error {
	for _, r := range rows {
		raw, err := json.Marshal(outMessage(r))
		if err != nil {
			return fmt.Errorf("encode notification %s: %w", r.ID, err)
		}
		if err := s.p.Produce(ctx, s.topic, []byte(r.Fingerprint), raw); err != nil {
			return err
		}
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	return s.p.Flush(ctx)
}

// Iceberg delivery.

// AlertsTable is the Iceberg table of notifications (declared with the
// project's other tables in lakehouse.Tables).
const AlertsTable = lakehouse.SilverAlerts

// SummaryLastSeq is the snapshot-summary key holding the last outbox
// sequence number a silver.alerts commit contains (per job), which makes
// appends idempotent: rows at or below it are never appended again.
func SummaryLastSeq(job string) string { return "weir.alerts." + job + ".last-seq" }

// icebergSink appends notifications to silver.alerts through lakehouse.Commit.
type icebergSink struct {
	lake *lakehouse.Lakehouse
	job  string
	now  func() time.Time
}

func (s *icebergSink) name() string                   { return "iceberg" }
func (s *icebergSink) tick(ctx context.Context) error { return nil }

// committedSeq is the last outbox sequence number the table holds for job.
func committedSeq(tbl *table.Table, job string) int64 {
	key := SummaryLastSeq(job)
	for snap := range lakehouse.Ancestors(tbl) {
		if snap.Summary == nil {
			continue
		}
		if v, ok := snap.Summary.Properties[key]; ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			return n
		}
	}
	return 0
}

func (s *icebergSink) deliver(ctx context.Context, rows []Stored) error {
	last := rows[len(rows)-1].Seq
	emitted := s.now()
	build := func(ctx context.Context, a *lakehouse.Attempt) error {
		done := committedSeq(a.Table, s.job)
		var todo []Stored
		for _, r := range rows {
			if r.Seq > done {
				todo = append(todo, r)
			}
		}
		if len(todo) == 0 {
			return lakehouse.ErrNothingToCommit
		}
		sc, err := table.SchemaToArrowSchema(a.Table.Schema(), nil, true, false)
		if err != nil {
			return fmt.Errorf("convert silver.alerts schema: %w", err)
		}
		rec, err := alertsRecord(sc, s.job, todo, emitted)
		if err != nil {
			return err
		}
		defer rec.Release()
		tbl := array.NewTableFromRecords(sc, []arrow.RecordBatch{rec})
		defer tbl.Release()
		return a.Tx.AppendTable(ctx, tbl, int64(len(todo)), a.Summary)
	}
	ctx = context.WithoutCancel(ctx) // a cancelled commit leaves its outcome unknown
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	_, err := s.lake.Commit(ctx, lakehouse.Ident(AlertsTable), build, lakehouse.CommitOptions{
		CommitID: fmt.Sprintf("alerts-%s-%d-%d", s.job, rows[0].Seq, last),
		Summary:  map[string]string{SummaryLastSeq(s.job): strconv.FormatInt(last, 10)},
		Create:   lakehouse.AlertsTableSpec(),
	})
	if err != nil && !errors.Is(err, lakehouse.ErrNothingToCommit) {
		return fmt.Errorf("commit %s: %w", AlertsTable, err)
	}
	return nil
}

func alertsRecord(sc *arrow.Schema, job string, rows []Stored, emitted time.Time) (arrow.RecordBatch, error) {
	b := array.NewRecordBuilder(memory.DefaultAllocator, sc)
	defer b.Release()
	ts := func(t time.Time) arrow.Timestamp { return arrow.Timestamp(t.UnixMicro()) }
	js := func(v any) string {
		raw, _ := json.Marshal(v)
		return string(raw)
	}
	for i, f := range sc.Fields() {
		fb := b.Field(i)
		for _, r := range rows {
			n := r.Notification
			switch f.Name {
			case "job":
				fb.(*array.StringBuilder).Append(job)
			case "seq":
				fb.(*array.Int64Builder).Append(r.Seq)
			case "id":
				fb.(*array.StringBuilder).Append(n.ID)
			case "fingerprint":
				fb.(*array.StringBuilder).Append(n.Fingerprint)
			case "rule":
				fb.(*array.StringBuilder).Append(n.Rule)
			case "status":
				fb.(*array.StringBuilder).Append(n.Status)
			case "severity":
				fb.(*array.StringBuilder).Append(n.Severity)
			case "labels":
				fb.(*array.StringBuilder).Append(js(n.Labels))
			case "annotations":
				fb.(*array.StringBuilder).Append(js(n.Annotations))
			case "values":
				fb.(*array.StringBuilder).Append(js(n.Values))
			case "starts_at":
				fb.(*array.TimestampBuilder).Append(ts(n.StartsAt))
			case "ends_at":
				if n.EndsAt.IsZero() {
					fb.AppendNull()
				} else {
					fb.(*array.TimestampBuilder).Append(ts(n.EndsAt))
				}
			case "window_start":
				fb.(*array.TimestampBuilder).Append(ts(n.WindowStart))
			case "window_end":
				fb.(*array.TimestampBuilder).Append(ts(n.WindowEnd))
			case "emitted_at":
				fb.(*array.TimestampBuilder).Append(ts(emitted))
			default:
				fb.AppendNull() // a column someone added later
			}
		}
	}
	return b.NewRecordBatch(), nil
}
