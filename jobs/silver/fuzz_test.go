package silver

import (
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"weir/events"
	"weir/lakehouse"
)

// FuzzAccounting: every bronze record of an event source becomes exactly
// one silver row or one reject (silver + rejects = bronze), and the record
// batches written for either never hold a null in a required column.
func FuzzAccounting(f *testing.F) {
	now := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	line := events.AccessLog{ClientIP: "10.0.0.1", Time: now, Method: "GET", Path: "/a.jar", Protocol: "HTTP/1.1",
		Status: 200, Bytes: 10, Referrer: "-", UserAgent: "curl", RequestTimeMs: events.NoRequestTime}
	f.Add(uint8(0), line.AppendLine(nil))
	for _, cut := range []int{60, 70, 75, 80, 85, 90} {
		f.Add(uint8(0), line.AppendLine(nil)[:cut])
	}
	ev := events.AppEvent{EventID: "e", ActionID: "a", TS: now, Service: "s", Type: events.TypeBuy, Status: events.StatusOK}
	f.Add(uint8(1), ev.AppendJSON(nil))
	f.Add(uint8(2), []byte(`{"ts":"2026-03-02T12:00:00Z","level":"info","service":"s","message":"m"}`))
	f.Add(uint8(3), []byte(`{"ts":"2026-03-02T12:00:00Z","host":"h"}`))
	f.Add(uint8(0), []byte{})
	f.Add(uint8(1), []byte("\xff"))
	sources := []string{SourceWebAccess, SourceAppEvents, SourceAppLogs, SourceMetrics}
	schemas := map[string]*arrow.Schema{}
	for _, table := range []string{lakehouse.SilverAccessLogs, lakehouse.SilverEvents, lakehouse.SilverLogs, lakehouse.SilverMetrics, lakehouse.SilverRejects} {
		sc, err := lakehouse.SilverArrowSchema(table)
		if err != nil {
			f.Fatal(err)
		}
		schemas[table] = sc
	}
	f.Fuzz(func(t *testing.T, which uint8, value []byte) {
		source := sources[int(which)%len(sources)]
		conv := newConverter(source)
		rejects := &rejectRows{at: now.UnixMicro()}
		r := &bronzeRow{topic: source, offset: 1, kafkaTS: now.UnixMicro(), ingestedAt: now.UnixMicro(), eventTS: noTime, value: value}
		if err := conv.add(r, events.DefaultMaxFuture); err != nil {
			rejects.add(r, err)
		}
		if got := conv.len() + len(rejects.rows); got != 1 {
			t.Fatalf("%s: %d silver rows + %d rejects for one bronze record", source, conv.len(), len(rejects.rows))
		}
		for rec, err := range conv.batches(schemas[mainTable(source)], &dimLookup{}, 0, 1) {
			if err != nil {
				t.Fatal(err)
			}
			checkRequired(t, rec)
			rec.Release()
		}
		for rec, err := range rejects.batches(schemas[lakehouse.SilverRejects]) {
			if err != nil {
				t.Fatal(err)
			}
			checkRequired(t, rec)
			rec.Release()
		}
	})
}

func checkRequired(t *testing.T, rec arrow.RecordBatch) {
	t.Helper()
	for i, fld := range rec.Schema().Fields() {
		if !fld.Nullable && rec.Column(i).NullN() > 0 {
			t.Fatalf("required column %s holds a null", fld.Name)
		}
	}
}
